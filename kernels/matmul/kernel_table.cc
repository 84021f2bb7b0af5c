// Weight kinds and the choice of a level's kernel table.
#include "kernels/matmul/kernel_table.h"

#include "common/check.h"

namespace shoal::kernels::matmul {

int WeightKindIndex(GgmlType type) {
  switch (type) {
    case GgmlType::kF32: return static_cast<int>(WeightKind::kF32);
    case GgmlType::kF16: return static_cast<int>(WeightKind::kF16);
    case GgmlType::kBF16: return static_cast<int>(WeightKind::kBF16);
    case GgmlType::kQ4_0: return static_cast<int>(WeightKind::kQ4_0);
    case GgmlType::kQ4_1: return static_cast<int>(WeightKind::kQ4_1);
    case GgmlType::kQ5_0: return static_cast<int>(WeightKind::kQ5_0);
    case GgmlType::kQ5_1: return static_cast<int>(WeightKind::kQ5_1);
    case GgmlType::kQ8_0: return static_cast<int>(WeightKind::kQ8_0);
    case GgmlType::kQ4_K: return static_cast<int>(WeightKind::kQ4_K);
    case GgmlType::kQ5_K: return static_cast<int>(WeightKind::kQ5_K);
    case GgmlType::kQ6_K: return static_cast<int>(WeightKind::kQ6_K);
    default: return -1;
  }
}

const LevelKernels& KernelsFor(CpuLevel level) {
  // A level's table is built by code compiled for that level: touching it on a CPU
  // without the instructions dies of SIGILL, far from the caller's mistake.
  SHOAL_CHECK(CpuHasLevel(level));
  switch (level) {
    case CpuLevel::kScalar: return ScalarKernels();
    case CpuLevel::kAvx2: return Avx2Kernels();
    case CpuLevel::kAvx512: return Avx512Kernels();
    case CpuLevel::kAvx512Vnni: return Avx512VnniKernels();
  }
  return ScalarKernels();
}

}  // namespace shoal::kernels::matmul
