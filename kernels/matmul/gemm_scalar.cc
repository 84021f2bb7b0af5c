// The scalar level: every output element is one reference dot product
// (vec_dot_scalar.h), and activations go through the reference quantizer.
#include <vector>

#include "kernels/interleave.h"
#include "kernels/matmul/kernel_table.h"
#include "kernels/matmul/vec_dot_scalar.h"

namespace shoal::kernels::matmul {
namespace {

template <WeightKind kKind>
void GemmScalar(const GemmTile& tile) {
  for (int64_t t = tile.token_begin; t < tile.token_end; ++t) {
    const ActivationRow a =
        ViewActivationRow(tile.layout, tile.activations + t * tile.layout.row_bytes);
    for (int64_t r = tile.row_begin; r < tile.row_end; ++r) {
      tile.y[t * tile.y_stride + r] =
          VecDotScalar(kKind, tile.n_cols, tile.weights + r * tile.weight_row_bytes, a);
    }
  }
}

LevelKernels MakeScalarKernels() {
  LevelKernels k;
  k.gemm[static_cast<int>(WeightKind::kF32)] = GemmScalar<WeightKind::kF32>;
  k.gemm[static_cast<int>(WeightKind::kF16)] = GemmScalar<WeightKind::kF16>;
  k.gemm[static_cast<int>(WeightKind::kBF16)] = GemmScalar<WeightKind::kBF16>;
  k.gemm[static_cast<int>(WeightKind::kQ4_0)] = GemmScalar<WeightKind::kQ4_0>;
  k.gemm[static_cast<int>(WeightKind::kQ4_1)] = GemmScalar<WeightKind::kQ4_1>;
  k.gemm[static_cast<int>(WeightKind::kQ5_0)] = GemmScalar<WeightKind::kQ5_0>;
  k.gemm[static_cast<int>(WeightKind::kQ5_1)] = GemmScalar<WeightKind::kQ5_1>;
  k.gemm[static_cast<int>(WeightKind::kQ8_0)] = GemmScalar<WeightKind::kQ8_0>;
  k.gemm[static_cast<int>(WeightKind::kQ4_K)] = GemmScalar<WeightKind::kQ4_K>;
  k.gemm[static_cast<int>(WeightKind::kQ5_K)] = GemmScalar<WeightKind::kQ5_K>;
  k.gemm[static_cast<int>(WeightKind::kQ6_K)] = GemmScalar<WeightKind::kQ6_K>;
  for (QuantizeRowFn& fn : k.quantize) fn = QuantizeRowReference;
  return k;
}

}  // namespace

void InterleavedFallbackGemm(GgmlType type, const GemmTile& tile) {
  const auto kind = static_cast<WeightKind>(WeightKindIndex(type));
  const int64_t n_rows = tile.row_end;  // enough for DeinterleaveRow to find any row
  const WeightMatrix w{.type = type, .n_rows = n_rows, .n_cols = tile.n_cols,
                       .data = tile.weights, .layout = WeightLayout::kInterleaved16};
  std::vector<uint8_t> row(tile.weight_row_bytes);
  for (int64_t r = tile.row_begin; r < tile.row_end; ++r) {
    DeinterleaveRow(w, r, row.data());
    for (int64_t t = tile.token_begin; t < tile.token_end; ++t) {
      const ActivationRow a =
          ViewActivationRow(tile.layout, tile.activations + t * tile.layout.row_bytes);
      tile.y[t * tile.y_stride + r] = VecDotScalar(kind, tile.n_cols, row.data(), a);
    }
  }
}

const LevelKernels& ScalarKernels() {
  static const LevelKernels kernels = MakeScalarKernels();
  return kernels;
}

}  // namespace shoal::kernels::matmul
