// The KV write and paged attention on the device. Attention runs one block per (token,
// query head) in the scalar reference's arithmetic order (attention_reference.cc):
// each score a sequential float dot product times the scale, exponentials summed in
// double, then the values accumulated key by key. Correct first; the fast kernels
// (split-K decode, tiled prefill) come with the forward pass and are checked against
// this one.
#include <cuda_fp16.h>
#include <math.h>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace shoal::kernels::cuda {
namespace {

constexpr int kThreads = 128;

__device__ float Load(bool f16, const void* base, int64_t index) {
  return f16 ? __half2float(static_cast<const __half*>(base)[index]) : static_cast<const float*>(base)[index];
}

__global__ void WriteKvKernel(bool f16, void* k_cache, void* v_cache, const int64_t* slots,
                              const float* k, int64_t k_row, const float* v, int64_t v_row) {
  const int64_t t = blockIdx.x;
  const int64_t slot = slots[t];
  for (int64_t i = threadIdx.x; i < k_row + v_row; i += blockDim.x) {
    const bool is_k = i < k_row;
    const int64_t j = is_k ? i : i - k_row, row = is_k ? k_row : v_row;
    const float x = is_k ? k[t * k_row + j] : v[t * v_row + j];
    void* cache = is_k ? k_cache : v_cache;
    if (f16) static_cast<__half*>(cache)[slot * row + j] = __float2half_rn(x);
    else static_cast<float*>(cache)[slot * row + j] = x;
  }
}


__global__ void PagedAttentionKernel(PagedAttentionLaunch a) {
  __shared__ float shared_f[kThreads];
  __shared__ double shared_d[kThreads];
  const int64_t t = blockIdx.x, h = blockIdx.y;
  const int64_t kv_head = h / (a.n_heads / a.n_kv_heads);
  const int64_t position = a.positions[t];
  const int64_t first =
      a.sliding_window > 0 && position >= a.sliding_window ? position - a.sliding_window + 1 : 0;
  const int64_t n_keys = position - first + 1;
  const int32_t* table = a.tables + a.table_offsets[t];
  const float* q = a.q + (t * a.n_heads + h) * a.head_dim;
  float* scores = a.scores + (t * a.n_heads + h) * a.max_keys;
  auto slot_of = [&](int64_t p) { return static_cast<int64_t>(table[p / a.block_size]) * a.block_size + p % a.block_size; };

  float max_score = -INFINITY;
  for (int64_t j = threadIdx.x; j < n_keys; j += kThreads) {
    const int64_t base = (slot_of(first + j) * a.n_kv_heads + kv_head) * a.head_dim;
    float sum = 0.0f;
    for (int64_t i = 0; i < a.head_dim; ++i) sum = __fadd_rn(sum, __fmul_rn(Load(a.f16, a.k_cache, base + i), q[i]));
    const float s = __fmul_rn(sum, a.scale);
    scores[j] = s;
    max_score = fmaxf(max_score, s);
  }
  max_score = BlockReduce<kThreads>(max_score, shared_f, [](float x, float y) { return fmaxf(x, y); });
  double partial = 0.0;
  for (int64_t j = threadIdx.x; j < n_keys; j += kThreads) {
    const float e = expf(scores[j] - max_score);
    scores[j] = e;
    partial += e;
  }
  const double sum = BlockReduce<kThreads>(partial, shared_d, [](double x, double y) { return x + y; });
  const float inv_sum = static_cast<float>(1.0 / sum);
  __syncthreads();  // every score is written before any thread reads them all
  float* out = a.out + (t * a.n_heads + h) * a.value_dim;
  for (int64_t d = threadIdx.x; d < a.value_dim; d += kThreads) {
    float acc = 0.0f;
    for (int64_t j = 0; j < n_keys; ++j) {
      const int64_t base = (slot_of(first + j) * a.n_kv_heads + kv_head) * a.value_dim;
      acc = __fadd_rn(acc, __fmul_rn(__fmul_rn(scores[j], inv_sum), Load(a.f16, a.v_cache, base + d)));
    }
    out[d] = acc;
  }
}

}  // namespace

cudaError_t LaunchWriteKv(bool f16, void* k_cache, void* v_cache, const int64_t* slots,
                          int64_t n_tokens, const float* k, int64_t k_row, const float* v,
                          int64_t v_row, cudaStream_t stream) {
  if (n_tokens == 0) return cudaSuccess;
  WriteKvKernel<<<static_cast<unsigned>(n_tokens), kThreads, 0, stream>>>(f16, k_cache, v_cache, slots,
                                                                          k, k_row, v, v_row);
  return cudaGetLastError();
}

cudaError_t LaunchPagedAttention(const PagedAttentionLaunch& args, cudaStream_t stream) {
  if (args.n_tokens == 0 || args.n_heads == 0) return cudaSuccess;
  if (args.n_kv_heads <= 0 || args.n_heads % args.n_kv_heads != 0) return cudaErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>(args.n_tokens), static_cast<unsigned>(args.n_heads));
  PagedAttentionKernel<<<grid, kThreads, 0, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace shoal::kernels::cuda
