// A server under test, as `shoal bench` drives it: an OpenAI-compatible HTTP server
// (Shoal, llama.cpp's llama-server, vLLM; streaming /v1/completions or
// /v1/chat/completions) or Shoal's public gRPC API (shoal.v1.Inference).
//
// Event-driven: everything runs on the run's one io_context thread. Send starts a
// request and returns at once; `done` runs later on that thread, exactly once per Send,
// with the request's record (a failure is a record with its outcome, never a crash or
// an exception).
#ifndef SHOAL_BENCH_LOAD_TARGET_H_
#define SHOAL_BENCH_LOAD_TARGET_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/load/request_record.h"
#include "boost/asio/io_context.hpp"

namespace shoal::bench {

enum class Api { kCompletions, kChatCompletions };

struct TargetOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  Api api = Api::kCompletions;      // HTTP: which endpoint; gRPC: prompt or chat input
  std::string model;                // the request's `model` field ("" for gRPC: the only one)
  absl::Duration request_timeout = absl::Minutes(10);
  const RunClock* clock = nullptr;  // must outlive the target
};

class Target {
 public:
  virtual ~Target() = default;

  // Sends one request (streamed; greedy; the spec's lengths). `done` gets its record.
  virtual void Send(const RequestSpec& spec, std::function<void(RequestRecord)> done) = 0;

  // Gives up every request in flight (the run's --duration is over): their `done`
  // still runs, with Outcome::kDisconnect and error "cancelled by the run".
  virtual void CancelAll() = 0;

  // "http://127.0.0.1:8080/v1/completions", "grpc://127.0.0.1:50051".
  virtual std::string description() const = 0;
};

// The HTTP target: one connection per request in flight (kept alive and reused), SSE
// parsed as the OpenAI SDK does (comments skipped, lines split across reads joined,
// `data: [DONE]` ends), tokens counted from the usage chunk (stream_options.include_usage)
// or, when a server sends none, one per content chunk.
absl::StatusOr<std::unique_ptr<Target>> MakeHttpTarget(boost::asio::io_context& io,
                                                       const TargetOptions& options);

// The gRPC target (shoal.v1.Inference/Generate, token counts from return_token_ids and
// the Final message's usage).
absl::StatusOr<std::unique_ptr<Target>> MakeGrpcTarget(boost::asio::io_context& io,
                                                       const TargetOptions& options);

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_TARGET_H_
