#include "model/tokenizer/bpe_encoder.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/model/tokenizer/vocab_builder.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::model::testing::ByteLevel;
using ::shoal::model::testing::VocabBuilder;
using ::testing::ElementsAre;

// The byte alphabet is ids 0..255 in byte order.
constexpr int32_t Char(int byte) { return byte; }

std::vector<int32_t> Encode(VocabBuilder& b, std::string_view text) {
  auto vocab = Vocab::Create(b.spec());
  EXPECT_OK(vocab.status());
  std::vector<int32_t> ids;
  BpeEncoder(**vocab).Encode(text, &ids);
  return ids;
}

TEST(BpeEncoderTest, MergesByRank) {
  VocabBuilder b("gpt2", "qwen2");
  b.ByteAlphabet().Merge("b", "c").Merge("a", "b");
  EXPECT_THAT(Encode(b, "abc"), ElementsAre(Char('a'), b.Id("bc")));
  VocabBuilder other("gpt2", "qwen2");
  other.ByteAlphabet().Merge("a", "b").Merge("b", "c");
  EXPECT_THAT(Encode(other, "abc"), ElementsAre(other.Id("ab"), Char('c')));
}

TEST(BpeEncoderTest, MergesWithinWordsOnly) {
  VocabBuilder b("gpt2", "qwen2");
  b.ByteAlphabet().Merge("a", ByteLevel(" ")).Merge(ByteLevel(" "), "b");
  EXPECT_THAT(Encode(b, "a b"), ElementsAre(Char('a'), b.Id(ByteLevel(" b"))));
}

TEST(BpeEncoderTest, Llama3TakesWholeWordsThatAreTokens) {
  VocabBuilder llama3("gpt2", "llama-bpe");
  llama3.ByteAlphabet().Token("abc");
  EXPECT_THAT(Encode(llama3, "abc"), ElementsAre(llama3.Id("abc")));
  VocabBuilder qwen2("gpt2", "qwen2");
  qwen2.ByteAlphabet().Token("abc");
  EXPECT_THAT(Encode(qwen2, "abc"), ElementsAre(Char('a'), Char('b'), Char('c')));
}

TEST(BpeEncoderTest, SymbolsThatAreNoTokenFallBackToOneByteTokens) {
  VocabBuilder b("gpt2", "qwen2");
  b.ByteAlphabet();
  b.spec().merges.push_back("a b");  // its result "ab" is not a token
  EXPECT_THAT(Encode(b, "ab"), ElementsAre(Char('a'), Char('b')));
}

TEST(BpeEncoderTest, ReadsInvalidUtf8AsReplacementCharacters) {
  VocabBuilder b("gpt2", "qwen2");
  b.ByteAlphabet();
  // U+FFFD is EF BF BD, each byte one token of the alphabet.
  EXPECT_THAT(Encode(b, "\xFF"), ElementsAre(Char(0xEF), Char(0xBF), Char(0xBD)));
  EXPECT_THAT(Encode(b, "\xC0\x80"), ElementsAre(Char(0x00)));  // overlong NUL, as llama.cpp
}

TEST(BpeEncoderTest, TokenizerSplitsOnSpecialTokensAndAddsBos) {
  VocabBuilder b("gpt2", "llama-bpe");
  b.ByteAlphabet().Control("<|begin|>").UserDefined("<think>");
  b.spec().bos_id = 256;
  auto tokenizer = b.Build();
  EXPECT_THAT(tokenizer->Encode("a<think>b"), ElementsAre(256, Char('a'), 257, Char('b')));
  EXPECT_THAT(tokenizer->Encode("<|begin|>", {.add_special = false, .parse_special = true}),
              ElementsAre(256));
  EXPECT_EQ(tokenizer->Encode("<|begin|>", {.add_special = false}).size(), 9u);
}

}  // namespace
}  // namespace shoal::model
