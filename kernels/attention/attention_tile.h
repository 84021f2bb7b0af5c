// The unit of work of PagedAttention (paged_attention.h) and the per-level kernels that
// run it. Private to kernels/attention and its tests.
//
// A tile is the query vectors of a few consecutive tokens of one sequence times the
// query heads that share one KV head (GQA), against a range of key positions: each K
// and V row is read from the cache (and converted from f16) once per tile and used by
// every query vector of it. Keys are visited in chunks of at most kKeyChunk positions
// with an online softmax (running max and sum per query vector), so scratch does not
// grow with the context. A tile over the whole visible range writes final outputs; one
// over part of it (split keys, for long single-sequence decodes) writes a partial
// result that MergePartials() combines.
#ifndef SHOAL_KERNELS_ATTENTION_ATTENTION_TILE_H_
#define SHOAL_KERNELS_ATTENTION_ATTENTION_TILE_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

#include "kernels/attention/paged_attention.h"
#include "kernels/cpu_features.h"

namespace shoal::kernels::attention {

inline constexpr int64_t kKeyChunk = 16;
// Query vectors per tile, unless one token's GQA group alone is larger.
inline constexpr int64_t kTileQueries = 16;
// Row strides in scratch are padded to this many floats (the widest vector), so kernels
// run whole vectors over zero padding instead of tails.
inline constexpr int64_t kPadFloats = 16;

inline int64_t PaddedDim(int64_t dim) { return (dim + kPadFloats - 1) / kPadFloats * kPadFloats; }

struct AttentionTile {
  int64_t sequence = 0;     // index into AttentionArgs::sequences
  int64_t token_begin = 0;  // first token of the tile, counted within the sequence chunk
  int64_t n_tokens = 0;
  int64_t kv_head = 0;
  int64_t key_begin = 0, key_end = 0;  // key positions [begin, end)
  // -1: the tile covers every key its queries see and writes AttentionArgs::out.
  // Otherwise the index of its partial result in the scratch.
  int64_t partial = -1;
};

// A partial result for the n query vectors of a tile: running max m[n], sum l[n], and
// unnormalised accumulator acc[n][PaddedDim(value_dim)].
struct PartialView {
  float* m;
  float* l;
  float* acc;
};

// One thread's buffers, sized for the largest tile so far (grow only).
class TileScratch {
 public:
  void Reserve(int64_t n_queries, int64_t head_dim, int64_t value_dim);
  float* q() { return q_.get(); }          // [n_queries][PaddedDim(head_dim)]
  float* k() { return k_.get(); }          // [kKeyChunk][PaddedDim(head_dim)]
  float* v() { return v_.get(); }          // [kKeyChunk][PaddedDim(value_dim)]
  float* p() { return p_.get(); }          // [n_queries][kKeyChunk]
  float* acc() { return acc_.get(); }      // [n_queries][PaddedDim(value_dim)]
  float* m() { return m_.get(); }          // [n_queries]
  float* l() { return l_.get(); }          // [n_queries]

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  using Buffer = std::unique_ptr<float, Free>;
  static void Grow(Buffer& buffer, int64_t& capacity, int64_t floats);
  Buffer q_, k_, v_, p_, acc_, m_, l_;
  int64_t q_cap_ = 0, k_cap_ = 0, v_cap_ = 0, p_cap_ = 0, acc_cap_ = 0, m_cap_ = 0, l_cap_ = 0;
};

// Runs one tile. `partial` is used when tile.partial >= 0.
using TileFn = void (*)(const AttentionArgs& args, const AttentionTile& tile,
                        TileScratch& scratch, const PartialView& partial);

// Per-level kernels (attention_<level>.cc), and the one for a level.
void RunTileScalar(const AttentionArgs&, const AttentionTile&, TileScratch&, const PartialView&);
void RunTileAvx2(const AttentionArgs&, const AttentionTile&, TileScratch&, const PartialView&);
void RunTileAvx512(const AttentionArgs&, const AttentionTile&, TileScratch&, const PartialView&);
TileFn TileKernelFor(CpuLevel level);

}  // namespace shoal::kernels::attention

#endif  // SHOAL_KERNELS_ATTENTION_ATTENTION_TILE_H_
