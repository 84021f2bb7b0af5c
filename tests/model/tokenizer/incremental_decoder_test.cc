#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/model/tokenizer/vocab_builder.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::model::testing::VocabBuilder;
using ::shoal::testing::StatusIs;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

class IncrementalDecoderTest : public ::testing::Test {
 protected:
  // <unk> <s> </s> <0x00>..<0xFF> (3..258) "▁hi" (259) "<ctrl>" (260)
  void SetUp() override {
    VocabBuilder b("llama");
    b.Token("<unk>", TokenType::kUnknown).Control("<s>").Control("</s>").ByteTokens();
    b.Token("\xE2\x96\x81hi").Control("<ctrl>");
    tokenizer_ = b.Build();
    ASSERT_NE(tokenizer_, nullptr);
  }
  static int32_t Byte(int byte) { return 3 + byte; }

  // Feeds `ids` one at a time; returns what each call emitted.
  std::vector<std::string> Stream(IncrementalDecoder& decoder, std::vector<int32_t> ids) {
    std::vector<std::string> emitted;
    for (int32_t id : ids) {
      std::string out;
      EXPECT_OK(decoder.Append(id, &out));
      emitted.push_back(out);
    }
    return emitted;
  }

  std::unique_ptr<Tokenizer> tokenizer_;
};

TEST_F(IncrementalDecoderTest, HoldsBackACharacterSplitAcrossTokens) {
  IncrementalDecoder decoder(*tokenizer_);
  EXPECT_THAT(Stream(decoder, {259, Byte(0xE2), Byte(0x82), Byte(0xAC), 259}),
              ::testing::ElementsAre(" hi", "", "", "\xE2\x82\xAC", " hi"));
  EXPECT_EQ(decoder.pending_bytes(), 0u);
}

TEST_F(IncrementalDecoderTest, ReplacesBytesThatCanNeverBeValid) {
  IncrementalDecoder decoder(*tokenizer_);
  EXPECT_THAT(Stream(decoder, {Byte(0xFF), Byte('a'), Byte(0xE2), Byte('b')}),
              ::testing::ElementsAre(kReplacement, "a", "", std::string(kReplacement) + "b"));
}

TEST_F(IncrementalDecoderTest, FinishFlushesAnIncompleteCharacterAsReplacement) {
  IncrementalDecoder decoder(*tokenizer_);
  std::string out;
  ASSERT_OK(decoder.Append(Byte(0xF0), &out));
  ASSERT_OK(decoder.Append(Byte(0x9F), &out));
  EXPECT_EQ(out, "");
  EXPECT_EQ(decoder.pending_bytes(), 2u);
  decoder.Finish(&out);
  EXPECT_EQ(out, kReplacement);
  EXPECT_EQ(decoder.pending_bytes(), 0u);
  ASSERT_OK(decoder.Append(259, &out));  // usable again
  EXPECT_EQ(out, std::string(kReplacement) + " hi");
}

TEST_F(IncrementalDecoderTest, RendersControlTokensOnlyWhenAsked) {
  IncrementalDecoder plain(*tokenizer_);
  EXPECT_THAT(Stream(plain, {260, 259}), ::testing::ElementsAre("", " hi"));
  IncrementalDecoder special(*tokenizer_, /*special=*/true);
  EXPECT_THAT(Stream(special, {260, 259}), ::testing::ElementsAre("<ctrl>", " hi"));
}

TEST_F(IncrementalDecoderTest, RejectsIdsOutOfRange) {
  IncrementalDecoder decoder(*tokenizer_);
  std::string out;
  EXPECT_THAT(decoder.Append(261, &out),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("261")));
  EXPECT_THAT(decoder.Append(-1, &out), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST_F(IncrementalDecoderTest, ConcatenatesToThePiecesWhenTheyAreValidUtf8) {
  const std::string text = "h\xC3\xA9llo \xF0\x9F\x98\x80 w\xE2\x82\xACrld";
  std::vector<int32_t> ids;
  for (char c : text) ids.push_back(Byte(static_cast<uint8_t>(c)));
  IncrementalDecoder decoder(*tokenizer_);
  std::string streamed;
  for (const std::string& piece : Stream(decoder, ids)) streamed += piece;
  decoder.Finish(&streamed);
  EXPECT_EQ(streamed, text);
}

}  // namespace
}  // namespace shoal::model
