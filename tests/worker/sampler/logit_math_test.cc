#include "worker/sampler/logit_math.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "worker/sampler/raw_logprobs.h"

namespace shoal::worker {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(LogitMathTest, ExpIsWithinTwoUlpOnItsRange) {
  for (float x = -86.9f; x <= 0.0f; x += 0.0137f) {
    const double exact = std::exp(static_cast<double>(x));
    EXPECT_NEAR(ExpNonPositive(x), exact, 2.5e-7 * exact) << x;
  }
  EXPECT_EQ(ExpNonPositive(0.0f), 1.0f);
  EXPECT_EQ(ExpNonPositive(-100.0f), 0.0f);
  EXPECT_EQ(ExpNonPositive(-kInf), 0.0f);
  EXPECT_EQ(ExpNonPositive(kNaN), 0.0f);
}

TEST(LogitMathTest, MaxIgnoresNaNEverywhereInTheRow) {
  for (size_t n : {1u, 5u, 16u, 37u}) {
    for (size_t at = 0; at < n; ++at) {
      std::vector<float> row(n, kNaN);
      row[at] = -3.0f;
      EXPECT_EQ(MaxLogit(row), -3.0f) << n << " " << at;
      EXPECT_EQ(FirstIndexOf(row, -3.0f), static_cast<int64_t>(at));
    }
  }
  EXPECT_EQ(MaxLogit(std::vector<float>(7, kNaN)), -kInf);
}

TEST(LogitMathTest, WeightsAndBlockSumsMatchDoubleArithmetic) {
  std::mt19937 gen(1);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  const int64_t n = 3 * kWeightBlock + 13;
  std::vector<float> logits(n);
  for (float& v : logits) v = normal(gen);
  logits[5] = kNaN;
  logits[6] = -kInf;
  const float max = MaxLogit(logits);
  std::vector<float> weights(n);
  std::vector<double> blocks(NumWeightBlocks(n));
  const double total = ComputeWeights(logits, max, 1.0f / 0.7f, 0.01f, weights, blocks);
  double expected_total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double w = std::exp((static_cast<double>(logits[i]) - max) / 0.7);
    if (!(w >= 0.01)) w = 0;  // min_p-style floor; NaN and -inf give 0
    expected_total += weights[i];
    if (std::abs(w - 0.01) < 1e-5) continue;  // too close to the floor to call
    // (logit - max) / T is rounded to float first, as in vLLM's float32 softmax.
    EXPECT_NEAR(weights[i], w, 1e-6 * w) << i;
  }
  EXPECT_NEAR(total, expected_total, 1e-6 * total);  // float sums within a block
  double block_total = 0;
  for (double b : blocks) block_total += b;
  EXPECT_NEAR(block_total, total, 1e-12 * total);
  EXPECT_NEAR(SumExp(logits, max), [&] {
    double s = 0;
    for (float l : logits) s += std::isnan(l) ? 0.0 : std::exp(static_cast<double>(l) - max);
    return s;
  }(), 1e-6 * total);
}

TEST(LogitMathTest, LogSoftmaxOfRowsWithInfinities) {
  const std::vector<float> row = {kInf, 0.0f, kInf, kInf, kNaN};
  const LogSoftmax ls = LogSoftmax::Of(row);
  EXPECT_NEAR(ls.LogProb(kInf), -std::log(3.0), 1e-6);
  EXPECT_EQ(ls.LogProb(0.0f), -kInf);
  EXPECT_EQ(ls.LogProb(kNaN), -kInf);
}

}  // namespace
}  // namespace shoal::worker
