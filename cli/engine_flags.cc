#include "cli/engine_flags.h"

#include <algorithm>
#include <thread>

#include "absl/flags/flag.h"
#include "cli/flags.h"
#include "common/status_macros.h"

namespace shoal::cli {

int ThreadsFromFlag() {
  const int threads = absl::GetFlag(FLAGS_threads);
  return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

absl::StatusOr<worker::EngineOptions> EngineOptionsFromFlags() {
  worker::EngineOptions options;
  SHOAL_ASSIGN_OR_RETURN(options.device, worker::ParseDevice(absl::GetFlag(FLAGS_device)));
  if (absl::GetFlag(FLAGS_threads) < 0) {
    return absl::InvalidArgumentError("--threads must be at least 0 (0: one thread per core)");
  }
  options.threads = ThreadsFromFlag();
  options.interleave_weights = absl::GetFlag(FLAGS_interleave_weights);
  options.bf16_weights = absl::GetFlag(FLAGS_bf16_weights);
  if (options.bf16_weights && options.device.kind != worker::DeviceKind::kCuda) {
    return absl::InvalidArgumentError("--bf16-weights applies to --device cuda only");
  }
  const double gpu_fraction = absl::GetFlag(FLAGS_gpu_memory_fraction);
  if (!(gpu_fraction > 0.0 && gpu_fraction <= 1.0)) {
    return absl::InvalidArgumentError("--gpu-memory-fraction must be in (0, 1]");
  }
  // The memory the KV budget comes from: the GPU's, or RAM (`shoal scheduler`'s flag).
  options.kv.memory_fraction = options.device.kind == worker::DeviceKind::kCuda
                                   ? gpu_fraction
                                   : absl::GetFlag(FLAGS_kv_memory_fraction);
  return options;
}

}  // namespace shoal::cli
