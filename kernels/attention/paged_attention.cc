// PagedAttention: checks the arguments, cuts the batch into tiles (attention_tile.h),
// runs them on the thread pool, and merges the partial results of split tiles.
#include "kernels/attention/paged_attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "fmt/format.h"
#include "kernels/attention/attention_tile.h"

namespace shoal::kernels {
namespace {

using attention::AttentionTile;
using attention::PaddedDim;
using attention::PartialView;
using attention::TileScratch;

// Splitting a tile's keys costs a merge and re-reads its queries; only worth it when
// each part keeps this many keys.
constexpr int64_t kMinKeysPerSplit = 256;

absl::Status CheckArgs(const AttentionArgs& args, CpuLevel level) {
  const AttentionShape& s = args.shape;
  if (args.layer == nullptr) return absl::InvalidArgumentError("attention: layer is null");
  const KvLayer& layer = *args.layer;
  if (s.n_heads < 1 || s.n_kv_heads < 1 || s.n_heads % s.n_kv_heads != 0 || s.head_dim < 1 ||
      s.value_dim < 1) {
    return absl::InvalidArgumentError(fmt::format(
        "attention: {} query heads, {} KV heads, head dim {}, value dim {} is not a valid shape",
        s.n_heads, s.n_kv_heads, s.head_dim, s.value_dim));
  }
  if (layer.n_kv_heads != s.n_kv_heads || layer.head_dim != s.head_dim ||
      layer.value_dim != s.value_dim || layer.block_size < 1 || layer.k == nullptr ||
      layer.v == nullptr) {
    return absl::InvalidArgumentError("attention: the KV layer does not match the shape");
  }
  for (const AttentionSequence& seq : args.sequences) {
    if (seq.n_tokens < 0 || seq.first_token < 0 || seq.start_position < 0) {
      return absl::InvalidArgumentError("attention: negative sequence bounds");
    }
    const int64_t end = seq.start_position + seq.n_tokens;
    if (seq.n_tokens > 0 &&
        static_cast<int64_t>(seq.block_table.size()) * layer.block_size < end) {
      return absl::InvalidArgumentError(fmt::format(
          "attention: a block table of {} blocks cannot hold {} positions",
          seq.block_table.size(), end));
    }
    if (seq.n_tokens > 0 && (args.q == nullptr || args.out == nullptr)) {
      return absl::InvalidArgumentError("attention: q or out is null");
    }
  }
  if (static_cast<int>(level) > static_cast<int>(BestCpuLevel())) {
    return absl::InvalidArgumentError(
        fmt::format("attention: this CPU does not support level {}", CpuLevelName(level)));
  }
  return absl::OkStatus();
}

// Tiles of up to kTileQueries query vectors (whole GQA groups) per KV head, each over
// every key its queries see.
void MakeTiles(const AttentionArgs& args, std::vector<AttentionTile>& tiles) {
  tiles.clear();
  const int64_t group = args.shape.n_heads / args.shape.n_kv_heads;
  const int64_t tokens_per_tile = std::max<int64_t>(1, attention::kTileQueries / group);
  for (size_t s = 0; s < args.sequences.size(); ++s) {
    const AttentionSequence& seq = args.sequences[s];
    for (int64_t t = 0; t < seq.n_tokens; t += tokens_per_tile) {
      const int64_t n = std::min(tokens_per_tile, seq.n_tokens - t);
      const int64_t first = seq.start_position + t;
      for (int64_t h = 0; h < args.shape.n_kv_heads; ++h) {
        tiles.push_back({.sequence = static_cast<int64_t>(s),
                         .token_begin = t,
                         .n_tokens = n,
                         .kv_head = h,
                         .key_begin = FirstVisiblePosition(args.shape, first),
                         .key_end = first + n});
      }
    }
  }
}

// With fewer tiles than threads, splits long tiles' keys so every thread has work (a
// decode step of one sequence is one tile per KV head). Returns the number of partial
// results, numbering them in the tiles; `split` is scratch.
int64_t SplitKeys(std::vector<AttentionTile>& tiles, int n_threads,
                  std::vector<AttentionTile>& split) {
  const int64_t n_tiles = static_cast<int64_t>(tiles.size());
  if (n_threads < 2 || n_tiles == 0 || n_tiles >= 2 * n_threads) return 0;
  const int64_t wanted = (2 * n_threads + n_tiles - 1) / n_tiles;
  int64_t n_partials = 0;
  split.clear();
  for (const AttentionTile& tile : tiles) {
    const int64_t keys = tile.key_end - tile.key_begin;
    const int64_t parts = std::min(wanted, keys / kMinKeysPerSplit);
    if (parts < 2) {
      split.push_back(tile);
      continue;
    }
    for (int64_t p = 0; p < parts; ++p) {
      AttentionTile part = tile;
      part.key_begin = tile.key_begin + keys * p / parts;
      part.key_end = tile.key_begin + keys * (p + 1) / parts;
      part.partial = n_partials++;
      split.push_back(part);
    }
  }
  tiles.swap(split);
  return n_partials;
}

int64_t QueriesOf(const AttentionArgs& args, const AttentionTile& tile) {
  return tile.n_tokens * (args.shape.n_heads / args.shape.n_kv_heads);
}

// Floats one partial result takes (m, l, acc; see attention::PartialView).
int64_t PartialFloats(const AttentionArgs& args, const AttentionTile& tile) {
  return QueriesOf(args, tile) * (2 + PaddedDim(args.shape.value_dim));
}

PartialView ViewPartial(const AttentionArgs& args, const AttentionTile& tile, float* base) {
  const int64_t nq = QueriesOf(args, tile);
  return {.m = base, .l = base + nq, .acc = base + 2 * nq};
}

// Combines the consecutive split parts [first, last) of one tile into its outputs.
void MergePartials(const AttentionArgs& args, const std::vector<AttentionTile>& tiles,
                   const std::vector<int64_t>& offsets, size_t first, size_t last,
                   float* partials) {
  const AttentionShape& shape = args.shape;
  const AttentionTile& tile = tiles[first];
  const AttentionSequence& seq = args.sequences[tile.sequence];
  const int64_t group = shape.n_heads / shape.n_kv_heads;
  const int64_t dv = PaddedDim(shape.value_dim);
  for (int64_t i = 0; i < QueriesOf(args, tile); ++i) {
    float m = -std::numeric_limits<float>::infinity();
    for (size_t p = first; p < last; ++p) {
      m = std::max(m, ViewPartial(args, tiles[p], partials + offsets[p]).m[i]);
    }
    const int64_t row = seq.first_token + tile.token_begin + i / group;
    const int64_t head = tile.kv_head * group + i % group;
    float* out = args.out + (row * shape.n_heads + head) * shape.value_dim;
    std::fill(out, out + shape.value_dim, 0.0f);
    double l = 0.0;
    for (size_t p = first; p < last; ++p) {
      const PartialView part = ViewPartial(args, tiles[p], partials + offsets[p]);
      if (part.l[i] == 0.0f) continue;
      const float w = std::exp(part.m[i] - m);
      l += static_cast<double>(part.l[i]) * w;
      for (int64_t d = 0; d < shape.value_dim; ++d) out[d] += w * part.acc[i * dv + d];
    }
    const float inv = l > 0.0 ? static_cast<float>(1.0 / l) : 0.0f;
    for (int64_t d = 0; d < shape.value_dim; ++d) out[d] *= inv;
  }
}

}  // namespace

namespace attention {

TileFn TileKernelFor(CpuLevel level) {
  switch (level) {
    case CpuLevel::kScalar: return RunTileScalar;
    case CpuLevel::kAvx2: return RunTileAvx2;
    case CpuLevel::kAvx512:
    case CpuLevel::kAvx512Vnni: return RunTileAvx512;
  }
  return RunTileScalar;
}

}  // namespace attention

AttentionScratch::AttentionScratch() = default;
AttentionScratch::~AttentionScratch() = default;
AttentionScratch::AttentionScratch(AttentionScratch&&) noexcept = default;
AttentionScratch& AttentionScratch::operator=(AttentionScratch&&) noexcept = default;

absl::Status PagedAttention(const AttentionArgs& args, AttentionScratch& scratch,
                            ThreadPool& pool, CpuLevel level) {
  if (absl::Status status = CheckArgs(args, level); !status.ok()) return status;
  std::vector<AttentionTile>& tiles = scratch.tiles_;
  MakeTiles(args, tiles);
  if (tiles.empty()) return absl::OkStatus();
  const int64_t n_partials = SplitKeys(tiles, pool.num_threads(), scratch.split_tiles_);
  std::vector<int64_t>& offsets = scratch.partial_offsets_;
  if (n_partials > 0) {
    offsets.assign(tiles.size(), 0);
    int64_t floats = 0;
    for (size_t i = 0; i < tiles.size(); ++i) {
      offsets[i] = floats;
      if (tiles[i].partial >= 0) floats += PartialFloats(args, tiles[i]);
    }
    scratch.partials_.resize(floats);
  }
  while (static_cast<int>(scratch.threads_.size()) < pool.num_threads()) {
    scratch.threads_.push_back(std::make_unique<TileScratch>());
  }
  const attention::TileFn run_tile = attention::TileKernelFor(level);
  std::atomic<int64_t> next{0};
  const int64_t n_tiles = static_cast<int64_t>(tiles.size());
  auto work = [&](int thread, int) {
    TileScratch& mine = *scratch.threads_[thread];
    for (int64_t i = next.fetch_add(1, std::memory_order_relaxed); i < n_tiles;
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      const AttentionTile& tile = tiles[i];
      const PartialView partial = tile.partial >= 0
                                      ? ViewPartial(args, tile, scratch.partials_.data() + offsets[i])
                                      : PartialView{};
      run_tile(args, tile, mine, partial);
    }
  };
  if (n_tiles == 1) {
    work(0, 1);
  } else {
    pool.Run(work);
  }
  // Split parts of one tile are consecutive.
  for (size_t first = 0; first < tiles.size();) {
    size_t last = first + 1;
    if (tiles[first].partial >= 0) {
      while (last < tiles.size() && tiles[last].partial >= 0 &&
             tiles[last].sequence == tiles[first].sequence &&
             tiles[last].token_begin == tiles[first].token_begin &&
             tiles[last].kv_head == tiles[first].kv_head) {
        ++last;
      }
      MergePartials(args, tiles, offsets, first, last, scratch.partials_.data());
    }
    first = last;
  }
  return absl::OkStatus();
}

}  // namespace shoal::kernels
