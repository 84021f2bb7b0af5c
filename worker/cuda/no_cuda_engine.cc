// The CUDA engine's stand-in for builds without nvcc.
#include "worker/cuda/cuda_engine.h"

namespace shoal::worker {

absl::StatusOr<std::unique_ptr<ForwardEngine>> CreateCudaForwardEngine(
    const model::ModelFile& model, const EngineOptions& options) {
  return absl::UnimplementedError(
      "--device " + options.device.ToString() +
      ": this shoal was built without CUDA (configure with nvcc on the PATH or "
      "-DSHOAL_CUDA=ON)");
}

}  // namespace shoal::worker
