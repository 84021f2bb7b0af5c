// TextStream over long random token sequences (seeds printed): with no stop string
// matching, the released text is exactly the pieces' text (invalid UTF-8 replaced); with
// stop strings it agrees with a naive reference that re-searches the whole decoded text.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/tokenizer/unicode.h"
#include "router/text_stream.h"
#include "tests/router/text_stream_test_util.h"

namespace shoal::router {
namespace {

constexpr int kSeeds = 40;

// Random ids: mostly any token, some byte tokens (to split characters), a few runs of
// one multi-byte character's bytes.
std::vector<int32_t> RandomIds(const model::Tokenizer& tok, std::mt19937& rng, int count) {
  std::vector<int32_t> ids;
  std::uniform_int_distribution<int32_t> any(0, tok.vocab_size() - 1);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> byte(0, 255);
  const std::string utf8[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x99\x82"};
  while (static_cast<int>(ids.size()) < count) {
    const int k = kind(rng);
    if (k < 6) {
      ids.push_back(any(rng));
    } else if (k < 8) {
      ids.push_back(ByteToken(tok, static_cast<uint8_t>(byte(rng))));
    } else {
      for (char c : utf8[rng() % 3]) ids.push_back(ByteToken(tok, static_cast<uint8_t>(c)));
    }
  }
  return ids;
}

std::string ValidPieces(const model::Tokenizer& tok, const std::vector<int32_t>& ids,
                        bool special) {
  std::string bytes;
  for (int32_t id : ids) bytes += Piece(tok, id, special);
  std::string valid;
  model::AppendValidUtf8(bytes, &valid);
  return valid;
}

struct Reference {
  std::string text;
  std::string matched;
  int num_tokens = 0;
};

// The stop-string rules applied naively: after each token, among the occurrences that
// end in the text this token added, the earliest-starting (then shortest) one stops.
Reference NaiveStream(const model::Tokenizer& tok, const std::vector<int32_t>& ids,
                      const TextStreamOptions& options) {
  model::IncrementalDecoder decoder(tok, !options.skip_special_tokens);
  std::string text;
  for (size_t k = 0; k < ids.size(); ++k) {
    const size_t before = text.size();
    (void)decoder.Append(ids[k], &text);
    if (static_cast<int>(k + 1) < options.min_tokens) continue;
    size_t best_start = std::string::npos;
    std::string best;
    for (const std::string& stop : options.stop) {
      const size_t from = before + 1 >= stop.size() ? before + 1 - stop.size() : 0;
      const size_t at = text.find(stop, from);
      if (at == std::string::npos) continue;
      if (at < best_start || (at == best_start && stop.size() < best.size())) {
        best_start = at;
        best = stop;
      }
    }
    if (best_start != std::string::npos) {
      const size_t end = best_start + (options.include_stop_str_in_output ? best.size() : 0);
      return {text.substr(0, end), best, static_cast<int>(k + 1)};
    }
  }
  decoder.Finish(&text);
  return {text, "", static_cast<int>(ids.size())};
}

bool IsContinuation(char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; }

// A substring of `text` of 1..max_bytes bytes on character boundaries ("" if none).
std::string RandomSubstring(const std::string& text, std::mt19937& rng, size_t max_bytes) {
  if (text.empty()) return "";
  for (int attempt = 0; attempt < 20; ++attempt) {
    const size_t start = rng() % text.size();
    const size_t length = 1 + rng() % max_bytes;
    if (start + length > text.size()) continue;
    if (IsContinuation(text[start])) continue;
    if (start + length < text.size() && IsContinuation(text[start + length])) continue;
    return text.substr(start, length);
  }
  return "";
}

class TextStreamRandomTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    tokenizer_ = TestTokenizer(GetParam());
    ASSERT_NE(tokenizer_, nullptr);
  }
  const model::Tokenizer& tok() { return *tokenizer_; }
  const model::Tokenizer* tokenizer_ = nullptr;
};

TEST_P(TextStreamRandomTest, WithoutAMatchTheTextIsThePieces) {
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const std::vector<int32_t> ids = RandomIds(tok(), rng, 500 + seed * 25);
    const bool skip = seed % 2 == 0;
    const std::string expected = ValidPieces(tok(), ids, !skip);
    // Stop strings that never occur (of bytes the text does not contain, or absent).
    std::vector<std::string> stops;
    while (stops.size() < 3) {
      std::string stop = "\x01" + std::to_string(rng() % 1000) + "\x02";
      if (expected.find(stop) == std::string::npos) stops.push_back(stop);
    }
    for (const std::vector<std::string>& s : {std::vector<std::string>{}, stops}) {
      const Streamed streamed = StreamTokens(tok(), ids, {.stop = s, .skip_special_tokens = skip});
      EXPECT_FALSE(streamed.stopped);
      EXPECT_EQ(streamed.num_tokens, static_cast<int>(ids.size()));
      ASSERT_EQ(streamed.text, expected);
    }
  }
}

TEST_P(TextStreamRandomTest, RealTextDecodesToItself) {
  std::mt19937 rng(7);
  // No " !" or " ." in the text: Decode cleans up such spaces for some vocabularies
  // (llama.cpp's clean_spaces), which streaming pieces must not do.
  const std::string alphabet[] = {"a",
                                  "b",
                                  " ",
                                  "the",
                                  "\n",
                                  "\xC3\xA9",
                                  "\xE2\x82\xAC",
                                  "\xF0\x9F\x99\x82",
                                  "\xE6\x9D\xB1",
                                  "STOP",
                                  "42",
                                  "#"};
  for (int seed = 0; seed < kSeeds; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    rng.seed(seed);
    std::string text;
    for (int i = 0; i < 300; ++i) text += alphabet[rng() % std::size(alphabet)];
    const std::vector<int32_t> ids = tok().Encode(text, {.add_special = false});
    auto decoded = tok().Decode(ids);
    ASSERT_TRUE(decoded.ok());
    const Streamed streamed = StreamTokens(tok(), ids, {.stop = {"\x01"}});
    EXPECT_EQ(streamed.text, text);
    EXPECT_EQ(streamed.text, *decoded);
  }
}

TEST_P(TextStreamRandomTest, StopStringsAgreeWithTheNaiveReference) {
  int num_stopped = 0;
  for (int seed = 0; seed < kSeeds * 3; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(1000 + seed);
    const std::vector<int32_t> ids = RandomIds(tok(), rng, 300);
    TextStreamOptions options;
    options.skip_special_tokens = rng() % 2 == 0;
    options.include_stop_str_in_output = rng() % 2 == 0;
    options.min_tokens = rng() % 3 == 0 ? static_cast<int>(rng() % 200) : 0;
    const std::string full = ValidPieces(tok(), ids, !options.skip_special_tokens);
    const int num_stops = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < num_stops; ++i) {
      std::string stop = RandomSubstring(full, rng, 1 + rng() % 12);
      if (!stop.empty()) options.stop.push_back(stop);
    }
    if (rng() % 4 == 0) options.stop.push_back("\x01\x02");  // one that never matches
    const Reference expected = NaiveStream(tok(), ids, options);
    const Streamed streamed = StreamTokens(tok(), ids, options);
    ASSERT_EQ(streamed.text, expected.text);
    EXPECT_EQ(streamed.matched, expected.matched);
    EXPECT_EQ(streamed.stopped, !expected.matched.empty());
    EXPECT_EQ(streamed.num_tokens, expected.num_tokens);
    num_stopped += streamed.stopped;
    // Nothing released was ever taken back: every release extends a prefix of the end.
    std::string released;
    for (const std::string& chunk : streamed.chunks) {
      released += chunk;
      ASSERT_EQ(expected.text.compare(0, released.size(), released), 0);
    }
  }
  // Most runs must really stop, or the comparison above proves little.
  EXPECT_GT(num_stopped, kSeeds * 2) << num_stopped << " of " << kSeeds * 3 << " stopped";
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, TextStreamRandomTest,
                         ::testing::Values("gemma3", "llama-bpe"));

}  // namespace
}  // namespace shoal::router
