// Tests of one CPU level run only where BestCpuLevel() includes it and skip visibly
// elsewhere: calling a level's kernels on a CPU without its instructions dies of SIGILL.
#ifndef SHOAL_TESTS_SUPPORT_CPU_LEVEL_H_
#define SHOAL_TESTS_SUPPORT_CPU_LEVEL_H_

#include <ostream>
#include <string>

#include "gtest/gtest.h"
#include "kernels/cpu_features.h"

namespace shoal::testing {

// Why a test of `level` cannot run here: the CPU lacks it, or SHOAL_CPU_LEVEL caps it.
inline std::string CpuLacksMessage(kernels::CpuLevel level) {
  std::string message = "CPU lacks " + std::string(kernels::CpuLevelName(level));
  if (kernels::MaxCpuLevel() < level) {
    message +=
        " (SHOAL_CPU_LEVEL=" + std::string(kernels::CpuLevelName(kernels::MaxCpuLevel())) + ")";
  }
  return message;
}

}  // namespace shoal::testing

namespace shoal::kernels {
// Readable levels in GoogleTest's messages and ctest's test list.
inline void PrintTo(CpuLevel level, std::ostream* os) { *os << CpuLevelName(level); }
}  // namespace shoal::kernels

// In a test body or SetUp(): skips the rest of the test unless the CPU has `level`.
#define SHOAL_SKIP_UNLESS_CPU_HAS(level)                        \
  do {                                                          \
    if (!::shoal::kernels::CpuHasLevel(level)) {                \
      GTEST_SKIP() << ::shoal::testing::CpuLacksMessage(level); \
    }                                                           \
  } while (0)

#endif  // SHOAL_TESTS_SUPPORT_CPU_LEVEL_H_
