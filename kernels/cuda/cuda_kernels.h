// Launchers of Shoal's CUDA kernels: plain pointers to device memory, a stream, and a
// cudaError_t back (the launch's own error; execution errors surface at the next
// synchronisation). Host code (cuda_backend.cc) wraps them in absl::Status. Each
// computes what the CPU op of the same name computes (kernels/ops/, matmul), which the
// backend self-test checks.
#ifndef SHOAL_KERNELS_CUDA_CUDA_KERNELS_H_
#define SHOAL_KERNELS_CUDA_CUDA_KERNELS_H_

#include <cuda_runtime.h>

#include <cstdint>

namespace shoal::kernels::cuda {

// 0: no weight, 1: y = x̂·w, 2: y = x̂·(1 + w). One block per row of n.
cudaError_t LaunchRmsNorm(const float* x, const float* w, int convention, float eps, int64_t n,
                          int64_t rows, float* y, cudaStream_t stream);

// Rotates x [tokens][heads][head_dim] in place by cos_sin [tokens][n_rot] (cos, sin
// interleaved, as RopeAngles writes them): adjacent pairs, or (i, i + n_rot/2) if neox.
cudaError_t LaunchRope(float* x, const float* cos_sin, int64_t tokens, int64_t heads,
                       int64_t head_dim, int64_t n_rot, bool neox, cudaStream_t stream);

cudaError_t LaunchSwiGlu(const float* gate, const float* up, int64_t n, float* out,
                         cudaStream_t stream);
// GELU (tanh form) as ggml's table gives it: input and result rounded to half.
cudaError_t LaunchGeGluTanh(const float* gate, const float* up, int64_t n, float* out,
                            cudaStream_t stream);

cudaError_t LaunchSoftmax(const float* x, int64_t n, int64_t rows, float* y, cudaStream_t stream);
// Per row: the index of the largest value, the lowest on ties.
cudaError_t LaunchArgmax(const float* x, int64_t n, int64_t rows, int32_t* out,
                         cudaStream_t stream);
// Per row: the k (≤ 32) largest, largest first, the lower index first on ties.
cudaError_t LaunchTopK(const float* x, int64_t n, int64_t rows, int64_t k, int32_t* indices,
                       float* values, cudaStream_t stream);

// out[i] = x[i] rounded to bf16 (nearest even), as the raw 16 bits.
cudaError_t LaunchToBf16(const float* x, int64_t n, uint16_t* out, cudaStream_t stream);

// Whether LaunchDequantizeRows knows the ggml type (by its GGUF id).
bool CanDequantizeOnDevice(int ggml_type);
// Dequantizes rows ids[i] (i < n_ids; ids null: rows 0..n_ids-1) of a GGUF-layout
// matrix of `ggml_type` into out[i][n_cols], exactly as common/dequantize does.
cudaError_t LaunchDequantizeRows(int ggml_type, const uint8_t* data, int64_t row_bytes,
                                 int64_t n_cols, const int32_t* ids, int64_t n_ids, float* out,
                                 cudaStream_t stream);

// y[t][r] = Σ_k x[t][k]·W[r][k] straight from GGUF-layout quantized rows, for
// n_tokens ≤ 8 (decode): W is read once and never expanded.
cudaError_t LaunchQuantizedMatVec(int ggml_type, const uint8_t* w, int64_t row_bytes,
                                  int64_t n_rows, int64_t n_cols, const float* x,
                                  int64_t n_tokens, float* y, cudaStream_t stream);
inline constexpr int64_t kMaxQuantizedMatVecTokens = 8;

// The KV write: row i of k (k_row floats) and v (v_row floats) into slot slots[i] of
// the cache arrays, as float32 or rounded to half (f16 true).
cudaError_t LaunchWriteKv(bool f16, void* k_cache, void* v_cache, const int64_t* slots,
                          int64_t n_tokens, const float* k, int64_t k_row, const float* v,
                          int64_t v_row, cudaStream_t stream);

// Paged attention, one block per (token, query head), in the scalar reference's order
// (kernels/attention/attention_reference.cc). Token t is at positions[t] and reads its
// block table at tables + table_offsets[t]; scores is scratch of n_tokens · n_heads ·
// max_keys floats, max_keys the most keys any token sees.
struct PagedAttentionLaunch {
  bool f16 = true;
  const void* k_cache = nullptr;
  const void* v_cache = nullptr;
  int64_t block_size = 0;
  int64_t n_heads = 0, n_kv_heads = 0, head_dim = 0, value_dim = 0;
  float scale = 1.0f;
  int64_t sliding_window = 0;
  const float* q = nullptr;  // [tokens][n_heads][head_dim]
  float* out = nullptr;      // [tokens][n_heads][value_dim]
  const int64_t* positions = nullptr;
  const int32_t* tables = nullptr;
  const int64_t* table_offsets = nullptr;
  int64_t n_tokens = 0;
  float* scores = nullptr;
  int64_t max_keys = 0;
};
cudaError_t LaunchPagedAttention(const PagedAttentionLaunch& args, cudaStream_t stream);

// Between the ops of a forward pass (rows.cu), element-wise over n floats:
// x *= scale; x = y + x; x = cap·tanh(x / cap).
cudaError_t LaunchScale(float* x, int64_t n, float scale, cudaStream_t stream);
cudaError_t LaunchAddInPlace(float* x, const float* y, int64_t n, cudaStream_t stream);
cudaError_t LaunchSoftcap(float* x, int64_t n, float cap, cudaStream_t stream);
// dst[i] = src[ids[i]] for rows of row_len floats.
cudaError_t LaunchGatherRows(const float* src, int64_t row_len, const int32_t* ids, int64_t n_ids,
                             float* dst, cudaStream_t stream);
// dst[rows[i]] = src[i] · weights[rows[i]] (an expert's outputs into their routed slots).
cudaError_t LaunchScatterScaledRows(const float* src, int64_t row_len, const int32_t* rows,
                                    const float* weights, int64_t n, float* dst,
                                    cudaStream_t stream);
// out[t] = src[t][0] + src[t][1] + ... + src[t][k-1], added in slot order.
cudaError_t LaunchSumSlots(const float* src, int64_t k, int64_t row_len, int64_t n_tokens,
                           float* out, cudaStream_t stream);

}  // namespace shoal::kernels::cuda

#endif  // SHOAL_KERNELS_CUDA_CUDA_KERNELS_H_
