// Element-wise and per-row CUDA kernels: RMSNorm, RoPE, the gated activations,
// softmax, argmax and top-k. Row kernels run one block of kRowThreads per row.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <float.h>
#include <math.h>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace shoal::kernels::cuda {
namespace {

constexpr int kRowThreads = 256;
constexpr int kElementThreads = 256;

unsigned Blocks(int64_t n, int per_block) { return static_cast<unsigned>((n + per_block - 1) / per_block); }

// Like kernels/ops/norm.cc: squares summed in double, the scale in float, then x·scale
// and the weight as a separate multiply.
__global__ void RmsNormKernel(const float* x, const float* w, int convention, float eps, int64_t n,
                              float* y) {
  __shared__ double shared[kRowThreads];
  const float* row = x + blockIdx.x * n;
  float* out = y + blockIdx.x * n;
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kRowThreads) sum += static_cast<double>(__fmul_rn(row[i], row[i]));
  sum = BlockReduce<kRowThreads>(sum, shared, [](double a, double b) { return a + b; });
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(mean, eps)));
  for (int64_t i = threadIdx.x; i < n; i += kRowThreads) {
    const float v = __fmul_rn(row[i], scale);
    if (convention == 0) out[i] = v;
    else if (convention == 1) out[i] = __fmul_rn(v, w[i]);
    else out[i] = __fmul_rn(v, __fadd_rn(1.0f, w[i]));
  }
}

// One thread per rotated pair: (token, head, pair).
__global__ void RopeKernel(float* x, const float* cos_sin, int64_t tokens, int64_t heads,
                           int64_t head_dim, int64_t n_rot, bool neox) {
  const int64_t pairs = n_rot / 2;
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= tokens * heads * pairs) return;
  const int64_t p = index % pairs, th = index / pairs, t = th / heads;
  float* v = x + th * head_dim;
  const float c = cos_sin[t * n_rot + 2 * p], s = cos_sin[t * n_rot + 2 * p + 1];
  const int64_t a = neox ? p : 2 * p, b = neox ? p + pairs : 2 * p + 1;
  const float x0 = v[a], x1 = v[b];
  v[a] = __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
  v[b] = __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c));
}

__global__ void SwiGluKernel(const float* gate, const float* up, int64_t n, float* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float x = gate[i];
  out[i] = __fmul_rn(__fdiv_rn(x, __fadd_rn(1.0f, expf(-x))), up[i]);
}

__global__ void GeGluTanhKernel(const float* gate, const float* up, int64_t n, float* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float x = gate[i];
  if (x <= -10.0f) {
    out[i] = 0.0f;
  } else if (x >= 10.0f) {
    out[i] = __fmul_rn(x, up[i]);
  } else {
    const float h = __half2float(__float2half_rn(x));
    // kernels::GeluTanh's operations in its order, none fused; only tanhf's ulps differ.
    const float inner = __fmul_rn(__fmul_rn(0.7978845608028654f, h),
                                  __fadd_rn(1.0f, __fmul_rn(__fmul_rn(0.044715f, h), h)));
    const float gelu =
        __half2float(__float2half_rn(__fmul_rn(__fmul_rn(0.5f, h), __fadd_rn(1.0f, tanhf(inner)))));
    out[i] = __fmul_rn(gelu, up[i]);
  }
}

__global__ void SoftmaxKernel(const float* x, int64_t n, float* y) {
  __shared__ float shared[kRowThreads];
  const float* row = x + blockIdx.x * n;
  float* out = y + blockIdx.x * n;
  float max = -FLT_MAX;
  for (int64_t i = threadIdx.x; i < n; i += kRowThreads) max = fmaxf(max, row[i]);
  max = BlockReduce<kRowThreads>(max, shared, [](float a, float b) { return fmaxf(a, b); });
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += kRowThreads) sum += expf(row[i] - max);
  sum = BlockReduce<kRowThreads>(sum, shared, [](float a, float b) { return a + b; });
  const float inv = 1.0f / sum;
  for (int64_t i = threadIdx.x; i < n; i += kRowThreads) out[i] = expf(row[i] - max) * inv;
}

struct Best {
  float value;
  int32_t index;
};
__device__ Best Better(Best a, Best b) {
  return (b.value > a.value || (b.value == a.value && b.index < a.index)) ? b : a;
}

__global__ void ArgmaxKernel(const float* x, int64_t n, int32_t* out) {
  __shared__ Best shared[kRowThreads];
  const float* row = x + blockIdx.x * n;
  // From -inf, so a row of -inf (masked logits) still yields a real index.
  Best best{-INFINITY, INT32_MAX};
  for (int64_t i = threadIdx.x; i < n; i += kRowThreads) best = Better(best, {row[i], static_cast<int32_t>(i)});
  best = BlockReduce<kRowThreads>(best, shared, Better);
  // A row of NaNs beats nothing: index 0, as the CPU's max_element gives, not the sentinel.
  if (threadIdx.x == 0) out[blockIdx.x] = best.index == INT32_MAX ? 0 : best.index;
}

// k rounds of argmax over the row, each excluding what earlier rounds took (k ≤ 32:
// routing picks a handful of experts out of at most a few hundred).
__global__ void TopKKernel(const float* x, int64_t n, int64_t k, int32_t* indices, float* values) {
  __shared__ Best shared[kRowThreads];
  __shared__ int32_t taken[32];
  const float* row = x + blockIdx.x * n;
  for (int64_t j = 0; j < k; ++j) {
    Best best{-INFINITY, INT32_MAX};
    for (int64_t i = threadIdx.x; i < n; i += kRowThreads) {
      bool skip = false;
      for (int64_t q = 0; q < j; ++q) skip |= taken[q] == i;
      if (!skip) best = Better(best, {row[i], static_cast<int32_t>(i)});
    }
    best = BlockReduce<kRowThreads>(best, shared, Better);
    if (threadIdx.x == 0) {
      if (best.index == INT32_MAX) best.index = 0;  // NaNs left: a valid index all the same
      taken[j] = best.index;
      indices[blockIdx.x * k + j] = best.index;
      values[blockIdx.x * k + j] = best.value;
    }
    __syncthreads();
  }
}

__global__ void ToBf16Kernel(const float* x, int64_t n, uint16_t* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __bfloat16_as_ushort(__float2bfloat16_rn(x[i]));
}

}  // namespace

cudaError_t LaunchToBf16(const float* x, int64_t n, uint16_t* out, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  ToBf16Kernel<<<Blocks(n, kElementThreads), kElementThreads, 0, stream>>>(x, n, out);
  return cudaGetLastError();
}

cudaError_t LaunchRmsNorm(const float* x, const float* w, int convention, float eps, int64_t n,
                          int64_t rows, float* y, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  RmsNormKernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(x, w, convention, eps, n, y);
  return cudaGetLastError();
}

cudaError_t LaunchRope(float* x, const float* cos_sin, int64_t tokens, int64_t heads,
                       int64_t head_dim, int64_t n_rot, bool neox, cudaStream_t stream) {
  const int64_t threads = tokens * heads * (n_rot / 2);
  if (threads == 0) return cudaSuccess;
  RopeKernel<<<Blocks(threads, kElementThreads), kElementThreads, 0, stream>>>(
      x, cos_sin, tokens, heads, head_dim, n_rot, neox);
  return cudaGetLastError();
}

cudaError_t LaunchSwiGlu(const float* gate, const float* up, int64_t n, float* out,
                         cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  SwiGluKernel<<<Blocks(n, kElementThreads), kElementThreads, 0, stream>>>(gate, up, n, out);
  return cudaGetLastError();
}

cudaError_t LaunchGeGluTanh(const float* gate, const float* up, int64_t n, float* out,
                            cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  GeGluTanhKernel<<<Blocks(n, kElementThreads), kElementThreads, 0, stream>>>(gate, up, n, out);
  return cudaGetLastError();
}

cudaError_t LaunchSoftmax(const float* x, int64_t n, int64_t rows, float* y, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  SoftmaxKernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(x, n, y);
  return cudaGetLastError();
}

cudaError_t LaunchArgmax(const float* x, int64_t n, int64_t rows, int32_t* out,
                         cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  ArgmaxKernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(x, n, out);
  return cudaGetLastError();
}

cudaError_t LaunchTopK(const float* x, int64_t n, int64_t rows, int64_t k, int32_t* indices,
                       float* values, cudaStream_t stream) {
  if (k < 1 || k > 32 || k > n) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  TopKKernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(x, n, k, indices, values);
  return cudaGetLastError();
}

}  // namespace shoal::kernels::cuda
