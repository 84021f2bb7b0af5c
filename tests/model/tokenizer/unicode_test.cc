#include "model/tokenizer/unicode.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shoal::model {
namespace {

using ::testing::ElementsAre;

std::vector<uint32_t> Decode(std::string_view text) {
  std::vector<uint32_t> cpts;
  DecodeUtf8(text, &cpts);
  return cpts;
}

std::string Valid(std::string_view bytes) {
  std::string out;
  AppendValidUtf8(bytes, &out);
  return out;
}

TEST(CodepointFlagsTest, ClassifiesLikeLlamaCppTables) {
  EXPECT_TRUE(FlagsOf('a').is_letter());
  EXPECT_TRUE(FlagsOf(0x4E2D).is_letter());  // 中
  EXPECT_TRUE(FlagsOf('7').is_number());
  EXPECT_TRUE(FlagsOf(0x00BD).is_number());  // ½ (No)
  EXPECT_TRUE(FlagsOf(0x216B).is_number());  // Ⅻ (Nl)
  EXPECT_EQ(FlagsOf('!').category(), CodepointFlags::kPunctuation);
  EXPECT_EQ(FlagsOf('$').category(), CodepointFlags::kSymbol);
  EXPECT_EQ(FlagsOf(0x0301).category(), CodepointFlags::kMark);
  EXPECT_EQ(FlagsOf(0xE000).category(), CodepointFlags::kControl);  // private use
  EXPECT_EQ(FlagsOf(0xD800).category(), CodepointFlags::kControl);  // surrogate
  EXPECT_EQ(FlagsOf(0x0378).category(), CodepointFlags::kUndefined);
  EXPECT_EQ(FlagsOf(0x110000).category(), CodepointFlags::kUndefined);
}

TEST(CodepointFlagsTest, WhitespaceIsTheWhiteSpaceProperty) {
  for (uint32_t cpt : {0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u,
                       0x200Au, 0x2028u, 0x2029u, 0x202Fu, 0x205Fu, 0x3000u}) {
    EXPECT_TRUE(FlagsOf(cpt).is_whitespace()) << std::hex << cpt;
  }
  for (uint32_t cpt : {0x08u, 0x1Cu, 0x200Bu, 0x180Eu, 0xFEFFu}) {
    EXPECT_FALSE(FlagsOf(cpt).is_whitespace()) << std::hex << cpt;
  }
  EXPECT_EQ(FlagsOf(' ').category(), CodepointFlags::kSeparator);
  EXPECT_EQ(FlagsOf('\n').category(), CodepointFlags::kControl);
}

TEST(CodepointFlagsTest, KnowsUnicode15_1Additions) {
  EXPECT_EQ(FlagsOf(0x2FFC).category(), CodepointFlags::kSymbol);
  EXPECT_EQ(FlagsOf(0x31EF).category(), CodepointFlags::kSymbol);
  EXPECT_TRUE(FlagsOf(0x2EBF0).is_letter());
  EXPECT_TRUE(FlagsOf(0x2EE5D).is_letter());
  EXPECT_EQ(FlagsOf(0x2EE5E).category(), CodepointFlags::kUndefined);
}

TEST(DecodeUtf8Test, DecodesValidText) {
  EXPECT_THAT(Decode("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"),
              ElementsAre('a', 0xE9, 0x20AC, 0x1F600));
}

TEST(DecodeUtf8Test, EachBadByteBecomesOneReplacementCharacter) {
  EXPECT_THAT(Decode("\xFF"), ElementsAre(kReplacementCharacter));
  EXPECT_THAT(Decode("\xC3("), ElementsAre(kReplacementCharacter, '('));
  EXPECT_THAT(Decode("\xE2\x82"), ElementsAre(kReplacementCharacter, kReplacementCharacter));
  EXPECT_THAT(Decode("\x80"
                     "a"),
              ElementsAre(kReplacementCharacter, 'a'));
}

TEST(DecodeUtf8Test, AcceptsOverlongFormsAndSurrogatesLikeLlamaCpp) {
  EXPECT_THAT(Decode("\xC0\x80"), ElementsAre(0));
  EXPECT_THAT(Decode("\xED\xA0\x80"), ElementsAre(0xD800));
}

TEST(DecodeUtf8Test, RejectsCodepointsAboveTheCodeSpace) {
  EXPECT_THAT(Decode("\xF4\x90\x80\x80"),
              ElementsAre(kReplacementCharacter, kReplacementCharacter, kReplacementCharacter,
                          kReplacementCharacter));
}

TEST(AppendUtf8Test, EncodesEveryLength) {
  std::string out;
  for (uint32_t cpt : {0x41u, 0xE9u, 0x20ACu, 0x1F600u}) AppendUtf8(cpt, &out);
  EXPECT_EQ(out, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST(CompleteUtf8PrefixTest, HoldsBackOnlyAnUnfinishedCharacter) {
  EXPECT_EQ(CompleteUtf8Prefix(""), 0u);
  EXPECT_EQ(CompleteUtf8Prefix("abc"), 3u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xE2\x82"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xE2\x82\xAC"), 5u);
  EXPECT_EQ(CompleteUtf8Prefix("\xF0\x9F\x98"), 0u);
  EXPECT_EQ(CompleteUtf8Prefix("\xF0"), 0u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xFF"), 2u);          // never valid: not held
  EXPECT_EQ(CompleteUtf8Prefix("a\xE0\x80"), 3u);      // overlong start: not held
  EXPECT_EQ(CompleteUtf8Prefix("a\xED\xA0"), 3u);      // surrogate start: not held
  EXPECT_EQ(CompleteUtf8Prefix("a\x80\x80\x80"), 4u);  // stray continuation bytes
}

TEST(AppendValidUtf8Test, ReplacesMaximalSubparts) {
  EXPECT_EQ(Valid("plain"), "plain");
  EXPECT_EQ(Valid("a\xFF"
                  "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Valid("\xE2\x82("), "\xEF\xBF\xBD(");
  EXPECT_EQ(Valid("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(Valid("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Valid("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Valid("\xF0\x9F\x98"), "\xEF\xBF\xBD");
}

TEST(Utf8LengthFromLeadTest, UsesTheHighNibbleOnly) {
  EXPECT_EQ(Utf8LengthFromLead('a'), 1u);
  EXPECT_EQ(Utf8LengthFromLead(0x80), 1u);
  EXPECT_EQ(Utf8LengthFromLead(0xC3), 2u);
  EXPECT_EQ(Utf8LengthFromLead(0xE2), 3u);
  EXPECT_EQ(Utf8LengthFromLead(0xF0), 4u);
  EXPECT_EQ(Utf8LengthFromLead(0xFF), 4u);
}

}  // namespace
}  // namespace shoal::model
