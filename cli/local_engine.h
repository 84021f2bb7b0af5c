// One model replica's engine in this process, from the command line's flags: the
// in-process worker on this machine's CPU or GPU (--device, --threads, weight and KV
// flags), registered, and the EngineCore (the scheduler) over it. `shoal scheduler`
// serves it over gRPC; `shoal serve` puts the router in front of it in-process.
#ifndef SHOAL_CLI_LOCAL_ENGINE_H_
#define SHOAL_CLI_LOCAL_ENGINE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"
#include "scheduler/engine_core.h"
#include "shoal/v1/worker.pb.h"

namespace shoal::cli {

struct LocalEngine {
  std::unique_ptr<scheduler::EngineCore> engine;
  scheduler::EngineCoreConfig config;
  v1::RegisterResponse registration;
};

// Loads `path` and starts the engine; its metrics go to `registry`, which must outlive
// it. Logs the engine's size and settings.
absl::StatusOr<LocalEngine> StartLocalEngine(const std::string& path,
                                             prometheus::Registry& registry);

// --port, or the command's default when it was not given.
int PortFromFlag(int default_port);

}  // namespace shoal::cli

#endif  // SHOAL_CLI_LOCAL_ENGINE_H_
