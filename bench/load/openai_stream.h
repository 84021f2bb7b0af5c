// The OpenAI-compatible wire format as `shoal bench`'s HTTP target speaks it: the body
// of the streaming request it sends, the message it reads from an error response, and
// what each streamed event means for the request's record.
//
// Token arrivals, for every server style we measure:
// - a chunk whose text (completions `choices[0].text`; chat `choices[0].delta.content`,
//   or a reasoning delta) is not empty is an arrival;
// - a chunk with empty text still is one when its finish_reason is null and it is not
//   chat's opening role chunk: Shoal and vLLM send a chunk per engine step even when the
//   step's text is empty (a control token, an unfinished UTF-8 character);
// - not an arrival: chat's role chunk (`delta.role` with empty or null content), and a
//   chunk with empty text that carries the finish_reason (llama-server's last
//   completions chunk, chat's closing `delta: {}`), which bring no new token.
// Usage (`prompt_tokens`, `completion_tokens`, `prompt_tokens_details.cached_tokens`)
// comes from any chunk that has a `usage` object, the last one winning (the
// `choices: []` chunk of stream_options.include_usage, or llama-server's last chunk);
// without one, output_tokens is the number of arrivals.
//
// Thread: a StreamReader is owned by one request, on the target's io_context thread.
#ifndef SHOAL_BENCH_LOAD_OPENAI_STREAM_H_
#define SHOAL_BENCH_LOAD_OPENAI_STREAM_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "bench/load/request_record.h"
#include "bench/load/target.h"

namespace shoal::bench {

// The JSON body of a streaming, greedy request for `spec`: model (when not empty), the
// prompt (token ids when the spec has them, else its text) or the messages (chat; the
// prompt text as one user message when there are none), max_tokens and llama-server's
// name for it (n_predict), temperature 0, stream with usage, ignore_eos, min_tokens
// when positive.
std::string StreamingRequestBody(const RequestSpec& spec, Api api, const std::string& model);

// The message of an error body: `{"error": {"message": ...}}` (OpenAI, vLLM, Shoal,
// llama-server), `{"error": "..."}`, `{"message": ...}` or `{"detail": ...}`; else the
// body itself, cut short.
std::string ErrorMessageOf(std::string_view body);

class StreamReader {
 public:
  enum class Result {
    kMore,   // read on
    kDone,   // `data: [DONE]`
    kError,  // an error event (or one that is not JSON): error() and error_code()
  };

  // `record` must outlive the reader. Its prompt_tokens stays the workload's count
  // unless usage says otherwise.
  StreamReader(Api api, RequestRecord* record) : api_(api), record_(record) {}

  // One event's data, read at `now` (seconds on the run's clock).
  Result OnEvent(std::string_view data, double now);

  // Sets output_tokens from the arrivals when no usage came; call once at the end.
  void Finish();

  bool saw_event() const { return saw_event_; }
  int64_t arrivals() const { return arrivals_; }
  // An in-band error's `code` when it is an integer (vLLM and Shoal put the HTTP status
  // there), else 0.
  int error_code() const { return error_code_; }
  const std::string& error() const { return error_; }

 private:
  Api api_;
  RequestRecord* record_;
  bool saw_event_ = false;
  bool saw_usage_ = false;
  int64_t arrivals_ = 0;
  int error_code_ = 0;
  std::string error_;
};

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_OPENAI_STREAM_H_
