#include "model/tokenizer/pre_tokenizer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/tokenizer/unicode.h"

namespace shoal::model {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Split(PreTokenizerKind kind, std::string_view text) {
  std::vector<uint32_t> cpts;
  DecodeUtf8(text, &cpts);
  std::vector<std::string> words;
  size_t begin = 0;
  for (size_t length : SplitWords(kind, cpts)) {
    std::string word;
    for (size_t i = begin; i < begin + length; ++i) AppendUtf8(cpts[i], &word);
    words.push_back(word);
    begin += length;
  }
  return words;
}

constexpr auto kLlama3 = PreTokenizerKind::kLlama3;
constexpr auto kQwen2 = PreTokenizerKind::kQwen2;
constexpr auto kGpt2 = PreTokenizerKind::kGpt2;
constexpr auto kDefault = PreTokenizerKind::kDefault;

TEST(PreTokenizerTest, EmptyTextHasNoWords) { EXPECT_TRUE(Split(kLlama3, "").empty()); }

TEST(PreTokenizerTest, WordsTakeOneLeadingNonLetter) {
  EXPECT_THAT(Split(kLlama3, "Hello world"), ElementsAre("Hello", " world"));
  EXPECT_THAT(Split(kLlama3, "(hello) $x"), ElementsAre("(hello", ")", " $", "x"));
  EXPECT_THAT(Split(kLlama3, "\nabc"), ElementsAre("\n", "abc"));  // not \r or \n
}

TEST(PreTokenizerTest, Llama3GroupsDigitsByThreeAndQwen2SplitsThem) {
  EXPECT_THAT(Split(kLlama3, "1234567"), ElementsAre("123", "456", "7"));
  EXPECT_THAT(Split(kQwen2, "1234"), ElementsAre("1", "2", "3", "4"));
  EXPECT_THAT(Split(kQwen2, "x\xEF\xBC\x91\xEF\xBC\x92"),  // fullwidth digits
              ElementsAre("x", "\xEF\xBC\x91", "\xEF\xBC\x92"));
}

TEST(PreTokenizerTest, ContractionsIgnoreCaseExceptInGpt2) {
  EXPECT_THAT(Split(kLlama3, "I'M we'Ll"), ElementsAre("I", "'M", " we", "'Ll"));
  EXPECT_THAT(Split(kGpt2, "I'M we'll"), ElementsAre("I", "'", "M", " we", "'ll"));
}

TEST(PreTokenizerTest, WhitespaceBeforeTextGivesBackItsLastCharacter) {
  EXPECT_THAT(Split(kLlama3, "a   b"), ElementsAre("a", "  ", " b"));
  EXPECT_THAT(Split(kLlama3, "a   "), ElementsAre("a", "   "));  // end of text: kept whole
  EXPECT_THAT(Split(kGpt2, "a   b"), ElementsAre("a", "  ", " b"));
}

TEST(PreTokenizerTest, LineBreaksEndWhitespaceRuns) {
  EXPECT_THAT(Split(kLlama3, "a \n b"), ElementsAre("a", " \n", " b"));
  EXPECT_THAT(Split(kLlama3, "a\r\n\r\nb"), ElementsAre("a", "\r\n\r\n", "b"));
  EXPECT_THAT(Split(kLlama3, "\t5"), ElementsAre("\t", "5"));
}

TEST(PreTokenizerTest, PunctuationTakesOneSpaceAndTrailingLineBreaks) {
  EXPECT_THAT(Split(kLlama3, "x ?!\n\ny"), ElementsAre("x", " ?!\n\n", "y"));
  EXPECT_THAT(Split(kQwen2, "a  ..."), ElementsAre("a", " ", " ..."));
}

TEST(PreTokenizerTest, DefaultSplitsPunctuationRunsNumbersAndDigitTriples) {
  EXPECT_THAT(Split(kDefault, "a,b"), ElementsAre("a", ",", "b"));
  EXPECT_THAT(Split(kDefault, "$12345"), ElementsAre("$", "123", "45"));
  EXPECT_THAT(Split(kDefault, "hello world`"), ElementsAre("hello", " world", "`"));
  EXPECT_THAT(Split(kDefault, "x=1"), ElementsAre("x", "=", "1"));
}

TEST(PreTokenizerTest, Gpt2KeepsDigitRunsTogether) {
  EXPECT_THAT(Split(kGpt2, "abc 12345"), ElementsAre("abc", " 12345"));
}

TEST(PreTokenizerTest, WordLengthsCoverTheText) {
  const std::string text = "Mixed: Hello\xE4\xB8\x96\xE7\x95\x8C 123 \xF0\x9F\x98\x80\n\n  end  ";
  for (auto kind : {kLlama3, kQwen2, kGpt2, kDefault}) {
    std::string joined;
    for (const std::string& word : Split(kind, text)) {
      EXPECT_FALSE(word.empty());
      joined += word;
    }
    EXPECT_EQ(joined, text);
  }
}

}  // namespace
}  // namespace shoal::model
