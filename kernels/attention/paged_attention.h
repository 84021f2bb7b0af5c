// Attention over a paged KV cache (DESIGN.md "KV cache"): per layer, K and V live in
// fixed-size blocks laid out [num_blocks, block_size, n_kv_heads, head_dim]; a
// sequence's block table lists its blocks in position order. Causal, with optional
// sliding window and grouped-query heads (query head h reads KV head h / (n_heads /
// n_kv_heads)). The math follows llama.cpp's CPU graph: scores q·k scaled, softmax with
// the exponentials summed in double, then the probability-weighted sum of V.
#ifndef SHOAL_KERNELS_ATTENTION_PAGED_ATTENTION_H_
#define SHOAL_KERNELS_ATTENTION_PAGED_ATTENTION_H_

#include <cstdint>
#include <span>

namespace shoal::kernels {

enum class KvType { kF32, kF16 };

// One layer's cache, owned elsewhere (the worker's KV storage).
struct KvLayer {
  KvType type = KvType::kF16;
  void* k = nullptr;
  void* v = nullptr;
  int64_t num_blocks = 0;
  int64_t block_size = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t value_dim = 0;
};

struct AttentionShape {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t value_dim = 0;
  float scale = 1.0f;          // multiplies q·k
  int64_t sliding_window = 0;  // 0: none; else key p is visible to query q iff q - p < window
};

// Stores one token's K and V (n_kv_heads·head_dim and n_kv_heads·value_dim floats) in
// slot `slot` = block_id · block_size + offset, converting to the cache's type.
void WriteKv(const KvLayer& layer, int64_t slot, const float* k, const float* v);

// Attention output of one query head for a query at `position`, over keys at positions
// [first_visible, position] of the sequence whose blocks are `block_table`.
// `scores` is scratch of at least position + 1 floats. out gets value_dim floats.
void AttendOneHead(const AttentionShape& shape, const KvLayer& layer,
                   std::span<const int32_t> block_table, int64_t position, int64_t head,
                   const float* q, float* scores, float* out);

// The first key position a query at `position` sees under the shape's window.
inline int64_t FirstVisiblePosition(const AttentionShape& shape, int64_t position) {
  if (shape.sliding_window <= 0 || position < shape.sliding_window) return 0;
  return position - shape.sliding_window + 1;
}

}  // namespace shoal::kernels

#endif  // SHOAL_KERNELS_ATTENTION_PAGED_ATTENTION_H_
