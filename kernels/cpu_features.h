// Which SIMD instruction sets the CPU has, as levels the kernels are compiled for.
// Kernels pick the best level at run time; tests run every level the machine has.
//
// The best level can be capped (SetMaxCpuLevel) so a machine with AVX-512 can run, and
// test, the AVX2 or scalar path. Libraries never read the environment: the `shoal`
// binary and the test main read SHOAL_CPU_LEVEL and set the cap.
#ifndef SHOAL_KERNELS_CPU_FEATURES_H_
#define SHOAL_KERNELS_CPU_FEATURES_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace shoal::kernels {

enum class CpuLevel {
  kScalar,      // portable C++: the reference every other level is tested against
  kAvx2,        // AVX2 + FMA + F16C
  kAvx512,      // AVX-512 F/BW/VL/DQ
  kAvx512Vnni,  // plus VNNI (int8 dot products)
};

// "scalar", "avx2", "avx512" or "avx512-vnni".
std::string_view CpuLevelName(CpuLevel level);

// The level CpuLevelName() spells `name` (so SHOAL_CPU_LEVEL's values); anything else is
// InvalidArgument naming the accepted values.
absl::StatusOr<CpuLevel> ParseCpuLevel(std::string_view name);

// Every level there is, from kScalar up, whether or not this CPU has it: tests
// instantiate over these and skip the ones above BestCpuLevel(), so a test's name is
// the same on every machine and a missing level shows up as a skip.
std::vector<CpuLevel> AllCpuLevels();

// Caps BestCpuLevel() at `level` (a cap above what the CPU has changes nothing;
// kAvx512Vnni removes the cap). Call it at startup, before any kernel runs: choices
// made earlier (weights interleaved at load, a MatMul's table) are not revisited.
void SetMaxCpuLevel(CpuLevel level);

// The cap SetMaxCpuLevel() set (kAvx512Vnni when none was).
CpuLevel MaxCpuLevel();

// The best level this CPU supports, at most MaxCpuLevel(). The CPU is probed once;
// the cap is read at every call, so a cap set before or after the first call applies.
CpuLevel BestCpuLevel();

// Every level up to BestCpuLevel(), from kScalar up.
std::vector<CpuLevel> SupportedCpuLevels();

// Whether `level` is at most BestCpuLevel(): the check before calling into a level's
// kernels, which may execute instructions the CPU lacks.
bool CpuHasLevel(CpuLevel level);

}  // namespace shoal::kernels

#endif  // SHOAL_KERNELS_CPU_FEATURES_H_
