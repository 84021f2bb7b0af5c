#include "model/tokenizer/tokenizer.h"

#include <thread>
#include <vector>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/model/tokenizer/vocab_builder.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::model::testing::ByteLevel;
using ::shoal::model::testing::VocabBuilder;
using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A ChatML-style byte-level BPE vocabulary: the alphabet (0..255), merges for "hello"
// and " world", then <|endoftext|> <|im_start|> <|im_end|> and <think>.
class TokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VocabBuilder b("gpt2", "qwen2");
    b.ByteAlphabet().Merge("h", "e").Merge("l", "l").Merge("he", "ll").Merge("hell", "o");
    b.Merge(ByteLevel(" "), "w").Merge("o", "r").Merge(ByteLevel(" w"), "or").Merge("l", "d");
    b.Merge(ByteLevel(" wor"), "ld");
    b.Control("<|endoftext|>").Control("<|im_start|>").Control("<|im_end|>").UserDefined("<think>");
    b.spec().eos_id = b.Id("<|im_end|>");
    b.spec().bos_id = b.Id("<|endoftext|>");
    hello_ = b.Id("hello");
    world_ = b.Id(ByteLevel(" world"));
    endoftext_ = b.Id("<|endoftext|>");
    im_start_ = b.Id("<|im_start|>");
    im_end_ = b.Id("<|im_end|>");
    think_ = b.Id("<think>");
    tokenizer_ = b.Build();
    ASSERT_NE(tokenizer_, nullptr);
  }

  std::unique_ptr<Tokenizer> tokenizer_;
  int32_t hello_, world_, endoftext_, im_start_, im_end_, think_;
};

TEST_F(TokenizerTest, EncodesAndDecodes) {
  const std::vector<int32_t> ids = tokenizer_->Encode("hello world");
  EXPECT_THAT(ids, ElementsAre(hello_, world_));
  ASSERT_OK_AND_ASSIGN(std::string text, tokenizer_->Decode(ids));
  EXPECT_EQ(text, "hello world");
}

TEST_F(TokenizerTest, ParsesControlTokensOnlyWhenAsked) {
  const std::string chat = "<|im_start|>hello<|im_end|>";
  EXPECT_THAT(tokenizer_->Encode(chat, {.parse_special = true}),
              ElementsAre(im_start_, hello_, im_end_));
  const std::vector<int32_t> as_text = tokenizer_->Encode(chat);
  EXPECT_GT(as_text.size(), 3u);
  ASSERT_OK_AND_ASSIGN(std::string round_trip, tokenizer_->Decode(as_text));
  EXPECT_EQ(round_trip, chat);
  // <think> is USER_DEFINED: always a token.
  EXPECT_THAT(tokenizer_->Encode("<think>hello"), ElementsAre(think_, hello_));
}

TEST_F(TokenizerTest, DecodeRendersControlTokensOnlyWhenAsked) {
  const std::vector<int32_t> ids = {im_start_, hello_, im_end_};
  ASSERT_OK_AND_ASSIGN(std::string plain, tokenizer_->Decode(ids));
  EXPECT_EQ(plain, "hello");
  ASSERT_OK_AND_ASSIGN(std::string special, tokenizer_->Decode(ids, {.unparse_special = true}));
  EXPECT_EQ(special, "<|im_start|>hello<|im_end|>");
}

TEST_F(TokenizerTest, RejectsIdsOutOfRange) {
  const int32_t size = tokenizer_->vocab_size();
  EXPECT_THAT(tokenizer_->Decode(std::vector<int32_t>{hello_, size}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(fmt::format("token id {} is out of range", size))));
  EXPECT_THAT(tokenizer_->Decode(std::vector<int32_t>{-5}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("-5")));
  EXPECT_THAT(tokenizer_->TokenToPiece(size, true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out of range")));
  EXPECT_THAT(tokenizer_->TokenText(-1),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_FALSE(tokenizer_->IsValid(size));
  EXPECT_FALSE(tokenizer_->IsControl(size));
}

TEST_F(TokenizerTest, ExposesVocabularyFacts) {
  EXPECT_EQ(tokenizer_->bos_id(), endoftext_);
  EXPECT_EQ(tokenizer_->eos_id(), im_end_);
  EXPECT_FALSE(tokenizer_->add_bos());  // qwen2
  ASSERT_OK_AND_ASSIGN(std::string_view text, tokenizer_->TokenText(world_));
  EXPECT_EQ(text, ByteLevel(" world"));
  ASSERT_OK_AND_ASSIGN(std::string_view piece, tokenizer_->TokenToPiece(world_, false));
  EXPECT_EQ(piece, " world");
  EXPECT_EQ(tokenizer_->FindToken("<|im_end|>"), im_end_);
  EXPECT_EQ(tokenizer_->FindToken("nope"), kNoToken);
  EXPECT_TRUE(tokenizer_->IsEog(im_end_));
  EXPECT_TRUE(tokenizer_->IsEog(endoftext_));  // by its text, as llama.cpp
  EXPECT_FALSE(tokenizer_->IsEog(hello_));
  EXPECT_TRUE(tokenizer_->IsControl(im_start_));
  EXPECT_FALSE(tokenizer_->IsControl(think_));
}

TEST_F(TokenizerTest, EncodesArbitraryBytesWithoutFailing) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(255 - i));
  const std::vector<int32_t> ids = tokenizer_->Encode(bytes);
  EXPECT_FALSE(ids.empty());
  EXPECT_OK(tokenizer_->Decode(ids));
}

TEST_F(TokenizerTest, IsSafeToUseFromManyThreads) {
  const std::string text = "<|im_start|>hello world<|im_end|> \xF0\x9F\x98\x80 hello";
  const std::vector<int32_t> expected = tokenizer_->Encode(text, {.parse_special = true});
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (tokenizer_->Encode(text, {.parse_special = true}) != expected) ++mismatches[t];
        if (!tokenizer_->Decode(expected).ok()) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ::testing::Each(0));
}

}  // namespace
}  // namespace shoal::model
