// The CUDA ForwardEngine (worker/forward/forward_engine.h): the model's weights, its
// paged KV cache and its activations in one GPU's memory, every op of the forward pass
// a kernel from kernels/cuda or a cuBLAS GEMM. Builds without CUDA link a stand-in
// that says so (no_cuda_engine.cc).
#ifndef SHOAL_WORKER_CUDA_CUDA_ENGINE_H_
#define SHOAL_WORKER_CUDA_CUDA_ENGINE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "worker/forward/forward_engine.h"

namespace shoal::worker {

// Unavailable when the machine has no such device; Unimplemented for weight types the
// device kernels do not know and in builds without CUDA.
absl::StatusOr<std::unique_ptr<ForwardEngine>> CreateCudaForwardEngine(
    const model::ModelFile& model, const EngineOptions& options);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_CUDA_CUDA_ENGINE_H_
