#include "model/tokenizer/special_splitter.h"

#include <algorithm>
#include <list>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/model/tokenizer/vocab_builder.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::model::testing::VocabBuilder;

// A fragment as text: "[id]" for a token, the raw text otherwise.
std::vector<std::string> Show(std::string_view text, const std::vector<Fragment>& fragments) {
  std::vector<std::string> out;
  for (const Fragment& f : fragments) {
    out.push_back(f.is_token() ? "[" + std::to_string(f.token) + "]"
                               : std::string(text.substr(f.begin, f.size)));
  }
  return out;
}

std::vector<std::string> Split(const Vocab& vocab, std::string_view text, bool parse_special) {
  std::vector<Fragment> fragments;
  SpecialSplitter(vocab).Split(text, parse_special, &fragments);
  return Show(text, fragments);
}

// llama.cpp's algorithm written plainly: for each special token in order, split every
// raw fragment on its leftmost occurrences.
std::vector<Fragment> Reference(const Vocab& vocab, std::string_view text, bool parse_special) {
  std::list<Fragment> fragments;
  if (!text.empty()) fragments.push_back({kNoToken, 0, text.size()});
  for (int32_t id : vocab.special_tokens()) {
    if (!parse_special && (vocab.attr(id) & (kAttrControl | kAttrUnknown)) != 0) continue;
    const std::string_view special = vocab.text(id);
    for (auto it = fragments.begin(); it != fragments.end(); ++it) {
      if (it->is_token()) continue;
      size_t begin = it->begin;
      const size_t end = it->begin + it->size;
      std::vector<Fragment> pieces;
      while (begin < end) {
        const size_t match = text.substr(0, end).find(special, begin);
        if (match == std::string_view::npos) break;
        if (match > begin) pieces.push_back({kNoToken, begin, match - begin});
        pieces.push_back({id, match, special.size()});
        begin = match + special.size();
      }
      if (pieces.empty()) continue;
      if (begin < end) pieces.push_back({kNoToken, begin, end - begin});
      it = fragments.erase(it);
      it = fragments.insert(it, pieces.begin(), pieces.end());
      std::advance(it, pieces.size() - 1);
    }
  }
  return {fragments.begin(), fragments.end()};
}

VocabBuilder Base() {
  VocabBuilder b("llama");
  b.Token("<unk>", TokenType::kUnknown).Control("<s>").Control("</s>");
  return b;
}

TEST(SpecialSplitterTest, UserDefinedTokensAreAlwaysSplitOut) {
  VocabBuilder b = Base();
  b.UserDefined("\n\n").Control("<turn>");
  ASSERT_OK_AND_ASSIGN(auto vocab, Vocab::Create(b.spec()));
  EXPECT_THAT(Split(*vocab, "a\n\nb<turn>c", false),
              ::testing::ElementsAre("a", "[3]", "b<turn>c"));
  EXPECT_THAT(Split(*vocab, "a\n\nb<turn>c", true),
              ::testing::ElementsAre("a", "[3]", "b", "[4]", "c"));
  EXPECT_THAT(Split(*vocab, "<unk><s>", true), ::testing::ElementsAre("[0]", "[1]"));
}

TEST(SpecialSplitterTest, LongerTokensClaimTextFirst) {
  VocabBuilder b = Base();
  b.UserDefined("ab").UserDefined("aab").UserDefined("\n").UserDefined("\n\n\n");
  ASSERT_OK_AND_ASSIGN(auto vocab, Vocab::Create(b.spec()));
  EXPECT_THAT(Split(*vocab, "aaab", false), ::testing::ElementsAre("a", "[4]"));
  EXPECT_THAT(Split(*vocab, "\n\n\n\n\n", false), ::testing::ElementsAre("[6]", "[5]", "[5]"));
}

TEST(SpecialSplitterTest, EmptyAndPlainTexts) {
  VocabBuilder b = Base();
  ASSERT_OK_AND_ASSIGN(auto vocab, Vocab::Create(b.spec()));
  EXPECT_TRUE(Split(*vocab, "", true).empty());
  EXPECT_THAT(Split(*vocab, "plain", true), ::testing::ElementsAre("plain"));
}

TEST(SpecialSplitterTest, MatchesLlamaCppOnRandomVocabulariesAndTexts) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  const std::string alphabet = "ab<>";
  auto random_text = [&](size_t max_length) {
    std::string text(std::uniform_int_distribution<size_t>(0, max_length)(rng), 'a');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    return text;
  };
  for (int round = 0; round < 200; ++round) {
    VocabBuilder b("llama");
    const int n_special = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n_special; ++i) {
      const std::string text = random_text(4);
      if (text.empty() || b.Id(text) >= 0) continue;
      b.Token(text, rng() % 2 ? TokenType::kControl : TokenType::kUserDefined);
    }
    b.Token("zz");
    b.spec().add_bos = false;  // the default BOS id 1 may not exist
    ASSERT_OK_AND_ASSIGN(auto vocab, Vocab::Create(b.spec()));
    const SpecialSplitter splitter(*vocab);
    for (int t = 0; t < 20; ++t) {
      const std::string text = random_text(24);
      for (bool parse_special : {false, true}) {
        std::vector<Fragment> fragments;
        splitter.Split(text, parse_special, &fragments);
        ASSERT_EQ(Show(text, fragments), Show(text, Reference(*vocab, text, parse_special)))
            << "text '" << text << "' parse_special " << parse_special;
      }
    }
  }
}

}  // namespace
}  // namespace shoal::model
