// MatMul (kernels/matmul.h) on every weight type and CPU level: against a float64
// product of model/quant's dequantized weights, identical results for any thread count,
// scratch reuse, and argument checking.
#include "kernels/matmul.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "absl/status/status.h"
#include "common/half.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/matmul/activations.h"
#include "tests/kernels/matmul/matmul_test_util.h"
#include "tests/support/cpu_level.h"
#include "tests/support/status_matchers.h"

namespace shoal::kernels {
namespace {

using matmul::ActivationKind;
using matmul::ActivationLayout;
using matmul::testing::BaseSeed;
using ::shoal::testing::IsOk;
using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

struct Case {
  GgmlType type;
  int64_t n_rows, n_cols, n_tokens;
  std::vector<uint8_t> data;
  std::vector<float> x;
  WeightMatrix weights() const { return {type, n_rows, n_cols, data.data()}; }
};

Case MakeCase(GgmlType type, int64_t n_rows, int64_t n_cols, int64_t n_tokens, uint32_t seed) {
  std::mt19937 rng(seed);
  Case c{type, n_rows, n_cols, n_tokens};
  c.data = matmul::testing::RandomWeights(type, n_rows, n_cols, rng);
  c.x = matmul::testing::RandomActivations(n_tokens, n_cols, rng);
  return c;
}

std::vector<float> RunMatMul(const Case& c, ThreadPool& pool, CpuLevel level, int64_t y_stride = 0) {
  if (y_stride == 0) y_stride = c.n_rows;
  std::vector<float> y(c.n_tokens * y_stride, std::numeric_limits<float>::quiet_NaN());
  MatMulScratch scratch;
  const WeightMatrix w = c.weights();
  EXPECT_THAT(MatMul({.weights = &w, .x = c.x.data(), .n_tokens = c.n_tokens, .y = y.data(),
                      .y_stride = y_stride},
                     scratch, pool, level),
              IsOk());
  return y;
}

// How far an activation can move when rounded to its kind (per element, from x alone):
// Q8: half a step of amax/127, plus the fp16 rounding of d (Q8_0/Q8_1); F16/BF16: half
// an ulp.
std::vector<double> ActivationError(ActivationKind kind, const float* x, int64_t n) {
  std::vector<double> e(n, 0.0);
  const int64_t block = kind == ActivationKind::kQ8_K ? 256 : 32;
  for (int64_t k = 0; k < n; ++k) {
    if (kind == ActivationKind::kF16) e[k] = std::fabs(x[k]) * 0x1p-11 + 0x1p-25;
    if (kind == ActivationKind::kBF16) e[k] = std::fabs(x[k]) * 0x1p-8;
  }
  if (kind == ActivationKind::kQ8_0 || kind == ActivationKind::kQ8_1 ||
      kind == ActivationKind::kQ8_K) {
    for (int64_t b = 0; b < n / block; ++b) {
      double amax = 0.0;
      for (int64_t j = 0; j < block; ++j) amax = std::max(amax, std::fabs(double(x[b * block + j])));
      for (int64_t j = 0; j < block; ++j) e[b * block + j] = 0.6 * amax / 127.0;
    }
  }
  return e;
}

class MatMulTest : public ::testing::TestWithParam<std::tuple<GgmlType, CpuLevel>> {
 protected:
  // Every test of a level the CPU lacks skips (its kernels would die of SIGILL).
  void SetUp() override { SHOAL_SKIP_UNLESS_CPU_HAS(std::get<1>(GetParam())); }
};

// Tight: against Σ w·a in float64 with w from model/quant's dequantization and a the
// quantized activations (for Q4_1/Q5_1 with ggml's fp16 s = d·Σq in the min term, as
// llama.cpp computes it); the bound is the float rounding bound of kernels_test.cc.
// Loose: against the unquantized activations, adding Σ|w|·(activation rounding error).
TEST_P(MatMulTest, MatchesFloat64ReferenceOnDequantizedWeights) {
  const auto [type, level] = GetParam();
  ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(2));
  const int64_t block = TraitsOf(type).block_size;
  const GgmlTypeTraits& traits = TraitsOf(type);
  for (int64_t n_cols : {block == 1 ? int64_t{37} : block, block == 1 ? 300 : 3 * block,
                         block == 256 ? int64_t{2048} : int64_t{1024}}) {
    for (auto [n_rows, n_tokens] : {std::pair<int64_t, int64_t>{1, 1}, {37, 1}, {3, 2},
                                    {37, 5}, {16, 33}}) {
      const uint32_t seed = BaseSeed() ^ static_cast<uint32_t>(n_cols * 977 + n_rows * 31 +
                                                               n_tokens + int(type) * 7919);
      SCOPED_TRACE(fmt::format("{} on {}, seed {}",
                               matmul::testing::ShapeName(type, n_rows, n_cols, n_tokens),
                               CpuLevelName(level), seed));
      const Case c = MakeCase(type, n_rows, n_cols, n_tokens, seed);
      const std::vector<float> y = RunMatMul(c, *pool, level);

      const std::vector<float> w =
          matmul::testing::DequantizeWeights(type, c.data, n_rows, n_cols);
      const std::vector<double> mag =
          matmul::testing::WeightMagnitudes(type, c.data, w, n_rows, n_cols);
      const ActivationLayout layout =
          matmul::MakeActivationLayout(matmul::ActivationKindFor(type), n_cols);
      const std::vector<uint8_t> quantized = matmul::testing::QuantizeRows(layout, c.x, n_tokens);
      const bool has_min = type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1;
      for (int64_t t = 0; t < n_tokens; ++t) {
        const uint8_t* row = quantized.data() + t * layout.row_bytes;
        const std::vector<double> a = matmul::testing::DequantizeActivationRow(layout, row);
        const matmul::ActivationRow view = matmul::ViewActivationRow(layout, row);
        const std::vector<double> e = ActivationError(layout.kind, c.x.data() + t * n_cols, n_cols);
        for (int64_t r = 0; r < n_rows; ++r) {
          double exact = 0.0, unquantized = 0.0, m = 0.0, quant_error = 0.0;
          for (int64_t k = 0; k < n_cols; ++k) {
            const double wk = w[r * n_cols + k];
            exact += wk * a[k];
            unquantized += wk * c.x[t * n_cols + k];
            m += mag[r * n_cols + k] * std::fabs(a[k]);
            quant_error += std::fabs(wk) * e[k];
          }
          for (int64_t b = 0; has_min && b < n_cols / 32; ++b) {  // m_w·(s − d·Σq)
            uint16_t m_half;
            std::memcpy(&m_half, c.data.data() + (r * n_cols / 32 + b) * traits.type_size + 2, 2);
            double sum_q = 0.0;
            for (int j = 0; j < 32; ++j) sum_q += view.qs[32 * b + j];
            exact += Fp16ToFloat(m_half) * (view.s[b] - view.d[b] * sum_q);
            m += std::fabs(Fp16ToFloat(m_half) * view.s[b]);
          }
          const double tight = (n_cols / 8 + 16) * 0x1p-23 * m + 1e-30;
          const float actual = y[t * n_rows + r];
          ASSERT_NEAR(actual, exact, tight) << "token " << t << " row " << r;
          ASSERT_NEAR(actual, unquantized, tight + quant_error) << "token " << t << " row " << r;
        }
      }
    }
  }
}

// Every output element is computed by the same sequence of operations whichever thread
// (and whichever split: rows, or tokens when rows are few) gets it.
TEST_P(MatMulTest, ThreadCountDoesNotChangeResults) {
  const auto [type, level] = GetParam();
  const int64_t block = TraitsOf(type).block_size;
  const int64_t n_cols = block == 1 ? 100 : 4 * block;
  for (auto [n_rows, n_tokens] : {std::pair<int64_t, int64_t>{3, 33}, {37, 1}, {100, 5}}) {
    const uint32_t seed = BaseSeed() ^ static_cast<uint32_t>(n_rows * 13 + n_tokens);
    SCOPED_TRACE(fmt::format("{} rows {} tokens, seed {}", n_rows, n_tokens, seed));
    const Case c = MakeCase(type, n_rows, n_cols, n_tokens, seed);
    ASSERT_OK_AND_ASSIGN(auto single, ThreadPool::Create(1));
    const std::vector<float> expected = RunMatMul(c, *single, level, n_rows + 3);
    for (int threads : {2, 3, 4}) {
      ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(threads));
      const std::vector<float> actual = RunMatMul(c, *pool, level, n_rows + 3);
      ASSERT_EQ(std::memcmp(actual.data(), expected.data(), actual.size() * sizeof(float)), 0)
          << threads << " threads";
    }
  }
}

std::string ParamName(const ::testing::TestParamInfo<std::tuple<GgmlType, CpuLevel>>& info) {
  std::string level(CpuLevelName(std::get<1>(info.param)));
  std::replace(level.begin(), level.end(), '-', '_');
  return fmt::format("{}_{}", GgmlTypeName(std::get<0>(info.param)), level);
}

INSTANTIATE_TEST_SUITE_P(AllTypesAndLevels, MatMulTest,
                         ::testing::Combine(::testing::ValuesIn(matmul::testing::MatMulTypes()),
                                            ::testing::ValuesIn(AllCpuLevels())),
                         ParamName);

class MatMulArgsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(pool_, ThreadPool::Create(2));
    data_.assign(4 * 2 * 18, 0);
    x_.assign(3 * 64, 1.0f);
    y_.assign(3 * 4, 0.0f);
  }
  absl::Status Call(WeightMatrix w, MatMulArgs args, CpuLevel level = BestCpuLevel()) {
    args.weights = &w;
    return MatMul(args, scratch_, *pool_, level);
  }
  WeightMatrix Good() { return {GgmlType::kQ4_0, 4, 64, data_.data()}; }
  MatMulArgs GoodArgs() { return {.x = x_.data(), .n_tokens = 3, .y = y_.data(), .y_stride = 4}; }

  std::unique_ptr<ThreadPool> pool_;
  MatMulScratch scratch_;
  std::vector<uint8_t> data_;
  std::vector<float> x_, y_;
};

TEST_F(MatMulArgsTest, AcceptsGoodArguments) { EXPECT_THAT(Call(Good(), GoodArgs()), IsOk()); }

TEST_F(MatMulArgsTest, RejectsBadWeights) {
  const auto invalid = absl::StatusCode::kInvalidArgument;
  MatMulArgs args = GoodArgs();
  args.weights = nullptr;
  EXPECT_THAT(MatMul(args, scratch_, *pool_), StatusIs(invalid, HasSubstr("weights is null")));
  WeightMatrix w = Good();
  w.type = GgmlType::kQ2_K;
  EXPECT_THAT(Call(w, GoodArgs()), StatusIs(invalid, HasSubstr("Q2_K is not supported")));
  w = Good();
  w.type = GgmlType::kQ8_K;
  EXPECT_THAT(Call(w, GoodArgs()), StatusIs(invalid, HasSubstr("not supported")));
  w = Good();
  w.n_cols = 48;
  EXPECT_THAT(Call(w, GoodArgs()), StatusIs(invalid, HasSubstr("multiple of 32")));
  w.n_cols = 0;
  EXPECT_THAT(Call(w, GoodArgs()), StatusIs(invalid, HasSubstr("multiple of 32")));
  w = Good();
  w.n_rows = -1;
  EXPECT_THAT(Call(w, GoodArgs()), StatusIs(invalid, HasSubstr("n_rows >= 0")));
  w = Good();
  w.data = nullptr;
  EXPECT_THAT(Call(w, GoodArgs()), StatusIs(invalid, HasSubstr("weight data is null")));
  w = Good();
  w.n_rows = int64_t{1} << 62;
  MatMulArgs big = GoodArgs();
  big.y_stride = w.n_rows;
  EXPECT_THAT(Call(w, big), StatusIs(invalid, HasSubstr("overflow")));
}

TEST_F(MatMulArgsTest, RejectsBadActivationsAndOutputs) {
  const auto invalid = absl::StatusCode::kInvalidArgument;
  MatMulArgs args = GoodArgs();
  args.x = nullptr;
  EXPECT_THAT(Call(Good(), args), StatusIs(invalid, HasSubstr("x or y is null")));
  args = GoodArgs();
  args.y = nullptr;
  EXPECT_THAT(Call(Good(), args), StatusIs(invalid, HasSubstr("x or y is null")));
  args = GoodArgs();
  args.n_tokens = -1;
  EXPECT_THAT(Call(Good(), args), StatusIs(invalid, HasSubstr("n_tokens")));
  args = GoodArgs();
  args.y_stride = 3;
  EXPECT_THAT(Call(Good(), args), StatusIs(invalid, HasSubstr("y_stride")));
}

TEST_F(MatMulArgsTest, EmptyProblemsWriteNothing) {
  MatMulArgs args = GoodArgs();
  args.n_tokens = 0;
  y_.assign(y_.size(), 7.0f);
  EXPECT_THAT(Call(Good(), args), IsOk());
  WeightMatrix w = Good();
  w.n_rows = 0;
  EXPECT_THAT(Call(w, GoodArgs()), IsOk());
  EXPECT_THAT(y_, ::testing::Each(7.0f));
}

// On a CPU with every level, the cap stands in for one without VNNI.
TEST_F(MatMulArgsTest, RejectsLevelsTheCpuLacks) {
  const CpuLevel saved = MaxCpuLevel();
  SetMaxCpuLevel(CpuLevel::kAvx512);
  EXPECT_THAT(Call(Good(), GoodArgs(), CpuLevel::kAvx512Vnni),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not support")));
  SetMaxCpuLevel(saved);
}

TEST_F(MatMulArgsTest, ScratchIsReusedOnceWarm) {
  ASSERT_THAT(Call(Good(), GoodArgs()), IsOk());
  const size_t capacity = scratch_.capacity();
  const uint8_t* buffer = scratch_.Reserve(0);
  MatMulArgs fewer = GoodArgs();
  fewer.n_tokens = 1;
  ASSERT_THAT(Call(Good(), fewer), IsOk());
  ASSERT_THAT(Call(Good(), GoodArgs()), IsOk());
  EXPECT_EQ(scratch_.capacity(), capacity);
  EXPECT_EQ(scratch_.Reserve(0), buffer);
}

}  // namespace
}  // namespace shoal::kernels
