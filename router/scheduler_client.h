// How the router reaches a scheduler (one model replica), and nothing more: the router
// never includes scheduler internals (DESIGN.md). Two implementations: over gRPC
// (shoal.v1.Scheduler, for `shoal router --scheduler HOST:PORT`; grpc_scheduler_client.h)
// and in-process over an EngineCore (`shoal serve`; inprocess/), with the same
// semantics, so the router cannot tell them apart.
//
// Threads: a SchedulerClient and its calls are thread-safe. A call's `on_ready` callback
// runs on whatever thread delivered the data (the engine's step thread, a gRPC
// completion thread): it must not block and must not call back into the call; the
// router's reactors post a wake-up to their own thread and Take() there.
#ifndef SHOAL_ROUTER_SCHEDULER_CLIENT_H_
#define SHOAL_ROUTER_SCHEDULER_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal::router {

// One Generate request upstream. Flow control: the client holds what arrived until the
// consumer takes it and reads no further ahead than a bounded buffer (the gRPC stream's
// window; the engine's own bound on unread tokens), so a consumer that stops taking
// stops the request rather than growing memory.
class GenerateCall {
 public:
  // Destroying a call that has not ended cancels it (CANCEL_REASON_CLIENT_GONE); once
  // the destructor returns, `on_ready` is never called again.
  virtual ~GenerateCall() = default;

  // Moves everything received since the last Take into `out` (cleared first): token
  // ids and logprobs appended in order, cached_prompt_tokens from the first message,
  // `finish` when the last message is among them. False when nothing new arrived.
  virtual bool Take(v1::SchedulerGenerateResponse& out) = 0;

  // True once the call is over: its Finish message has arrived (Take it), or it failed
  // without one (see error()).
  virtual bool ended() const = 0;

  // Why the call ended without a Finish message: the scheduler refused the request
  // (InvalidArgument, AlreadyExists, ResourceExhausted with a retry-after payload,
  // Unavailable: it never started) or the connection to the scheduler failed
  // (Unavailable). OK while running and after a Finish.
  virtual absl::Status error() const = 0;

  // Asks the scheduler to stop the request; it still ends with a Finish message
  // (CANCELLED, or STOP for CANCEL_REASON_STOP_STRING). Repeated calls are no-ops.
  virtual void Cancel(v1::CancelReason reason) = 0;
};

class SchedulerClient {
 public:
  virtual ~SchedulerClient() = default;

  // Starts a request. `on_ready` is called whenever Take() may return something new or
  // the call ended (possibly before Generate returns, on another thread).
  virtual std::unique_ptr<GenerateCall> Generate(const v1::SchedulerGenerateRequest& request,
                                                 std::function<void()> on_ready) = 0;

  // The replica's load and readiness, waiting at most `timeout`. Unavailable when the
  // scheduler cannot be reached in time.
  virtual absl::StatusOr<v1::StatsResponse> Stats(absl::Duration timeout) = 0;

  // For logs and metrics labels: "127.0.0.1:50051", or "in-process".
  virtual std::string address() const = 0;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_SCHEDULER_CLIENT_H_
