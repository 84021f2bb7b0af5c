// Every SIMD level's GEMM tile kernel against the scalar reference kernel (the
// llama.cpp arithmetic, vec_dot_scalar.h), for every weight type and awkward shapes.
//
// Tolerance: both sides compute the same exact integer block sums (or exact float
// products for F16/BF16); they differ only in the order and grouping of the float
// operations that scale and add them. Each of at most n_cols/8 + 16 sequential float
// operations on a side rounds with relative error ≤ 2^-24 of a partial sum bounded by
// M = Σ_k magnitude_k·|a_k| (WeightMagnitudes: |w| plus the offset/min parts the
// kernels carry separately), so |simd − scalar| ≤ (n_cols/8 + 16)·2^-23·M.
#include <cmath>
#include <limits>
#include <random>

#include "fmt/format.h"
#include "gtest/gtest.h"
#include "kernels/interleave.h"
#include "kernels/matmul/kernel_table.h"
#include "tests/kernels/matmul/matmul_test_util.h"
#include "tests/support/cpu_level.h"

namespace shoal::kernels::matmul {
namespace {

using testing::BaseSeed;

std::vector<int64_t> ColumnCounts(GgmlType type) {
  switch (TraitsOf(type).block_size) {
    case 1: return {1, 7, 37, 64, 100, 1000};
    case 32: return {32, 96, 224, 1024};
    default: return {256, 768, 2048};
  }
}

struct Problem {
  GgmlType type;
  int64_t n_rows, n_cols, n_tokens;
  std::vector<uint8_t> weights;
  ActivationLayout layout;
  std::vector<uint8_t> activations;
  std::vector<double> bound;  // [t][r]: the error bound of y[t][r]
};

Problem MakeProblem(GgmlType type, int64_t n_rows, int64_t n_cols, int64_t n_tokens,
                    std::mt19937& rng) {
  Problem p{type, n_rows, n_cols, n_tokens};
  p.weights = testing::RandomWeights(type, n_rows, n_cols, rng);
  p.layout = MakeActivationLayout(ActivationKindFor(type), n_cols);
  p.activations =
      testing::QuantizeRows(p.layout, testing::RandomActivations(n_tokens, n_cols, rng), n_tokens);
  const std::vector<float> w = testing::DequantizeWeights(type, p.weights, n_rows, n_cols);
  const std::vector<double> mag = testing::WeightMagnitudes(type, p.weights, w, n_rows, n_cols);
  const double factor = (n_cols / 8 + 16) * std::ldexp(1.0, -23);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const std::vector<double> a =
        testing::DequantizeActivationRow(p.layout, p.activations.data() + t * p.layout.row_bytes);
    for (int64_t r = 0; r < n_rows; ++r) {
      double m = 0.0;
      for (int64_t k = 0; k < n_cols; ++k) m += mag[r * n_cols + k] * std::fabs(a[k]);
      p.bound.push_back(factor * m + 1e-30);
    }
  }
  return p;
}

// Runs `gemm` on rows [r0, n_rows) × tokens [t0, n_tokens); other outputs stay NaN.
// `weights` replaces p.weights (the same matrix in another layout) when not null.
std::vector<float> RunGemm(GemmFn gemm, const Problem& p, int64_t r0, int64_t t0,
                           const uint8_t* weights = nullptr) {
  std::vector<float> y(p.n_tokens * p.n_rows, std::numeric_limits<float>::quiet_NaN());
  const GemmTile tile{.weights = weights != nullptr ? weights : p.weights.data(),
                      .weight_row_bytes = p.weights.size() / p.n_rows,
                      .n_cols = p.n_cols,
                      .activations = p.activations.data(),
                      .layout = p.layout,
                      .y = y.data(),
                      .y_stride = p.n_rows,
                      .row_begin = r0,
                      .row_end = p.n_rows,
                      .token_begin = t0,
                      .token_end = p.n_tokens};
  gemm(tile);
  return y;
}

// `actual` came from a tile of rows [rb, n_rows) × tokens [tb, n_tokens): those outputs
// are within the problem's bound of `expected`, the others were never written (NaN).
void ExpectTile(const Problem& p, const std::vector<float>& actual,
                const std::vector<float>& expected, int64_t rb, int64_t tb) {
  for (int64_t t = 0; t < p.n_tokens; ++t) {
    for (int64_t r = 0; r < p.n_rows; ++r) {
      const size_t i = t * p.n_rows + r;
      if (t < tb || r < rb) {
        ASSERT_TRUE(std::isnan(actual[i])) << "wrote outside its tile at " << t << "," << r;
        continue;
      }
      ASSERT_NEAR(actual[i], expected[i], p.bound[i]) << "token " << t << " row " << r;
    }
  }
}

class GemmLevelTest : public ::testing::TestWithParam<std::tuple<GgmlType, CpuLevel>> {};

TEST_P(GemmLevelTest, MatchesScalarReference) {
  const auto [type, level] = GetParam();
  SHOAL_SKIP_UNLESS_CPU_HAS(level);
  const int kind = WeightKindIndex(type);
  const GemmFn simd = KernelsFor(level).gemm[kind];
  const GemmFn scalar = ScalarKernels().gemm[kind];
  for (int64_t n_cols : ColumnCounts(type)) {
    for (int64_t n_rows : {1, 3, 37}) {
      for (int64_t n_tokens : {1, 2, 5, 16, 33}) {
        const uint32_t seed =
            BaseSeed() ^ static_cast<uint32_t>((n_cols * 1000003 + n_rows * 101 + n_tokens) * 7 +
                                               kind);
        SCOPED_TRACE(fmt::format("{} on {}, seed {}",
                                 testing::ShapeName(type, n_rows, n_cols, n_tokens),
                                 CpuLevelName(level), seed));
        std::mt19937 rng(seed);
        const Problem p = MakeProblem(type, n_rows, n_cols, n_tokens, rng);
        // A tile that starts inside the matrix checks the offsets; the whole one the rest.
        const int64_t r0 = n_rows > 1 ? 1 : 0, t0 = n_tokens > 1 ? 1 : 0;
        const std::vector<float> expected = RunGemm(scalar, p, 0, 0);
        for (auto [rb, tb] : {std::pair<int64_t, int64_t>{0, 0}, {r0, t0}}) {
          ExpectTile(p, RunGemm(simd, p, rb, tb), expected, rb, tb);
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

// The interleaved layout's kernels (where a level has them, and the scalar fallback
// every other level runs) against the scalar kernel on the same matrix in GGUF layout.
class InterleavedGemmTest : public ::testing::TestWithParam<GgmlType> {};

template <GgmlType kType>
void FallbackGemm(const GemmTile& tile) {
  InterleavedFallbackGemm(kType, tile);
}

GemmFn FallbackFor(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0: return FallbackGemm<GgmlType::kQ4_0>;
    case GgmlType::kQ5_0: return FallbackGemm<GgmlType::kQ5_0>;
    case GgmlType::kQ4_K: return FallbackGemm<GgmlType::kQ4_K>;
    case GgmlType::kQ5_K: return FallbackGemm<GgmlType::kQ5_K>;
    case GgmlType::kQ6_K: return FallbackGemm<GgmlType::kQ6_K>;
    default: return FallbackGemm<GgmlType::kQ8_0>;
  }
}

std::vector<uint8_t> Interleave(const Problem& p) {
  const WeightMatrix rows{.type = p.type, .n_rows = p.n_rows, .n_cols = p.n_cols,
                          .data = p.weights.data()};
  std::vector<uint8_t> out(InterleavedBytes(rows));
  InterleaveRows(rows, out.data());
  return out;
}

TEST_P(InterleavedGemmTest, MatchesScalarReference) {
  const GgmlType type = GetParam();
  const int kind = WeightKindIndex(type);
  const std::vector<int64_t> column_counts =
      TraitsOf(type).block_size == 256 ? std::vector<int64_t>{256, 768}
                                       : std::vector<int64_t>{32, 96, 640};
  for (int64_t n_cols : column_counts) {
    for (int64_t n_rows : {16, 48}) {
      for (int64_t n_tokens : {1, 3, 4, 8, 13, 21}) {
        const uint32_t seed = BaseSeed() ^ static_cast<uint32_t>(n_cols * 7919 + n_rows * 31 +
                                                                 n_tokens + kind * 1000003);
        SCOPED_TRACE(fmt::format("{}, seed {}", testing::ShapeName(type, n_rows, n_cols, n_tokens),
                                 seed));
        std::mt19937 rng(seed);
        const Problem p = MakeProblem(type, n_rows, n_cols, n_tokens, rng);
        const std::vector<uint8_t> interleaved = Interleave(p);
        const std::vector<float> expected = RunGemm(ScalarKernels().gemm[kind], p, 0, 0);
        // The fallback puts each row back and runs the scalar kernel: bit for bit equal.
        const std::vector<float> exact = RunGemm(FallbackFor(type), p, 0, 0, interleaved.data());
        for (size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(exact[i], expected[i]) << i;
        for (CpuLevel level : SupportedCpuLevels()) {
          const GemmFn fast = KernelsFor(level).gemm_interleaved[kind];
          if (fast == nullptr) continue;
          SCOPED_TRACE(CpuLevelName(level));
          // A tile from the second group and the second token checks the offsets.
          const int64_t r0 = n_rows > 16 ? 16 : 0, t0 = n_tokens > 1 ? 1 : 0;
          for (auto [rb, tb] : {std::pair<int64_t, int64_t>{0, 0}, {r0, t0}}) {
            ExpectTile(p, RunGemm(fast, p, rb, tb, interleaved.data()), expected, rb, tb);
            if (::testing::Test::HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(InterleavableTypes, InterleavedGemmTest,
                         ::testing::Values(GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ8_0,
                                           GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K),
                         [](const auto& info) { return std::string(GgmlTypeName(info.param)); });

// Levels that have the fast kernels must be the ones the machine would use: a VNNI
// machine that silently fell back to the scalar path would be correct and 50x slower.
TEST(InterleavedGemm, VnniLevelHasFastKernels) {
  SHOAL_SKIP_UNLESS_CPU_HAS(CpuLevel::kAvx512Vnni);
  for (GgmlType type :
       {GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ5_K,
        GgmlType::kQ6_K}) {
    EXPECT_TRUE(HasInterleavedKernel(type, CpuLevel::kAvx512Vnni)) << GgmlTypeName(type);
    EXPECT_FALSE(HasInterleavedKernel(type, CpuLevel::kScalar)) << GgmlTypeName(type);
  }
  EXPECT_FALSE(HasInterleavedKernel(GgmlType::kQ4_1, CpuLevel::kAvx512Vnni));
}

// A level above BestCpuLevel() has no fast kernel, answered without touching its table
// (built by code the CPU may not run); the cap stands in for a CPU that lacks VNNI.
TEST(InterleavedGemm, LevelsAboveTheBestHaveNoFastKernels) {
  const CpuLevel saved = MaxCpuLevel();
  SetMaxCpuLevel(CpuLevel::kAvx2);
  EXPECT_FALSE(HasInterleavedKernel(GgmlType::kQ4_0, CpuLevel::kAvx512Vnni));
  EXPECT_FALSE(HasInterleavedKernel(GgmlType::kQ4_0, CpuLevel::kAvx512));
  SetMaxCpuLevel(saved);
}

TEST(KernelsForDeathTest, LevelAboveTheBestIsFatal) {
  const CpuLevel saved = MaxCpuLevel();
  SetMaxCpuLevel(CpuLevel::kScalar);
  EXPECT_DEATH(KernelsFor(CpuLevel::kAvx2), "CpuHasLevel");
  SetMaxCpuLevel(saved);
}

std::vector<CpuLevel> SimdLevels() {
  // Every level, so names match on every machine; those the CPU lacks skip.
  std::vector<CpuLevel> levels = AllCpuLevels();
  levels.erase(levels.begin());  // scalar is the reference
  return levels;
}

std::string ParamName(const ::testing::TestParamInfo<std::tuple<GgmlType, CpuLevel>>& info) {
  std::string level(CpuLevelName(std::get<1>(info.param)));
  std::replace(level.begin(), level.end(), '-', '_');
  return fmt::format("{}_{}", GgmlTypeName(std::get<0>(info.param)), level);
}

INSTANTIATE_TEST_SUITE_P(AllTypesAndLevels, GemmLevelTest,
                         ::testing::Combine(::testing::ValuesIn(testing::MatMulTypes()),
                                            ::testing::ValuesIn(SimdLevels())),
                         ParamName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GemmLevelTest);

}  // namespace
}  // namespace shoal::kernels::matmul
