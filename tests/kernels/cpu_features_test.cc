// kernels/cpu_features.h: level names round-trip, bad names are errors, and the cap
// lowers BestCpuLevel() and SupportedCpuLevels() (never raises them above the CPU's).
#include "kernels/cpu_features.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::kernels {
namespace {

using ::shoal::testing::IsOk;
using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Restores the cap the test main set from SHOAL_CPU_LEVEL (if any) after each test.
class CpuCapTest : public ::testing::Test {
 protected:
  void TearDown() override { SetMaxCpuLevel(saved_); }
  const CpuLevel saved_ = MaxCpuLevel();
};

TEST(ParseCpuLevelTest, AcceptsEveryLevelName) {
  for (CpuLevel level : AllCpuLevels()) {
    absl::StatusOr<CpuLevel> parsed = ParseCpuLevel(CpuLevelName(level));
    ASSERT_THAT(parsed, IsOk()) << CpuLevelName(level);
    EXPECT_EQ(*parsed, level);
  }
  EXPECT_THAT(AllCpuLevels(), ElementsAre(CpuLevel::kScalar, CpuLevel::kAvx2, CpuLevel::kAvx512,
                                          CpuLevel::kAvx512Vnni));
}

TEST(ParseCpuLevelTest, RejectsOtherNames) {
  for (const char* name : {"", "bogus", "AVX2", "avx512_vnni", "avx2 ", "sse4"}) {
    EXPECT_THAT(ParseCpuLevel(name), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("scalar, avx2, avx512 or avx512-vnni")))
        << "'" << name << "'";
  }
}

TEST_F(CpuCapTest, CapLowersTheBestLevel) {
  SetMaxCpuLevel(CpuLevel::kScalar);
  EXPECT_EQ(MaxCpuLevel(), CpuLevel::kScalar);
  EXPECT_EQ(BestCpuLevel(), CpuLevel::kScalar);
  EXPECT_THAT(SupportedCpuLevels(), ElementsAre(CpuLevel::kScalar));
  EXPECT_TRUE(CpuHasLevel(CpuLevel::kScalar));
  EXPECT_FALSE(CpuHasLevel(CpuLevel::kAvx2));
}

TEST_F(CpuCapTest, CapNeverRaisesTheLevelAboveTheCpus) {
  SetMaxCpuLevel(CpuLevel::kAvx512Vnni);
  const CpuLevel detected = BestCpuLevel();
  for (CpuLevel cap : AllCpuLevels()) {
    SetMaxCpuLevel(cap);
    const CpuLevel expected = std::min(cap, detected);
    EXPECT_EQ(BestCpuLevel(), expected) << CpuLevelName(cap);
    const std::vector<CpuLevel> supported = SupportedCpuLevels();
    ASSERT_FALSE(supported.empty());
    EXPECT_EQ(supported.front(), CpuLevel::kScalar);
    EXPECT_EQ(supported.back(), expected);
    EXPECT_EQ(supported.size(), static_cast<size_t>(expected) + 1);
  }
}

TEST_F(CpuCapTest, Avx2CapOnAnAvx512MachineLeavesAvx2) {
  SetMaxCpuLevel(CpuLevel::kAvx512Vnni);
  if (BestCpuLevel() < CpuLevel::kAvx512) GTEST_SKIP() << "CPU lacks avx512";
  SetMaxCpuLevel(CpuLevel::kAvx2);
  EXPECT_EQ(BestCpuLevel(), CpuLevel::kAvx2);
  EXPECT_THAT(SupportedCpuLevels(), ElementsAre(CpuLevel::kScalar, CpuLevel::kAvx2));
}

}  // namespace
}  // namespace shoal::kernels
