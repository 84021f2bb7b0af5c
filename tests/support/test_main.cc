// The main() of every GoogleTest binary (in place of gtest_main): applies
// SHOAL_CPU_LEVEL's cap on the kernels' CPU level (kernels/cpu_features.h), then runs
// the tests. Libraries never read the environment, so the cap is set here, before
// GoogleTest builds its parameterized tests and before any kernel runs; ctest's
// "avx2cap." tests run the kernel and model binaries once more under
// SHOAL_CPU_LEVEL=avx2 (tests/CMakeLists.txt).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/cpu_features.h"

namespace {

bool ListingTests(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]).starts_with("--gtest_list_tests")) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (const char* value = std::getenv("SHOAL_CPU_LEVEL"); value != nullptr) {
    const absl::StatusOr<shoal::kernels::CpuLevel> level = shoal::kernels::ParseCpuLevel(value);
    if (!level.ok()) {
      std::fprintf(stderr, "SHOAL_CPU_LEVEL: %s\n", std::string(level.status().message()).c_str());
      return 2;
    }
    shoal::kernels::SetMaxCpuLevel(*level);
    // stderr, and not while ctest lists the tests: stdout is then the test list.
    if (!ListingTests(argc, argv)) {
      std::fprintf(
          stderr, "SHOAL_CPU_LEVEL=%s: kernels run at %s at most\n", value,
          std::string(shoal::kernels::CpuLevelName(shoal::kernels::BestCpuLevel())).c_str());
    }
  }
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
