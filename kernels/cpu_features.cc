#include "kernels/cpu_features.h"

namespace shoal::kernels {

std::string_view CpuLevelName(CpuLevel level) {
  switch (level) {
    case CpuLevel::kScalar:
      return "scalar";
    case CpuLevel::kAvx2:
      return "avx2";
    case CpuLevel::kAvx512:
      return "avx512";
    case CpuLevel::kAvx512Vnni:
      return "avx512-vnni";
  }
  return "unknown";
}

CpuLevel BestCpuLevel() {
  static const CpuLevel best = [] {
#if defined(__x86_64__)
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                      __builtin_cpu_supports("f16c");
    const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                        __builtin_cpu_supports("avx512dq");
    if (avx512 && __builtin_cpu_supports("avx512vnni")) return CpuLevel::kAvx512Vnni;
    if (avx512) return CpuLevel::kAvx512;
    if (avx2) return CpuLevel::kAvx2;
#endif
    return CpuLevel::kScalar;
  }();
  return best;
}

std::vector<CpuLevel> SupportedCpuLevels() {
  std::vector<CpuLevel> levels;
  for (CpuLevel level :
       {CpuLevel::kScalar, CpuLevel::kAvx2, CpuLevel::kAvx512, CpuLevel::kAvx512Vnni}) {
    if (static_cast<int>(level) <= static_cast<int>(BestCpuLevel())) levels.push_back(level);
  }
  return levels;
}

}  // namespace shoal::kernels
