// Attention over a paged KV cache (DESIGN.md "KV cache"): per layer, K and V live in
// fixed-size blocks laid out [num_blocks, block_size, n_kv_heads, head_dim]; a
// sequence's block table lists its blocks in position order. Causal, with optional
// sliding window and grouped-query heads (query head h reads KV head h / (n_heads /
// n_kv_heads)).
//
// PagedAttention() is the op the forward passes call: SIMD kernels chosen at run time,
// work split over a thread pool in tiles that share each K/V row among the query heads
// of a GQA group, online softmax, and keys split across threads when one long sequence
// would leave threads idle (decode). AttendOneHead() is the plain reference it is tested
// against: scores q·k scaled, softmax with the exponentials summed in double (as
// llama.cpp's CPU graph does), then the probability-weighted sum of V.
#ifndef SHOAL_KERNELS_ATTENTION_PAGED_ATTENTION_H_
#define SHOAL_KERNELS_ATTENTION_PAGED_ATTENTION_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "common/thread_pool.h"
#include "kernels/cpu_features.h"

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

// The new tokens of one sequence in a batch: rows [first_token, first_token + n_tokens)
// of q and out, at positions start_position onwards, whose keys (including their own,
// already written with WriteKv) are in the blocks of block_table.
struct AttentionSequence {
  std::span<const int32_t> block_table;
  int64_t first_token = 0;
  int64_t n_tokens = 0;
  int64_t start_position = 0;
};

struct AttentionArgs {
  AttentionShape shape;
  const KvLayer* layer = nullptr;
  std::span<const AttentionSequence> sequences;
  const float* q = nullptr;  // [tokens][n_heads][head_dim]
  float* out = nullptr;      // [tokens][n_heads][value_dim]
};

namespace attention {
class TileScratch;
struct AttentionTile;
}  // namespace attention

// Buffers PagedAttention reuses across calls (per-thread tiles, partial results), so a
// warm forward pass does not allocate. Owned by one compute thread.
class AttentionScratch {
 public:
  AttentionScratch();
  ~AttentionScratch();
  AttentionScratch(AttentionScratch&&) noexcept;
  AttentionScratch& operator=(AttentionScratch&&) noexcept;

 private:
  friend absl::Status PagedAttention(const AttentionArgs&, AttentionScratch&, ThreadPool&,
                                     CpuLevel);
  std::vector<attention::AttentionTile> tiles_, split_tiles_;
  std::vector<int64_t> partial_offsets_;
  std::vector<std::unique_ptr<attention::TileScratch>> threads_;
  std::vector<float> partials_;
};

// out = softmax(q·kᵀ·scale + causal/window mask)·v for every head of every token of
// args.sequences. InvalidArgument on inconsistent shapes or null pointers; block tables
// must cover each sequence's positions with ids below layer->num_blocks (the caller,
// the forward pass, validates them). `level` above BestCpuLevel() is rejected.
absl::Status PagedAttention(const AttentionArgs& args, AttentionScratch& scratch,
                            ThreadPool& pool, CpuLevel level = BestCpuLevel());

// The first key position a query at `position` sees under the shape's window.
inline int64_t FirstVisiblePosition(const AttentionShape& shape, int64_t position) {
  if (shape.sliding_window <= 0 || position < shape.sliding_window) return 0;
  return position - shape.sliding_window + 1;
}

}  // namespace shoal::kernels

#endif  // SHOAL_KERNELS_ATTENTION_PAGED_ATTENTION_H_
