// How the scheduler reaches a worker (DESIGN.md: the scheduler never includes worker
// internals). In-process in `shoal serve` and `shoal scheduler --world 1`; over gRPC
// (worker.proto's Worker service) once workers run as their own processes.
//
// Called from the scheduler's step thread only.
#ifndef SHOAL_SCHEDULER_WORKER_CLIENT_H_
#define SHOAL_SCHEDULER_WORKER_CLIENT_H_

#include "absl/status/statusor.h"
#include "shoal/v1/worker.pb.h"

namespace shoal::scheduler {

class WorkerClient {
 public:
  virtual ~WorkerClient() = default;

  // Loads the model and sizes the KV cache; called once before any Step.
  virtual absl::StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request) = 0;
  // Runs one step and waits for its result. A failed call (transport) is an error
  // status; a step the worker rejected comes back with result.error_message set.
  virtual absl::Status Step(const v1::StepRequest& request, v1::StepResult& result) = 0;
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_WORKER_CLIENT_H_
