// One choice's generated tokens turned into the text a client sees: incremental
// detokenization that releases only complete UTF-8 (a character split across tokens
// waits for its last byte; bytes that can never complete become U+FFFD, and the stream
// never fails over them), and stop strings matched on the text across token
// boundaries. Text that could still be the start of a stop string is held back until
// it is known not to be, so a matched stop string never leaks into the output (unless
// include_stop_str_in_output).
//
// Threads: one stream per choice, used by one thread at a time.
#ifndef SHOAL_ROUTER_TEXT_STREAM_H_
#define SHOAL_ROUTER_TEXT_STREAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "model/tokenizer/tokenizer.h"

namespace shoal::router {

struct TextStreamOptions {
  std::vector<std::string> stop;  // non-empty strings
  bool include_stop_str_in_output = false;
  // Render CONTROL tokens (e.g. "<end_of_turn>") as text; by default they give "".
  bool skip_special_tokens = true;
  // Stop strings are not looked for before this many tokens were generated (vLLM's
  // min_tokens semantics: nothing may stop the request earlier).
  int min_tokens = 0;
};

class TextStream {
 public:
  // `tokenizer` must outlive the stream.
  TextStream(const model::Tokenizer& tokenizer, TextStreamOptions options);

  // Adds one generated token and appends to `out` the text that can be released now.
  // Returns true when a stop string matched: the text before it (and the stop string
  // itself with include_stop_str_in_output) has been released, and the stream takes no
  // more tokens. A token id the tokenizer does not know adds nothing.
  bool Append(int32_t token, std::string* out);

  // Generation ended for another reason (end-of-generation token, length, error):
  // releases everything held back, an unfinished character becoming U+FFFD.
  void Finish(std::string* out);

  bool stopped() const { return !matched_stop_.empty(); }
  // The stop string that matched; empty when none did.
  const std::string& matched_stop() const { return matched_stop_; }
  // Tokens taken before the stream stopped (the token that completed a stop string
  // included): what usage.completion_tokens counts.
  int num_tokens() const { return num_tokens_; }

 private:
  // One stop string's Knuth-Morris-Pratt matcher over the decoded text: `state` is the
  // length of the longest suffix of the text so far that is a prefix of `text`.
  struct StopMatcher {
    std::string text;
    std::vector<int> failure;  // failure[k]: longest proper border of text[0, k)
    int state = 0;
  };

  // Feeds held_[from, end) to the matchers; returns the index of the stop to honour
  // (the earliest-starting match, the shortest on a tie) and sets `*match_start`, or
  // -1 when none completed or min_tokens is not reached yet.
  int Match(size_t from, size_t* match_start);
  // Releases held_ except its longest suffix that could still begin a stop string.
  void ReleaseSafePrefix(std::string* out);

  TextStreamOptions options_;
  model::IncrementalDecoder decoder_;
  std::vector<StopMatcher> matchers_;
  std::string held_;  // decoded text not released yet
  std::string matched_stop_;
  int num_tokens_ = 0;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_TEXT_STREAM_H_
