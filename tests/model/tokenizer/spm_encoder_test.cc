#include "model/tokenizer/spm_encoder.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/model/tokenizer/vocab_builder.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::model::testing::VocabBuilder;
using ::testing::ElementsAre;

constexpr std::string_view kSpace = "\xE2\x96\x81";  // ▁

// <unk> <s> </s>, the byte tokens (ids 3..258), then `pieces` from id 259 on.
VocabBuilder WithPieces(std::vector<std::pair<std::string, float>> pieces) {
  VocabBuilder b("llama");
  b.Token("<unk>", TokenType::kUnknown).Control("<s>").Control("</s>").ByteTokens();
  for (const auto& [text, score] : pieces) b.Token(text, TokenType::kNormal, score);
  return b;
}

constexpr int32_t Byte(int byte) { return 3 + byte; }

std::vector<int32_t> Encode(VocabBuilder& b, std::string_view escaped) {
  auto vocab = Vocab::Create(b.spec());
  EXPECT_OK(vocab.status());
  std::vector<int32_t> ids;
  EncodeSpm(**vocab, escaped, &ids);
  return ids;
}

TEST(SpmEncoderTest, MergesTheHighestScoringPairFirst) {
  VocabBuilder bc_first = WithPieces({{"a", -1}, {"b", -1}, {"c", -1}, {"ab", -3}, {"bc", -2}});
  EXPECT_THAT(Encode(bc_first, "abc"), ElementsAre(bc_first.Id("a"), bc_first.Id("bc")));
  VocabBuilder ab_first = WithPieces({{"a", -1}, {"b", -1}, {"c", -1}, {"ab", -2}, {"bc", -3}});
  EXPECT_THAT(Encode(ab_first, "abc"), ElementsAre(ab_first.Id("ab"), ab_first.Id("c")));
}

TEST(SpmEncoderTest, BreaksTiesToTheLeft) {
  VocabBuilder b = WithPieces({{"a", -1}, {"aa", -2}});
  EXPECT_THAT(Encode(b, "aaa"), ElementsAre(b.Id("aa"), b.Id("a")));
}

TEST(SpmEncoderTest, MergesOnlyThroughExistingTokens) {
  // "abc" is a token, but neither "ab" nor "bc" is: no path reaches it.
  VocabBuilder b = WithPieces({{"a", -1}, {"b", -1}, {"c", -1}, {"abc", 0}});
  EXPECT_THAT(Encode(b, "abc"), ElementsAre(b.Id("a"), b.Id("b"), b.Id("c")));
}

TEST(SpmEncoderTest, FallsBackToByteTokens) {
  VocabBuilder b = WithPieces({{"a", -1}});
  EXPECT_THAT(Encode(b, "a\xC3\xA9"), ElementsAre(b.Id("a"), Byte(0xC3), Byte(0xA9)));
  EXPECT_THAT(Encode(b, "\xFF"), ElementsAre(Byte(0xFF)));
}

TEST(SpmEncoderTest, ABadLeadByteSwallowsTheFollowingBytes) {
  // llama.cpp cuts characters by the lead byte's announced length, so 0xF0 takes the
  // next three bytes with it even though "a" is a token.
  VocabBuilder b = WithPieces({{"a", -1}, {"b", -1}});
  EXPECT_THAT(Encode(b,
                     "\xF0"
                     "abab"),
              ElementsAre(Byte(0xF0), Byte('a'), Byte('b'), Byte('a'), b.Id("b")));
}

TEST(SpmEncoderTest, EmptyTextGivesNothing) {
  VocabBuilder b = WithPieces({{"a", -1}});
  EXPECT_TRUE(Encode(b, "").empty());
}

TEST(SpmEncoderTest, TokenizerEscapesSpacesAndAddsThePrefixAfterSpecialTokens) {
  VocabBuilder b = WithPieces({{std::string(kSpace) + "hi", -1},
                               {std::string(kSpace) + "h", -2},
                               {"h", -3},
                               {"i", -3},
                               {"hi", -4},
                               {std::string(kSpace), -5}});
  b.spec().add_bos = false;
  const int32_t space_hi = b.Id(std::string(kSpace) + "hi");
  auto with_prefix = b.Build();
  EXPECT_THAT(with_prefix->Encode("hi"), ElementsAre(space_hi));
  EXPECT_THAT(with_prefix->Encode("hi<s>hi", {.parse_special = true}),
              ElementsAre(space_hi, 1, space_hi));
  EXPECT_THAT(with_prefix->Encode("", {}), ElementsAre());

  b.spec().add_space_prefix = false;
  auto without = b.Build();
  EXPECT_THAT(without->Encode("hi hi"), ElementsAre(b.Id("hi"), space_hi));
}

TEST(SpmEncoderTest, AddsBosAndEosWhenAsked) {
  VocabBuilder b = WithPieces({{"a", -1}});
  b.spec().add_space_prefix = false;
  b.spec().add_eos = true;
  auto tokenizer = b.Build();
  EXPECT_THAT(tokenizer->Encode("a"), ElementsAre(1, b.Id("a"), 2));
  EXPECT_THAT(tokenizer->Encode("a", {.add_special = false}), ElementsAre(b.Id("a")));
  EXPECT_THAT(tokenizer->Encode(""), ElementsAre(1, 2));
}

}  // namespace
}  // namespace shoal::model
