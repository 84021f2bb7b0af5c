#include "model/tokenizer/detokenizer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/model/tokenizer/vocab_builder.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::model::testing::ByteLevel;
using ::shoal::model::testing::VocabBuilder;

std::string Clean(std::string text) {
  CleanUpSpaces(&text);
  return text;
}

TEST(CleanUpSpacesTest, DropsSpacesBeforePunctuation) {
  EXPECT_EQ(Clean("Hello , world !"), "Hello, world!");
  EXPECT_EQ(Clean("What ? Really . Yes"), "What? Really. Yes");
  EXPECT_EQ(Clean(" ."), ".");
  EXPECT_EQ(Clean("a  ,"), "a ,");
}

TEST(CleanUpSpacesTest, JoinsALoneApostrophe) {
  EXPECT_EQ(Clean("a ' b"), "a'b");
  // The space the first match consumed no longer counts for the next apostrophe.
  EXPECT_EQ(Clean("x ' ' y"), "x'' y");
}

TEST(CleanUpSpacesTest, AttachesSomeContractions) {
  EXPECT_EQ(Clean("it 's we 're they 've I 'm"), "it's we're they've I'm");
  EXPECT_EQ(Clean("don 't he 'll she 'd"), "don 't he 'll she 'd");
  EXPECT_EQ(Clean("word 's"), "word's");
  EXPECT_EQ(Clean("end '"), "end '");
}

TEST(CleanUpSpacesTest, HandlesShortTexts) {
  EXPECT_EQ(Clean(""), "");
  EXPECT_EQ(Clean(" "), " ");
  EXPECT_EQ(Clean("?"), "?");
}

class DetokenizeTest : public ::testing::Test {
 protected:
  // <unk> <s> </s> "▁hello" "▁world" "<ctrl>" "<ud>"
  void SetUp() override {
    VocabBuilder b("llama");
    b.Token("<unk>", TokenType::kUnknown).Control("<s>").Control("</s>");
    b.Token("\xE2\x96\x81hello").Token("\xE2\x96\x81world").Control("<ctrl>").UserDefined("<ud>");
    b.spec().add_eos = true;
    auto vocab = Vocab::Create(b.spec());
    ASSERT_OK(vocab.status());
    vocab_ = *std::move(vocab);
  }
  std::string Detok(std::vector<int32_t> ids, bool remove_special, bool unparse_special) {
    return Detokenize(*vocab_, ids, remove_special, unparse_special);
  }
  std::unique_ptr<Vocab> vocab_;
};

TEST_F(DetokenizeTest, StripsTheLeadingSpaceOfTheFirstPieceWithSpacePrefix) {
  EXPECT_EQ(Detok({3, 4}, false, false), "hello world");
  // A BOS removed with remove_special keeps the space, as in llama.cpp.
  EXPECT_EQ(Detok({1, 3, 4}, true, false), " hello world");
  // A control token that renders as nothing still counts as the first piece.
  EXPECT_EQ(Detok({5, 3}, false, false), " hello");
}

TEST_F(DetokenizeTest, RemovesOnlyTheAddedBosAndEos) {
  EXPECT_EQ(Detok({1, 3, 2}, true, true), " hello");
  EXPECT_EQ(Detok({1, 3, 2}, false, true), "<s> hello</s>");
  EXPECT_EQ(Detok({3, 1, 2, 2}, true, true), "hello<s></s>");
}

TEST_F(DetokenizeTest, RendersControlTokensOnlyWhenAskedButUserDefinedAlways) {
  EXPECT_EQ(Detok({3, 5, 6, 0}, false, false), "hello<ud>");
  EXPECT_EQ(Detok({3, 5, 6, 0}, false, true), "hello<ctrl><ud><unk>");
  EXPECT_EQ(TokenPiece(*vocab_, 5, false), "");
  EXPECT_EQ(TokenPiece(*vocab_, 5, true), "<ctrl>");
}

TEST(DetokenizeBpeTest, CleansSpacesExceptForQwen2) {
  for (const char* pre : {"llama-bpe", "qwen2"}) {
    VocabBuilder b("gpt2", pre);
    b.ByteAlphabet().Token(ByteLevel("it")).Token(ByteLevel(" 's")).Token(ByteLevel(" ?"));
    b.spec().add_bos = false;
    auto vocab = Vocab::Create(b.spec());
    ASSERT_OK(vocab.status());
    const std::vector<int32_t> ids = {256, 257, 258};
    EXPECT_EQ(Detokenize(**vocab, ids, false, false),
              std::string(pre) == "qwen2" ? "it 's ?" : "it's?");
  }
}

}  // namespace
}  // namespace shoal::model
