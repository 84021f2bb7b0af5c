// The kernels of one CPU level: a GEMM tile function per weight type and an activation
// quantizer per activation kind. MatMul (matmul.cc) picks a table with KernelsFor() and
// splits the work; tests run every table against the scalar one.
#ifndef SHOAL_KERNELS_MATMUL_KERNEL_TABLE_H_
#define SHOAL_KERNELS_MATMUL_KERNEL_TABLE_H_

#include <cstddef>
#include <cstdint>

#include "common/ggml_types.h"
#include "kernels/cpu_features.h"
#include "kernels/matmul/activations.h"

namespace shoal::kernels::matmul {

// One rectangle of the output: y[t][r] for rows [row_begin, row_end) of the weights and
// tokens [token_begin, token_end) of the activations.
struct GemmTile {
  const uint8_t* weights = nullptr;  // row 0 of the weight matrix
  size_t weight_row_bytes = 0;
  int64_t n_cols = 0;
  const uint8_t* activations = nullptr;  // token 0, rows activation_row_bytes apart
  ActivationLayout layout;
  float* y = nullptr;  // y[t * y_stride + r]
  int64_t y_stride = 0;
  int64_t row_begin = 0, row_end = 0;
  int64_t token_begin = 0, token_end = 0;
};

using GemmFn = void (*)(const GemmTile& tile);

// Indexes of the weight types MatMul accepts, for the tables below.
enum class WeightKind { kF32, kF16, kBF16, kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0, kQ4_K, kQ5_K,
                        kQ6_K };
inline constexpr int kNumWeightKinds = 11;

// The weight kind of a type, or -1 when MatMul does not accept it.
int WeightKindIndex(GgmlType type);

struct LevelKernels {
  GemmFn gemm[kNumWeightKinds] = {};
  // For weights in WeightLayout::kInterleaved16 (kernels/interleave.h), where the level
  // has a fast kernel; null elsewhere (MatMul then runs InterleavedFallbackGemm). Tiles
  // of these start and end on multiples of 16 rows; tile.weight_row_bytes is still the
  // GGUF row size (the records' size is the layout's, kernels/interleave.h).
  GemmFn gemm_interleaved[kNumWeightKinds] = {};
  QuantizeRowFn quantize[kNumActivationKinds] = {};
};

// The reference for interleaved weights: each row put back in GGUF layout and run
// through the scalar kernel, so its outputs equal the scalar level's on the original
// matrix bit for bit. Any rows.
// `type` is the matrix's (an interleavable one).
void InterleavedFallbackGemm(GgmlType type, const GemmTile& tile);

// The table of a level. Fatal unless CpuHasLevel(level): callers check first (MatMul
// rejects such a level with a Status; HasInterleavedKernel answers false).
const LevelKernels& KernelsFor(CpuLevel level);

// Per-level tables, defined in gemm_<level>.cc.
const LevelKernels& ScalarKernels();
const LevelKernels& Avx2Kernels();
const LevelKernels& Avx512Kernels();
const LevelKernels& Avx512VnniKernels();

}  // namespace shoal::kernels::matmul

#endif  // SHOAL_KERNELS_MATMUL_KERNEL_TABLE_H_
