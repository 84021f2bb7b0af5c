// What `shoal bench` measures for one request, and how a request to send is described:
// the record every target (HTTP or gRPC) fills in as the response streams back, and
// that the statistics (stats.h) aggregate. Times are seconds on a steady clock since
// the run began.
#ifndef SHOAL_BENCH_LOAD_REQUEST_RECORD_H_
#define SHOAL_BENCH_LOAD_REQUEST_RECORD_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace shoal::bench {

// Seconds since the run began, on a steady clock; shared by the runner and the targets.
class RunClock {
 public:
  RunClock() : origin_(std::chrono::steady_clock::now()) {}
  double Now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - origin_).count();
  }

 private:
  std::chrono::steady_clock::time_point origin_;
};

// One request to send. A prompt is token ids (exact lengths, the tokenizer's ids) or
// text, or a chat conversation (messages as {role, content} pairs).
struct RequestSpec {
  int64_t index = 0;  // in the order the workload made them
  std::vector<int32_t> prompt_token_ids;
  std::string prompt_text;  // used when prompt_token_ids is empty and messages is empty
  std::vector<std::pair<std::string, std::string>> messages;  // chat: (role, content)
  int32_t prompt_tokens = 0;  // as the workload counted them
  int32_t max_tokens = 16;
  bool ignore_eos = true;     // exact output lengths where the target supports it
  int32_t min_tokens = 0;
  std::string tenant;         // a label for per-tenant statistics ("" = none)
  std::string api_key;        // sent as a bearer token when not empty
  // A multi-turn conversation (the agent workload): which one (-1: none) and this
  // request's turn in it (1-based; 0: none).
  int64_t session = -1;
  int32_t turn = 0;
  // The position (in the list given to Run) of the spec that must have ended, however it
  // ended, before this one is sent; -1: none. Always an earlier spec.
  int64_t after = -1;
};

// How a request ended.
enum class Outcome {
  kOk,
  kHttpError,   // a non-2xx status, or an in-band error event
  kGrpcError,   // a non-OK gRPC status
  kTimeout,     // no complete response within the request timeout
  kDisconnect,  // the connection closed or failed before the response was complete
};

const char* OutcomeName(Outcome outcome);

struct RequestRecord {
  int64_t index = 0;
  std::string tenant;
  int64_t session = -1;  // the spec's, as the runner copies them
  int32_t turn = 0;
  double start = 0;        // when it was sent
  double first_token = -1; // when the first chunk with output tokens arrived; -1: never
  double end = 0;          // when the response was complete (or failed)
  // Arrival time of every chunk that carried output tokens, the first included; the
  // inter-token latencies are the gaps between successive ones (as vLLM's bench serve
  // counts them: per chunk).
  std::vector<double> token_times;
  int64_t prompt_tokens = 0;      // from the response's usage when it has one
  int64_t output_tokens = 0;      // from usage, else the chunks counted
  int64_t cached_prompt_tokens = 0;
  Outcome outcome = Outcome::kOk;
  int code = 0;               // HTTP status or gRPC code of a failure
  std::string error;          // short text of a failure

  bool ok() const { return outcome == Outcome::kOk; }
  double ttft() const { return first_token < 0 ? -1 : first_token - start; }
  double e2e() const { return end - start; }
  // Time per output token after the first: (end - first token) / (tokens - 1); 0 for
  // one token.
  double tpot() const {
    return output_tokens > 1 && first_token >= 0
               ? (end - first_token) / static_cast<double>(output_tokens - 1)
               : 0;
  }
};

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_REQUEST_RECORD_H_
