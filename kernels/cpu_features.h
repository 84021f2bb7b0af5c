// Which SIMD instruction sets the CPU has, as levels the kernels are compiled for.
// Kernels pick the best level at run time; tests run every level the machine has.
#ifndef SHOAL_KERNELS_CPU_FEATURES_H_
#define SHOAL_KERNELS_CPU_FEATURES_H_

#include <string_view>
#include <vector>

namespace shoal::kernels {

enum class CpuLevel {
  kScalar,      // portable C++: the reference every other level is tested against
  kAvx2,        // AVX2 + FMA + F16C
  kAvx512,      // AVX-512 F/BW/VL/DQ
  kAvx512Vnni,  // plus VNNI (int8 dot products)
};

std::string_view CpuLevelName(CpuLevel level);

// The best level this CPU supports (cached after the first call).
CpuLevel BestCpuLevel();

// Every level this CPU supports, from kScalar up.
std::vector<CpuLevel> SupportedCpuLevels();

}  // namespace shoal::kernels

#endif  // SHOAL_KERNELS_CPU_FEATURES_H_
