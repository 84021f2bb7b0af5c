// The CPU ForwardEngine: the Decoder on a thread pool over a KvCache in RAM.
#ifndef SHOAL_WORKER_FORWARD_CPU_ENGINE_H_
#define SHOAL_WORKER_FORWARD_CPU_ENGINE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "worker/forward/forward_engine.h"

namespace shoal::worker {

absl::StatusOr<std::unique_ptr<ForwardEngine>> CreateCpuForwardEngine(
    const model::ModelFile& model, const EngineOptions& options);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_CPU_ENGINE_H_
