// The element-wise and row-moving kernels a forward pass needs between the ops proper:
// scaling, the residual add, the logit softcap, and the MoE layer's gather of token
// rows into expert order, scatter of scaled expert outputs back to routed slots, and
// the sum over each token's slots. Each is what the CPU decoder does in a loop
// (worker/forward), in the same order of float operations.
#include <math.h>

#include "kernels/cuda/cuda_kernels.h"

namespace shoal::kernels::cuda {
namespace {

constexpr int kThreads = 256;

unsigned Blocks(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

__global__ void ScaleKernel(float* x, int64_t n, float s) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) x[i] = __fmul_rn(x[i], s);
}

__global__ void AddKernel(float* x, const float* y, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) x[i] = __fadd_rn(y[i], x[i]);
}

__global__ void SoftcapKernel(float* x, int64_t n, float cap) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) x[i] = __fmul_rn(cap, tanhf(__fdiv_rn(x[i], cap)));
}

// One thread per output element: dst row i is src row ids[i].
__global__ void GatherRowsKernel(const float* src, int64_t row_len, const int32_t* ids,
                                 int64_t n_ids, float* dst) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n_ids * row_len) return;
  const int64_t row = i / row_len, col = i % row_len;
  dst[i] = src[static_cast<int64_t>(ids[row]) * row_len + col];
}

__global__ void ScatterScaledRowsKernel(const float* src, int64_t row_len, const int32_t* rows,
                                        const float* weights, int64_t n, float* dst) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n * row_len) return;
  const int64_t r = i / row_len, col = i % row_len;
  const int64_t target = rows[r];
  dst[target * row_len + col] = __fmul_rn(src[i], weights[target]);
}

__global__ void SumSlotsKernel(const float* src, int64_t k, int64_t row_len, int64_t n_tokens,
                               float* out) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n_tokens * row_len) return;
  const int64_t t = i / row_len, col = i % row_len;
  const float* first = src + t * k * row_len + col;
  float sum = first[0];
  for (int64_t j = 1; j < k; ++j) sum = __fadd_rn(sum, first[j * row_len]);
  out[i] = sum;
}

}  // namespace

cudaError_t LaunchScale(float* x, int64_t n, float scale, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  ScaleKernel<<<Blocks(n), kThreads, 0, stream>>>(x, n, scale);
  return cudaGetLastError();
}

cudaError_t LaunchAddInPlace(float* x, const float* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  AddKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, n);
  return cudaGetLastError();
}

cudaError_t LaunchSoftcap(float* x, int64_t n, float cap, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  SoftcapKernel<<<Blocks(n), kThreads, 0, stream>>>(x, n, cap);
  return cudaGetLastError();
}

cudaError_t LaunchGatherRows(const float* src, int64_t row_len, const int32_t* ids, int64_t n_ids,
                             float* dst, cudaStream_t stream) {
  if (n_ids * row_len == 0) return cudaSuccess;
  GatherRowsKernel<<<Blocks(n_ids * row_len), kThreads, 0, stream>>>(src, row_len, ids, n_ids, dst);
  return cudaGetLastError();
}

cudaError_t LaunchScatterScaledRows(const float* src, int64_t row_len, const int32_t* rows,
                                    const float* weights, int64_t n, float* dst,
                                    cudaStream_t stream) {
  if (n * row_len == 0) return cudaSuccess;
  ScatterScaledRowsKernel<<<Blocks(n * row_len), kThreads, 0, stream>>>(src, row_len, rows, weights,
                                                                        n, dst);
  return cudaGetLastError();
}

cudaError_t LaunchSumSlots(const float* src, int64_t k, int64_t row_len, int64_t n_tokens,
                           float* out, cudaStream_t stream) {
  if (n_tokens * row_len == 0) return cudaSuccess;
  SumSlotsKernel<<<Blocks(n_tokens * row_len), kThreads, 0, stream>>>(src, k, row_len, n_tokens, out);
  return cudaGetLastError();
}

}  // namespace shoal::kernels::cuda
