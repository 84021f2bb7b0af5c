// The element-wise ops of kernels/ops against independent references: GeGLU bit for bit
// against ggml's fp16-table semantics (written out here), SwiGLU and RMSNorm against
// float64, RoPE against float64 rotations with ggml's angles; lengths that are not a
// multiple of any vector width, and the GELU table's edges (±10, huge, tiny inputs).
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "common/half.h"
#include "gtest/gtest.h"
#include "kernels/ops/activations.h"
#include "kernels/ops/norm.h"
#include "kernels/ops/rope.h"

namespace shoal::kernels {
namespace {

std::vector<float> Inputs(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  // Edges of the GELU table and of the SiLU's exp.
  const float edges[] = {-10.0f, 10.0f, -10.001f, 9.999f, 1e-8f, -1e-30f, 0.0f, -0.0f,
                         60000.0f, -60000.0f, 88.5f, -88.5f, 3.0e-5f};
  for (size_t i = 0; i < std::size(edges) && i < x.size(); ++i) x[i * 3 % n] = edges[i];
  return x;
}

class GatedActivationTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(GatedActivationTest, GeGluIsGgmlsTableBitForBit) {
  const int64_t n = GetParam();
  const std::vector<float> gate = Inputs(n, 1, 4.0f), up = Inputs(n, 2, 1.0f);
  std::vector<float> out(n);
  GeGluTanh(gate.data(), up.data(), n, out.data());
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    float gelu;
    if (x <= -10.0f) {
      gelu = 0.0f;
    } else if (x >= 10.0f) {
      gelu = x;
    } else {
      // ggml builds its table with this float formula (ggml_gelu_f32), cancellation and all.
      const float xh = Fp16ToFloat(FloatToFp16(x));
      const float t = std::tanh(0.79788456080286535587989211986876f * xh *
                                (1.0f + 0.044715f * xh * xh));
      gelu = Fp16ToFloat(FloatToFp16(0.5f * xh * (1.0f + t)));
    }
    const float expected = x <= -10.0f ? 0.0f : gelu * up[i];
    ASSERT_EQ(std::memcmp(&out[i], &expected, sizeof(float)), 0)
        << "x = " << x << " at " << i << ": " << out[i] << " vs " << expected;
  }
}

TEST_P(GatedActivationTest, GeGluIsTheSameForEveryLengthAndOffset) {
  // The SIMD body and the scalar tail must agree: element i does not depend on n.
  const int64_t n = GetParam();
  const std::vector<float> gate = Inputs(n + 9, 3, 4.0f), up = Inputs(n + 9, 4, 1.0f);
  std::vector<float> whole(n + 9), parts(n + 9);
  GeGluTanh(gate.data(), up.data(), n + 9, whole.data());
  GeGluTanh(gate.data(), up.data(), 3, parts.data());
  GeGluTanh(gate.data() + 3, up.data() + 3, n + 6, parts.data() + 3);
  for (int64_t i = 0; i < n + 9; ++i) {
    ASSERT_EQ(std::memcmp(&whole[i], &parts[i], sizeof(float)), 0)
        << "at " << i << " (x = " << gate[i] << "): " << whole[i] << " vs " << parts[i];
  }
}

TEST_P(GatedActivationTest, SwiGluMatchesFloat64) {
  const int64_t n = GetParam();
  const std::vector<float> gate = Inputs(n, 5, 4.0f), up = Inputs(n, 6, 1.0f);
  std::vector<float> out(n);
  SwiGlu(gate.data(), up.data(), n, out.data());
  for (int64_t i = 0; i < n; ++i) {
    const double x = gate[i];
    const double expected = x / (1.0 + std::exp(-x)) * up[i];
    // float32 exp, division and product: a few ulps; below 1e-30 (SiLU of x < -60, where
    // exp nears its range limits) only the magnitude matters.
    ASSERT_NEAR(out[i], expected, std::abs(expected) * 4e-7 + 1e-30) << "x = " << x;
  }
}

TEST_P(GatedActivationTest, SwiGluMayWriteIntoGate) {
  const int64_t n = GetParam();
  std::vector<float> gate = Inputs(n, 7, 2.0f);
  const std::vector<float> up = Inputs(n, 8, 1.0f);
  std::vector<float> separate(n);
  SwiGlu(gate.data(), up.data(), n, separate.data());
  SwiGlu(gate.data(), up.data(), n, gate.data());
  EXPECT_EQ(0, std::memcmp(gate.data(), separate.data(), n * sizeof(float)));
}

INSTANTIATE_TEST_SUITE_P(Lengths, GatedActivationTest,
                         ::testing::Values(1, 7, 8, 9, 16, 31, 640, 2048 + 5));

TEST(RmsNormTest, MatchesFloat64) {
  for (int64_t n : {1, 7, 640, 1000}) {
    const std::vector<float> x = Inputs(n, 9, 30.0f), w = Inputs(n, 10, 1.0f);
    std::vector<float> y(n);
    RmsNorm(x.data(), w.data(), 1e-6f, n, y.data());
    double sum = 0;
    for (float v : x) sum += double{v} * v;
    const double scale = 1.0 / std::sqrt(sum / n + 1e-6);
    for (int64_t i = 0; i < n; ++i) {
      const double expected = x[i] * scale * w[i];
      ASSERT_NEAR(y[i], expected, std::abs(expected) * 1e-6 + 1e-30) << n << " " << i;
    }
  }
}

TEST(RopeTest, RotatesPairsByGgmlAngles) {
  for (RopeStyle style : {RopeStyle::kNorm, RopeStyle::kNeox}) {
    const int64_t head_dim = 12, n_rot = 8, n_heads = 3, position = 37;
    const float freq_factors[4] = {1.0f, 2.0f, 1.0f, 8.0f};
    RopeParams params{.style = style, .n_rot = n_rot, .freq_base = 10000.0f,
                      .freq_scale = 0.5f, .freq_factors = freq_factors};
    std::vector<float> angles(n_rot);
    RopeAngles(params, position, angles.data());
    std::vector<float> x = Inputs(n_heads * head_dim, 11, 1.0f);
    const std::vector<float> before = x;
    RopeApply(params, angles.data(), n_heads, head_dim, x.data());
    for (int64_t h = 0; h < n_heads; ++h) {
      for (int64_t i = 0; i < n_rot / 2; ++i) {
        const double theta = position * std::pow(10000.0, -2.0 * i / n_rot) / freq_factors[i] * 0.5;
        const int64_t a = style == RopeStyle::kNorm ? 2 * i : i;
        const int64_t b = style == RopeStyle::kNorm ? 2 * i + 1 : i + n_rot / 2;
        const double x0 = before[h * head_dim + a], x1 = before[h * head_dim + b];
        // Float angles built by repeated products (ggml's way): ~1e-6 relative.
        const double tolerance = 1e-5 * (std::abs(x0) + std::abs(x1)) + 1e-6;
        EXPECT_NEAR(x[h * head_dim + a], x0 * std::cos(theta) - x1 * std::sin(theta), tolerance);
        EXPECT_NEAR(x[h * head_dim + b], x0 * std::sin(theta) + x1 * std::cos(theta), tolerance);
      }
      for (int64_t i = n_rot; i < head_dim; ++i) {  // the dimensions past n_rot stay
        EXPECT_EQ(x[h * head_dim + i], before[h * head_dim + i]);
      }
    }
  }
}

}  // namespace
}  // namespace shoal::kernels
