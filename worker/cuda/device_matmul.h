// y = x · Wᵀ on the device for the CUDA engine, picking the kernel by the batch and the
// weights: up to 8 rows of x (decode) read quantized W once with the mat-vec kernel;
// more (prefill) dequantize W to float32 in bounded slices, each one cuBLAS SGEMM;
// bf16-expanded W is one cuBLAS GEMM with bf16 inputs and float32 accumulation.
#ifndef SHOAL_WORKER_CUDA_DEVICE_MATMUL_H_
#define SHOAL_WORKER_CUDA_DEVICE_MATMUL_H_

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "kernels/cuda/device_buffer.h"
#include "worker/cuda/device_weights.h"

namespace shoal::worker::cuda {

absl::Status CublasStatus(cublasStatus_t status, const char* what);

class DeviceMatMul {
 public:
  // Work is queued on `stream`, which must outlive this object.
  static absl::StatusOr<std::unique_ptr<DeviceMatMul>> Create(cudaStream_t stream);
  ~DeviceMatMul();
  DeviceMatMul(const DeviceMatMul&) = delete;
  DeviceMatMul& operator=(const DeviceMatMul&) = delete;

  // y[t][r] = Σ_k x[t][k]·W[r][k] for t < n, y with row stride W.n_rows; device pointers.
  absl::Status Run(const DeviceMatrix& w, const float* x, int64_t n, float* y);

  // Bytes of the largest scratch this can allocate (for the memory budget).
  static int64_t MaxScratchBytes(int64_t max_tokens, int64_t max_cols);

 private:
  DeviceMatMul(cudaStream_t stream, cublasHandle_t cublas) : stream_(stream), cublas_(cublas) {}
  absl::Status Grow(kernels::cuda::DeviceBuffer& buffer, size_t bytes);

  cudaStream_t stream_;
  cublasHandle_t cublas_;
  kernels::cuda::DeviceBuffer dequantized_;  // a slice of W as float32
  kernels::cuda::DeviceBuffer x_bf16_;       // x rounded to bf16
};

}  // namespace shoal::worker::cuda

#endif  // SHOAL_WORKER_CUDA_DEVICE_MATMUL_H_
