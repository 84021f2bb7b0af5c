#include "worker/sampler/candidates.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shoal::worker {
namespace {

using ::testing::ElementsAre;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<int32_t> Ids(std::span<const Candidate> c) {
  std::vector<int32_t> ids;
  for (const Candidate& x : c) ids.push_back(x.token_id);
  return ids;
}

std::vector<int32_t> TopK(const std::vector<float>& logits, int64_t k) {
  std::vector<Candidate> buf(logits.size());
  const int64_t n = SelectTopK(logits, k, buf);
  return Ids(std::span(buf).first(n));
}

TEST(CandidatesTest, TopKKeepsEveryTieWithTheKth) {
  EXPECT_THAT(TopK({1.0f, 3.0f, 3.0f, 2.0f, 3.0f}, 2), ElementsAre(1, 2, 4));
  EXPECT_THAT(TopK({1.0f, 3.0f, 3.0f, 2.0f, 3.0f}, 4), ElementsAre(1, 2, 4, 3));
}

TEST(CandidatesTest, TopKSkipsNaNAndMinusInfinity) {
  EXPECT_THAT(TopK({kNaN, -kInf, 0.5f, kNaN, -1.0f}, 3), ElementsAre(2, 4));
}

TEST(CandidatesTest, TopKMatchesAFullSortOnLargeRows) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  const int64_t n = 262144;
  // Random order, ascending order (every token enters the buffer), and coarse values
  // with many ties.
  std::vector<std::vector<float>> rows(3, std::vector<float>(n));
  for (float& v : rows[0]) v = normal(gen);
  for (int64_t i = 0; i < n; ++i) rows[1][i] = static_cast<float>(i) * 1e-3f;
  for (float& v : rows[2]) v = std::round(normal(gen));
  for (const auto& row : rows) {
    for (int64_t k : {1, 7, 50, 5000}) {
      std::vector<int32_t> order(n);
      for (int64_t i = 0; i < n; ++i) order[i] = static_cast<int32_t>(i);
      std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
      });
      const float kth = row[order[k - 1]];
      std::vector<int32_t> expected;
      for (int32_t id : order) {
        if (row[id] < kth) break;
        expected.push_back(id);
      }
      EXPECT_EQ(TopK(row, k), expected) << "k=" << k;
    }
  }
}

TEST(CandidatesTest, NucleusKeepsTokensWithLessThanTopPMassBefore) {
  // Weights 5, 3, 1, 1 (total 10, plus 0 outside): top_p 0.8 keeps 5 and 3 (mass
  // before them 0 and 5 < 8), drops the rest (8 >= 8).
  std::vector<Candidate> c = {
      {7, 0.1f, 1.0f}, {3, 2.0f, 5.0f}, {9, 0.1f, 1.0f}, {1, 1.0f, 3.0f}};
  double kept = 0;
  const int64_t n = SelectNucleus(c, 10.0, 0.8, &kept);
  EXPECT_THAT(Ids(std::span(c).first(n)), ElementsAre(3, 1));
  EXPECT_EQ(kept, 8.0);
}

TEST(CandidatesTest, NucleusAlwaysKeepsTheMostLikelyToken) {
  std::vector<Candidate> c = {{0, 0.0f, 1.0f}, {1, 5.0f, 99.0f}};
  double kept = 0;
  EXPECT_EQ(SelectNucleus(c, 100.0, 1e-9, &kept), 1);
  EXPECT_EQ(c[0].token_id, 1);
}

TEST(CandidatesTest, GatherAboveKeepsIdOrder) {
  const std::vector<float> logits = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> weights = {0.5f, 0.1f, 0.9f, 0.2f, 0.2f, 0.7f, 0, 0, 0, 0.3f};
  std::vector<Candidate> out(10);
  const int64_t n = GatherAbove(logits, weights, 0.2f, out);
  EXPECT_THAT(Ids(std::span(out).first(n)), ElementsAre(0, 2, 5, 9));
}

}  // namespace
}  // namespace shoal::worker
