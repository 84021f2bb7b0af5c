#include "worker/cuda/device_matmul.h"

#include <algorithm>

#include "absl/memory/memory.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "kernels/cuda/cuda_kernels.h"

namespace shoal::worker::cuda {
namespace {

using kernels::cuda::CudaStatus;

// A prefill GEMM dequantizes W at most this many values at a time (64 MiB of float32):
// the scratch stays bounded however large the matrix, and each slice's SGEMM is still
// big enough to keep the device busy.
constexpr int64_t kDequantizeSliceValues = int64_t{16} << 20;

}  // namespace

absl::Status CublasStatus(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(fmt::format("{}: cuBLAS status {}", what, static_cast<int>(status)));
}

absl::StatusOr<std::unique_ptr<DeviceMatMul>> DeviceMatMul::Create(cudaStream_t stream) {
  cublasHandle_t cublas = nullptr;
  SHOAL_RETURN_IF_ERROR(CublasStatus(cublasCreate(&cublas), "cublasCreate"));
  auto matmul = absl::WrapUnique(new DeviceMatMul(stream, cublas));
  SHOAL_RETURN_IF_ERROR(CublasStatus(cublasSetStream(cublas, stream), "cublasSetStream"));
  return matmul;
}

DeviceMatMul::~DeviceMatMul() { cublasDestroy(cublas_); }

int64_t DeviceMatMul::MaxScratchBytes(int64_t max_tokens, int64_t max_cols) {
  return kDequantizeSliceValues * static_cast<int64_t>(sizeof(float)) +
         max_tokens * max_cols * static_cast<int64_t>(sizeof(uint16_t));
}

absl::Status DeviceMatMul::Grow(kernels::cuda::DeviceBuffer& buffer, size_t bytes) {
  if (buffer.bytes() >= bytes) return absl::OkStatus();
  // The old buffer may still be read by queued work: let it finish before freeing.
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaStreamSynchronize(stream_), "matmul scratch"));
  buffer = kernels::cuda::DeviceBuffer();
  SHOAL_ASSIGN_OR_RETURN(buffer, kernels::cuda::DeviceBuffer::Allocate(bytes));
  return absl::OkStatus();
}

absl::Status DeviceMatMul::Run(const DeviceMatrix& w, const float* x, int64_t n, float* y) {
  if (n == 0 || w.n_rows == 0) return absl::OkStatus();
  const int rows = static_cast<int>(w.n_rows), cols = static_cast<int>(w.n_cols);
  const float one = 1.0f, zero = 0.0f;
  // Row-major y[t][r] = Σ_k x[t][k]·W[r][k] is column-major yᵀ = (Wᵀ)ᵀ·xᵀ: W's rows are
  // a column-major cols × rows matrix, transposed by the op.
  if (w.bf16) {
    SHOAL_RETURN_IF_ERROR(Grow(x_bf16_, n * w.n_cols * sizeof(uint16_t)));
    SHOAL_RETURN_IF_ERROR(CudaStatus(
        kernels::cuda::LaunchToBf16(x, n * w.n_cols, x_bf16_.as<uint16_t>(), stream_),
        "matmul activations to bf16"));
    return CublasStatus(
        cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, rows, static_cast<int>(n), cols, &one,
                     w.data, CUDA_R_16BF, cols, x_bf16_.as<void>(), CUDA_R_16BF, cols, &zero, y,
                     CUDA_R_32F, rows, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
  }
  if (n <= kernels::cuda::kMaxQuantizedMatVecTokens) {
    return CudaStatus(kernels::cuda::LaunchQuantizedMatVec(static_cast<int>(w.type), w.data,
                                                           w.row_bytes(), w.n_rows, w.n_cols, x, n,
                                                           y, stream_),
                      "quantized mat-vec");
  }
  if (w.type == GgmlType::kF32) {
    return CublasStatus(
        cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, rows, static_cast<int>(n), cols, &one,
                    reinterpret_cast<const float*>(w.data), cols, x, cols, &zero, y, rows),
        "cublasSgemm");
  }
  const int64_t slice_rows = std::max<int64_t>(1, kDequantizeSliceValues / w.n_cols);
  SHOAL_RETURN_IF_ERROR(
      Grow(dequantized_, std::min(slice_rows, w.n_rows) * w.n_cols * sizeof(float)));
  for (int64_t r = 0; r < w.n_rows; r += slice_rows) {
    const int64_t m = std::min(slice_rows, w.n_rows - r);
    SHOAL_RETURN_IF_ERROR(CudaStatus(
        kernels::cuda::LaunchDequantizeRows(static_cast<int>(w.type), w.data + r * w.row_bytes(),
                                            w.row_bytes(), w.n_cols, nullptr, m,
                                            dequantized_.as<float>(), stream_),
        "matmul dequantize"));
    // This slice's rows are y's columns [r, r + m), still with row stride n_rows.
    SHOAL_RETURN_IF_ERROR(CublasStatus(
        cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m), static_cast<int>(n),
                    cols, &one, dequantized_.as<float>(), cols, x, cols, &zero, y + r, rows),
        "cublasSgemm"));
  }
  return absl::OkStatus();
}

}  // namespace shoal::worker::cuda
