#include "worker/sampler/sampling_rng.h"

#include "gtest/gtest.h"

namespace shoal::worker {
namespace {

TEST(SamplingRngTest, MixIsSplitMix64) {
  // The first output of SplitMix64 seeded with 0 (its published test vector).
  EXPECT_EQ(SamplingRng::Mix(SamplingRng::kGolden), 0xE220A8397B1DCDAFULL);
}

// Pinned values (computed independently in Python) so that a seed means the same
// tokens on every platform and in every future build.
TEST(SamplingRngTest, StreamIsPinned) {
  const SamplingRng rng(42);
  EXPECT_EQ(rng.Bits(0), 0x57E1FABA65107204ULL);
  EXPECT_EQ(rng.Bits(1), 0xF4ABD143FEB24055ULL);
  EXPECT_EQ(rng.Bits(2), 0x7C816738C12903B2ULL);
  EXPECT_DOUBLE_EQ(rng.Uniform(0), 0.34329192209867343);
  EXPECT_DOUBLE_EQ(rng.Uniform(1), 0.9557467261317436);
}

TEST(SamplingRngTest, UniformStaysInUnitInterval) {
  const SamplingRng rng(7);
  double sum = 0;
  for (uint64_t n = 0; n < 100000; ++n) {
    const double u = rng.Uniform(n);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
}

TEST(SamplingRngTest, NearbySeedsGiveUnrelatedStreams) {
  // Without hashing the seed, seed s + kGolden would replay seed s shifted by one.
  const SamplingRng a(5), b(5 + SamplingRng::kGolden);
  EXPECT_NE(a.Bits(1), b.Bits(0));
}

}  // namespace
}  // namespace shoal::worker
