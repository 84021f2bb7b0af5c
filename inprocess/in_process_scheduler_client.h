// The router's SchedulerClient over an EngineCore in the same process (`shoal serve`):
// Generate submits straight to the engine and reads the request's RequestStream, with
// the same semantics as the gRPC client (router/grpc_scheduler_client.h), so the router
// cannot tell them apart. Flow control is the engine's own: a request whose consumer
// leaves more than max_unread_tokens unread is aborted (ABORTED, RESOURCE_EXHAUSTED).
//
// Threads: thread-safe. A call's on_ready runs on the engine's step thread (or on the
// caller's, inside Generate, when the engine refuses the request).
#ifndef SHOAL_INPROCESS_IN_PROCESS_SCHEDULER_CLIENT_H_
#define SHOAL_INPROCESS_IN_PROCESS_SCHEDULER_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "router/scheduler_client.h"
#include "scheduler/engine_core.h"

namespace shoal::inprocess {

class InProcessSchedulerClient final : public router::SchedulerClient {
 public:
  // `engine` must outlive the client and every call it started.
  explicit InProcessSchedulerClient(scheduler::EngineCore& engine) : engine_(engine) {}

  std::unique_ptr<router::GenerateCall> Generate(const v1::SchedulerGenerateRequest& request,
                                                 std::function<void()> on_ready) override;
  // The engine's snapshot; never waits, so `timeout` does not matter.
  absl::StatusOr<v1::StatsResponse> Stats(absl::Duration timeout) override;
  std::string address() const override { return "in-process"; }

 private:
  scheduler::EngineCore& engine_;
};

}  // namespace shoal::inprocess

#endif  // SHOAL_INPROCESS_IN_PROCESS_SCHEDULER_CLIENT_H_
