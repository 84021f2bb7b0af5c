// The flags that say where and how a command computes (--device, --threads,
// --interleave-weights, --bf16-weights, --gpu-memory-fraction), read once into the
// worker's option structs, shared by `shoal run` and `shoal scheduler`.
#ifndef SHOAL_CLI_ENGINE_FLAGS_H_
#define SHOAL_CLI_ENGINE_FLAGS_H_

#include "absl/status/statusor.h"
#include "worker/forward/forward_engine.h"

namespace shoal::cli {

// --threads, with 0 meaning one per core.
int ThreadsFromFlag();

// --device, --threads and the weight flags; the KV budget is the caller's.
absl::StatusOr<worker::EngineOptions> EngineOptionsFromFlags();

}  // namespace shoal::cli

#endif  // SHOAL_CLI_ENGINE_FLAGS_H_
