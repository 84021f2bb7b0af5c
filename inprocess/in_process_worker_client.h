// The scheduler's WorkerClient for a worker in the same process (`shoal serve`,
// `shoal scheduler --world 1`): calls go straight to a worker::StepExecutor, on the
// scheduler's step thread, with no RPC.
//
// Threads: the engine core's step thread owns it once the engine is created (Register
// runs before, on the caller's thread).
#ifndef SHOAL_INPROCESS_IN_PROCESS_WORKER_CLIENT_H_
#define SHOAL_INPROCESS_IN_PROCESS_WORKER_CLIENT_H_

#include <memory>

#include "scheduler/worker_client.h"
#include "worker/step/step_executor.h"

namespace shoal::inprocess {

class InProcessWorkerClient final : public scheduler::WorkerClient {
 public:
  explicit InProcessWorkerClient(worker::EngineOptions options) : options_(options) {}

  absl::StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request) override {
    if (executor_ != nullptr) return absl::FailedPreconditionError("the worker is registered");
    auto executor = worker::StepExecutor::Create(request, options_);
    if (!executor.ok()) return executor.status();
    executor_ = std::move(*executor);
    return executor_->registration();
  }

  absl::Status Step(const v1::StepRequest& request, v1::StepResult& result) override {
    if (executor_ == nullptr) return absl::FailedPreconditionError("the worker is not registered");
    executor_->Step(request, result);
    return absl::OkStatus();
  }

  // The executor, once registered (for the model's tokenizer and config).
  const worker::StepExecutor* executor() const { return executor_.get(); }

 private:
  worker::EngineOptions options_;
  std::unique_ptr<worker::StepExecutor> executor_;
};

}  // namespace shoal::inprocess

#endif  // SHOAL_INPROCESS_IN_PROCESS_WORKER_CLIENT_H_
