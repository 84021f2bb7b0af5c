#include "kernels/cpu_features.h"

#include <algorithm>
#include <atomic>
#include <string>

#include "absl/status/status.h"

namespace shoal::kernels {
namespace {

constexpr CpuLevel kAllLevels[] = {CpuLevel::kScalar, CpuLevel::kAvx2, CpuLevel::kAvx512,
                                   CpuLevel::kAvx512Vnni};

// Atomic because tests and tools may set it while another thread asks; relaxed is enough
// since the contract is "set before kernels run".
std::atomic<CpuLevel> max_level{CpuLevel::kAvx512Vnni};

CpuLevel DetectedCpuLevel() {
  static const CpuLevel detected = [] {
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
  return detected;
}

}  // namespace

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

absl::StatusOr<CpuLevel> ParseCpuLevel(std::string_view name) {
  for (CpuLevel level : kAllLevels) {
    if (name == CpuLevelName(level)) return level;
  }
  return absl::InvalidArgumentError("unknown CPU level '" + std::string(name) +
                                    "' (expected scalar, avx2, avx512 or avx512-vnni)");
}

std::vector<CpuLevel> AllCpuLevels() { return {std::begin(kAllLevels), std::end(kAllLevels)}; }

void SetMaxCpuLevel(CpuLevel level) { max_level.store(level, std::memory_order_relaxed); }

CpuLevel MaxCpuLevel() { return max_level.load(std::memory_order_relaxed); }

CpuLevel BestCpuLevel() { return std::min(DetectedCpuLevel(), MaxCpuLevel()); }

std::vector<CpuLevel> SupportedCpuLevels() {
  std::vector<CpuLevel> levels;
  for (CpuLevel level : kAllLevels) {
    if (CpuHasLevel(level)) levels.push_back(level);
  }
  return levels;
}

bool CpuHasLevel(CpuLevel level) { return level <= BestCpuLevel(); }

}  // namespace shoal::kernels
