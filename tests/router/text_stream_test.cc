// TextStream with real tokenizers: the Gemma 3 270M's SentencePiece vocabulary (262k
// tokens, <0xNN> byte fallback) and the generated llama test model's byte-level BPE one
// (tests/data/vocab_bpe.json, 4000 tokens). Expectations are computed from the tokens'
// pieces, so they hold whatever the tokenizations are; preconditions that matter (a
// stop string really spans several tokens) are asserted.
#include "router/text_stream.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/model_file.h"
#include "tests/router/text_stream_test_util.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"

namespace shoal::router {
namespace {

using ::testing::ElementsAre;

constexpr char kReplacement[] = "\xEF\xBF\xBD";
constexpr char kText[] =
    "The quick brown fox jumps over the lazy dog. Say STOP now, then STOP again.";

class TextStreamTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    tokenizer_ = TestTokenizer(GetParam());
    ASSERT_NE(tokenizer_, nullptr);
    // The expectations below index kText by the tokens' pieces.
    ASSERT_EQ(StreamTokens(tok(), Encode(kText), {}).text, kText);
  }
  const model::Tokenizer& tok() { return *tokenizer_; }
  std::vector<int32_t> Encode(const std::string& text) {
    return tok().Encode(text, {.add_special = false});
  }
  Streamed Run(const std::vector<int32_t>& ids, TextStreamOptions options) {
    return StreamTokens(tok(), ids, std::move(options));
  }

  const model::Tokenizer* tokenizer_ = nullptr;
};

TEST_P(TextStreamTest, NoStopStringsReleasesEverythingAtOnce) {
  const std::vector<int32_t> ids = Encode(kText);
  const Streamed s = Run(ids, {});
  EXPECT_EQ(s.text, kText);
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.num_tokens, static_cast<int>(ids.size()));
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(s.chunks[i], Piece(tok(), ids[i], false));
}

TEST_P(TextStreamTest, StopSplitAcrossTokensNeverAppears) {
  // Starts inside "quick" and ends inside "fox": at least three tokens.
  const std::string stop = "ck brown f";
  const std::vector<int32_t> ids = Encode(kText);
  const std::vector<size_t> ends = PieceEnds(tok(), ids);
  const size_t stop_end = std::string(kText).find(stop) + stop.size();
  const int completing = TokensToReach(ends, stop_end);
  const int starting = TokensToReach(ends, std::string(kText).find(stop) + 1);
  ASSERT_GE(completing - starting, 2) << "the stop string must span three tokens or more";

  const Streamed s = Run(ids, {.stop = {"zzz", stop}});
  EXPECT_EQ(s.text, "The qui");
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.matched, stop);
  EXPECT_EQ(s.num_tokens, completing);
  // Every release was a prefix of the final text: nothing of the stop string leaked.
  std::string released;
  for (const std::string& chunk : s.chunks) {
    released += chunk;
    EXPECT_THAT(std::string("The qui"), ::testing::StartsWith(released));
  }
}

TEST_P(TextStreamTest, IncludeStopStrInOutputEndsAtTheStopString) {
  const Streamed s =
      Run(Encode(kText), {.stop = {"ck brown f"}, .include_stop_str_in_output = true});
  EXPECT_EQ(s.text, "The quick brown f");  // not the rest of the "fox" token
  EXPECT_EQ(s.matched, "ck brown f");
}

TEST_P(TextStreamTest, PrefixThenMismatchIsReleased) {
  const std::vector<int32_t> ids = Encode(kText);
  const std::vector<size_t> ends = PieceEnds(tok(), ids);
  // "brown " could begin "brown cow" until "fox" arrives.
  const Streamed s = Run(ids, {.stop = {"brown cow", "lazy cat"}});
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.text, kText);
  const int brown_done = TokensToReach(ends, std::string(kText).find("brown") + 5);
  const std::string released_then = Concat(s.chunks, brown_done);
  EXPECT_EQ(released_then.find("brown"), std::string::npos) << released_then;
  EXPECT_THAT(std::string(kText), ::testing::StartsWith(released_then));
  // Held back only while it could still be a stop string.
  const int fox_done = TokensToReach(ends, std::string(kText).find("fox") + 3);
  EXPECT_THAT(Concat(s.chunks, fox_done), ::testing::EndsWith("brown fox"));
}

TEST_P(TextStreamTest, EarliestStopWins) {
  // Both complete with the same token; the one that starts first wins, in either order.
  for (const auto& stops :
       {std::vector<std::string>{"ick", "quick"}, std::vector<std::string>{"quick", "ick"}}) {
    const Streamed s = Run(Encode(kText), {.stop = stops});
    EXPECT_EQ(s.text, "The ");
    EXPECT_EQ(s.matched, "quick");
  }
  // Starting at the same byte, the shorter one (it completes first, however the text
  // is split into tokens).
  for (const auto& stops :
       {std::vector<std::string>{"quick", "qu"}, std::vector<std::string>{"qu", "quick"}}) {
    const Streamed s = Run(Encode(kText), {.stop = stops, .include_stop_str_in_output = true});
    EXPECT_EQ(s.text, "The qu");
    EXPECT_EQ(s.matched, "qu");
  }
  // The first to complete wins over one listed earlier that would complete later.
  const Streamed later = Run(Encode(kText), {.stop = {"lazy", "jumps", "fox"}});
  EXPECT_EQ(later.text, "The quick brown ");
  EXPECT_EQ(later.matched, "fox");
}

TEST_P(TextStreamTest, MinTokensDefersStopStrings) {
  const std::string text = kText;
  const std::vector<int32_t> ids = Encode(text);
  const std::vector<size_t> ends = PieceEnds(tok(), ids);
  const size_t first = text.find("STOP");
  const size_t second = text.find("STOP", first + 1);
  const int first_done = TokensToReach(ends, first + 4);
  const int second_done = TokensToReach(ends, second + 4);

  // The token completing the first STOP is the min_tokens-th: honoured.
  const Streamed at = Run(ids, {.stop = {"STOP"}, .min_tokens = first_done});
  EXPECT_EQ(at.text, text.substr(0, first));
  EXPECT_EQ(at.num_tokens, first_done);
  // One token later: the first STOP is plain text, the second one stops.
  const Streamed after = Run(ids, {.stop = {"STOP"}, .min_tokens = first_done + 1});
  EXPECT_EQ(after.text, text.substr(0, second));
  EXPECT_EQ(after.num_tokens, second_done);
  EXPECT_EQ(after.matched, "STOP");
  // Past both: nothing stops it.
  const Streamed never = Run(ids, {.stop = {"STOP"}, .min_tokens = second_done + 1});
  EXPECT_FALSE(never.stopped);
  EXPECT_EQ(never.text, text);
}

TEST_P(TextStreamTest, MultiByteCharacterSplitOverByteTokensIsReleasedWhole) {
  const std::string euro = "\xE2\x82\xAC";
  std::vector<int32_t> ids = Encode("a");
  for (char c : euro) ids.push_back(ByteToken(tok(), static_cast<uint8_t>(c)));
  const std::vector<int32_t> tail = Encode("b");
  ids.insert(ids.end(), tail.begin(), tail.end());
  ASSERT_EQ(ids.size(), 5u);

  for (const std::vector<std::string>& stops :
       {std::vector<std::string>{}, std::vector<std::string>{"xyz"}}) {
    const Streamed s = Run(ids, {.stop = stops});
    EXPECT_THAT(s.chunks, ElementsAre("a", "", "", euro, "b"));
    EXPECT_EQ(s.text, "a" + euro + "b");
  }
  // A stop string made of the character stops on its last byte.
  const Streamed stopped = Run(ids, {.stop = {euro}});
  EXPECT_THAT(stopped.chunks, ElementsAre("a", "", "", ""));
  EXPECT_EQ(stopped.num_tokens, 4);
  const Streamed kept = Run(ids, {.stop = {euro + "b"}, .include_stop_str_in_output = true});
  EXPECT_THAT(kept.chunks, ElementsAre("a", "", "", "", euro + "b"));
}

TEST_P(TextStreamTest, LoneInvalidByteBecomesReplacementAtFinish) {
  std::vector<int32_t> ids = Encode("ok");
  ids.push_back(ByteToken(tok(), 0xE2));
  for (const std::vector<std::string>& stops :
       {std::vector<std::string>{}, std::vector<std::string>{"zz"}}) {
    const Streamed s = Run(ids, {.stop = stops});
    EXPECT_EQ(s.chunks.back(), "");
    EXPECT_EQ(s.finish, kReplacement);
    EXPECT_EQ(s.text, std::string("ok") + kReplacement);
  }
  // A byte that can never start a character is replaced at once.
  const Streamed at_once = Run({ByteToken(tok(), 0xFF), ByteToken(tok(), 'a')}, {});
  EXPECT_THAT(at_once.chunks, ElementsAre(kReplacement, "a"));
}

TEST_P(TextStreamTest, TakesNothingAfterStopping) {
  TextStream stream(tok(), {.stop = {"fox"}});
  std::string out;
  bool stopped = false;
  for (int32_t id : Encode(kText)) {
    if ((stopped = stream.Append(id, &out))) break;
  }
  ASSERT_TRUE(stopped);
  const int taken = stream.num_tokens();
  const std::string before = out;
  for (int32_t id : Encode(" more")) EXPECT_TRUE(stream.Append(id, &out));
  stream.Finish(&out);
  EXPECT_EQ(out, before);
  EXPECT_EQ(stream.num_tokens(), taken);
  EXPECT_EQ(stream.matched_stop(), "fox");
}

TEST_P(TextStreamTest, UnknownTokenIdAddsNothingButCounts) {
  TextStream stream(tok(), {.stop = {"STOP"}});
  std::string out;
  EXPECT_FALSE(stream.Append(tok().vocab_size(), &out));
  EXPECT_FALSE(stream.Append(-1, &out));
  for (int32_t id : Encode("hi")) EXPECT_FALSE(stream.Append(id, &out));
  stream.Finish(&out);
  EXPECT_EQ(out, "hi");
  EXPECT_EQ(stream.num_tokens(), 2 + static_cast<int>(Encode("hi").size()));
  EXPECT_FALSE(stream.stopped());
}

TEST_P(TextStreamTest, RealTextRoundTripsAndMatchesDecode) {
  const std::string text =
      "Grüße aus Zürich! 東京は晴れ。 Ελληνικά, русский, עברית, 🙂🎉 and "
      "tabs\tand\nnewlines, "
      "numbers 1234567 and code: if (a && b) { return x->y; }";
  const std::vector<int32_t> ids = Encode(text);
  ASSERT_OK_AND_ASSIGN(const std::string decoded, tok().Decode(ids));
  const Streamed s = Run(ids, {.stop = {"never-there"}});
  EXPECT_EQ(s.text, text);
  EXPECT_EQ(s.text, decoded);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, TextStreamTest, ::testing::Values("gemma3", "llama-bpe"));

TEST(TextStreamSpecialTest, ControlTokensRenderOnlyWithoutSkipSpecialTokens) {
  const model::Tokenizer* tokenizer = TestTokenizer("gemma3");
  ASSERT_NE(tokenizer, nullptr);
  const model::Tokenizer& gemma = *tokenizer;
  const std::vector<int32_t> ids =
      gemma.Encode("Hi<end_of_turn>", {.add_special = false, .parse_special = true});
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_TRUE(gemma.IsControl(ids[1]));
  EXPECT_EQ(StreamTokens(gemma, ids, {}).text, "Hi");
  EXPECT_EQ(StreamTokens(gemma, ids, {.skip_special_tokens = false}).text, "Hi<end_of_turn>");
  // And a stop string can match the rendered control token's text.
  const Streamed s =
      StreamTokens(gemma, ids, {.stop = {"<end_of_turn>"}, .skip_special_tokens = false});
  EXPECT_EQ(s.text, "Hi");
  EXPECT_TRUE(s.stopped);
}

}  // namespace
}  // namespace shoal::router
