// fp16/bf16 conversions against the CPU's own conversion instructions (F16C), which
// implement IEEE 754 rounding: all 65536 halves, and many floats the other way.
#include "common/half.h"

#include <immintrin.h>

#include <bit>
#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace shoal {
namespace {

__attribute__((target("f16c"))) float HardwareHalfToFloat(uint16_t h) { return _cvtsh_ss(h); }
__attribute__((target("f16c"))) uint16_t HardwareFloatToHalf(float f) {
  return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}

bool HasF16c() { return __builtin_cpu_supports("f16c"); }

TEST(HalfTest, EveryHalfConvertsToTheSameFloatAsF16c) {
  if (!HasF16c()) GTEST_SKIP() << "this CPU has no F16C to compare with";
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float expected = HardwareHalfToFloat(static_cast<uint16_t>(h));
    const float actual = Fp16ToFloat(static_cast<uint16_t>(h));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(actual)) << std::hex << h;
    } else {
      ASSERT_EQ(std::bit_cast<uint32_t>(actual), std::bit_cast<uint32_t>(expected)) << std::hex << h;
    }
  }
}

TEST(HalfTest, FloatsRoundToTheSameHalfAsF16c) {
  if (!HasF16c()) GTEST_SKIP() << "this CPU has no F16C to compare with";
  std::mt19937 rng(42);
  std::uniform_int_distribution<uint32_t> bits;
  auto check = [](float f) {
    const uint16_t expected = HardwareFloatToHalf(f);
    const uint16_t actual = FloatToFp16(f);
    if (std::isnan(f)) {
      EXPECT_EQ(actual & 0x7C00, 0x7C00);
      EXPECT_NE(actual & 0x3FF, 0);
    } else {
      ASSERT_EQ(actual, expected) << f << " (bits " << std::hex << std::bit_cast<uint32_t>(f) << ")";
    }
  };
  for (int i = 0; i < 2'000'000; ++i) check(std::bit_cast<float>(bits(rng)));
  // Ties and boundaries: every half's neighbourhood, the overflow edge, subnormals.
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const float f = Fp16ToFloat(static_cast<uint16_t>(h));
    for (float g : {f, std::nextafter(f, 0.0f), std::nextafter(f, 1e9f), -f}) check(g);
    const float next = Fp16ToFloat(static_cast<uint16_t>(h + 1));
    check((f + next) / 2);  // exact midpoint in float
  }
  for (float f : {65504.0f, 65519.99f, 65520.0f, 1e10f, 5.96e-8f, 2.98e-8f, 2.99e-8f}) check(f);
}

TEST(HalfTest, Bf16RoundsToNearestEvenAndKeepsNan) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3F80);
  EXPECT_EQ(Bf16ToFloat(0x3F80), 1.0f);
  // 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125: ties to even (1.0).
  EXPECT_EQ(FloatToBf16(1.00390625f), 0x3F80);
  // 1.0078125 + 2^-8 is halfway to 1.015625: ties to even (1.015625 = 0x3F82).
  EXPECT_EQ(FloatToBf16(1.01171875f), 0x3F82);
  const uint16_t nan = FloatToBf16(std::bit_cast<float>(0x7F800001u));
  EXPECT_TRUE(std::isnan(Bf16ToFloat(nan)));
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const float f = Bf16ToFloat(static_cast<uint16_t>(b));
    if (!std::isnan(f)) ASSERT_EQ(FloatToBf16(f), b);  // exact values round-trip
  }
}

}  // namespace
}  // namespace shoal
