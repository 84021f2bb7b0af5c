// MatMul: checks the arguments, rounds the activation rows to the weight type's
// dot-product partner once (into the scratch), then splits the output over the thread
// pool and runs the level's GEMM tile kernel on each part.
#include "kernels/matmul.h"

#include <algorithm>

#include "absl/status/status.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "kernels/interleave.h"
#include "kernels/matmul/activations.h"
#include "kernels/matmul/kernel_table.h"

namespace shoal::kernels {
namespace {

using matmul::ActivationLayout;
using matmul::GemmTile;
using matmul::LevelKernels;

// Rows per unit of work handed to a thread: a multiple of every micro-tile height and of
// the interleaved layout's 16-row groups.
constexpr int64_t kRowChunk = 16;

absl::Status CheckShape(const MatMulArgs& args, CpuLevel level) {
  if (args.weights == nullptr) return absl::InvalidArgumentError("matmul: weights is null");
  const WeightMatrix& w = *args.weights;
  if (!IsMatMulWeightType(w.type)) {
    return absl::InvalidArgumentError(
        fmt::format("matmul: weight type {} is not supported", GgmlTypeName(w.type)));
  }
  const int64_t block = TraitsOf(w.type).block_size;
  if (w.n_rows < 0 || w.n_cols <= 0 || w.n_cols % block != 0) {
    return absl::InvalidArgumentError(fmt::format(
        "matmul: a {} weight matrix needs n_rows >= 0 and n_cols a positive multiple of {}, "
        "got {} x {}", GgmlTypeName(w.type), block, w.n_rows, w.n_cols));
  }
  if (args.n_tokens < 0) {
    return absl::InvalidArgumentError(fmt::format("matmul: n_tokens is {}", args.n_tokens));
  }
  if (args.y_stride < w.n_rows) {
    return absl::InvalidArgumentError(fmt::format(
        "matmul: y_stride {} is less than the {} output rows", args.y_stride, w.n_rows));
  }
  int64_t product;
  if (w.n_cols > (int64_t{1} << 40) ||
      __builtin_mul_overflow(w.n_rows, w.row_bytes(), &product) ||
      __builtin_mul_overflow(args.n_tokens, args.y_stride, &product) ||
      __builtin_mul_overflow(args.n_tokens, w.n_cols, &product)) {
    return absl::InvalidArgumentError("matmul: sizes overflow");
  }
  if (w.layout == WeightLayout::kInterleaved16) {
    WeightMatrix rows = w;
    rows.layout = WeightLayout::kRows;
    if (!CanInterleave(rows)) {
      return absl::InvalidArgumentError(fmt::format(
          "matmul: a {} x {} {} matrix cannot be in the interleaved layout", w.n_rows, w.n_cols,
          GgmlTypeName(w.type)));
    }
  }
  if (w.n_rows > 0 && w.data == nullptr) {
    return absl::InvalidArgumentError("matmul: weight data is null");
  }
  if (args.n_tokens > 0 && (args.x == nullptr || args.y == nullptr)) {
    return absl::InvalidArgumentError("matmul: x or y is null");
  }
  if (static_cast<int>(level) > static_cast<int>(BestCpuLevel())) {
    return absl::InvalidArgumentError(fmt::format(
        "matmul: this CPU does not support level {}", CpuLevelName(level)));
  }
  return absl::OkStatus();
}

// `pool` null: everything on the calling thread.
void QuantizeActivations(const MatMulArgs& args, const LevelKernels& kernels,
                         const ActivationLayout& layout, uint8_t* out, ThreadPool* pool) {
  const matmul::QuantizeRowFn quantize = kernels.quantize[static_cast<int>(layout.kind)];
  const int64_t n_cols = layout.n_cols;
  auto rows = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      quantize(layout, args.x + t * n_cols, out + t * layout.row_bytes);
    }
  };
  // Spreading costs a pool wake-up; worth it once there are a few rows per thread.
  if (pool != nullptr && args.n_tokens >= 4 * pool->num_threads()) {
    pool->ParallelFor(args.n_tokens, 1, rows);
  } else {
    rows(0, args.n_tokens);
  }
}

// MatMul with `pool` null meaning the calling thread alone.
absl::Status MatMulOn(const MatMulArgs& args, MatMulScratch& scratch, ThreadPool* pool,
                      CpuLevel level) {
  SHOAL_RETURN_IF_ERROR(CheckShape(args, level));
  const WeightMatrix& w = *args.weights;
  if (args.n_tokens == 0 || w.n_rows == 0) return absl::OkStatus();

  const int kind = matmul::WeightKindIndex(w.type);
  const LevelKernels& kernels = matmul::KernelsFor(level);
  const ActivationLayout layout =
      matmul::MakeActivationLayout(matmul::ActivationKindFor(w.type), w.n_cols);
  size_t scratch_bytes;
  if (__builtin_mul_overflow(static_cast<size_t>(args.n_tokens), layout.row_bytes,
                             &scratch_bytes)) {
    return absl::InvalidArgumentError("matmul: activation size overflows");
  }
  uint8_t* activations = scratch.Reserve(scratch_bytes);
  if (activations == nullptr) {
    return absl::ResourceExhaustedError(
        fmt::format("matmul: cannot allocate {} bytes of scratch", scratch_bytes));
  }
  QuantizeActivations(args, kernels, layout, activations, pool);

  GemmTile whole{.weights = w.data,
                 .weight_row_bytes = static_cast<size_t>(w.row_bytes()),
                 .n_cols = w.n_cols,
                 .activations = activations,
                 .layout = layout,
                 .y = args.y,
                 .y_stride = args.y_stride,
                 .row_begin = 0,
                 .row_end = w.n_rows,
                 .token_begin = 0,
                 .token_end = args.n_tokens};
  const bool interleaved = w.layout == WeightLayout::kInterleaved16;
  const matmul::GemmFn gemm = interleaved ? kernels.gemm_interleaved[kind] : kernels.gemm[kind];
  auto run_tile = [&](const GemmTile& tile) {
    if (gemm != nullptr) gemm(tile);
    else matmul::InterleavedFallbackGemm(w.type, tile);
  };
  const int64_t row_chunks = (w.n_rows + kRowChunk - 1) / kRowChunk;
  // Split the rows (every thread streams its own slice of W), unless there are too few
  // rows to go round and enough tokens instead.
  const int n_threads = pool != nullptr ? pool->num_threads() : 1;
  const bool split_tokens = row_chunks < n_threads && args.n_tokens >= row_chunks * 2;
  const int64_t units = split_tokens ? args.n_tokens : row_chunks;
  const int parts = static_cast<int>(std::min<int64_t>(n_threads, units));
  auto run_part = [&](int part) {
    GemmTile tile = whole;
    const int64_t begin = units * part / parts, end = units * (part + 1) / parts;
    if (split_tokens) {
      tile.token_begin = begin;
      tile.token_end = end;
    } else {
      tile.row_begin = begin * kRowChunk;
      tile.row_end = std::min(end * kRowChunk, w.n_rows);
    }
    if (tile.row_begin < tile.row_end && tile.token_begin < tile.token_end) run_tile(tile);
  };
  if (parts == 1) {
    run_part(0);
  } else {
    pool->Run([&](int thread, int) {
      if (thread < parts) run_part(thread);
    });
  }
  return absl::OkStatus();
}

}  // namespace

bool IsMatMulWeightType(GgmlType type) { return matmul::WeightKindIndex(type) >= 0; }

absl::Status MatMul(const MatMulArgs& args, MatMulScratch& scratch, ThreadPool& pool,
                    CpuLevel level) {
  return MatMulOn(args, scratch, &pool, level);
}

absl::Status MatMulOnThisThread(const MatMulArgs& args, MatMulScratch& scratch, CpuLevel level) {
  return MatMulOn(args, scratch, nullptr, level);
}

}  // namespace shoal::kernels
