#include "worker/forward/moe_routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace shoal::worker {
namespace {

// The floor llama.cpp clamps the routing weights' sum to before renormalising.
constexpr float kMinExpertWeightSum = 6.103515625e-5f;

}  // namespace

void RouteToken(const model::ModelConfig& c, float* router_row, int32_t* ids, float* weights,
                int32_t* order) {
  const int64_t X = c.n_expert;
  const float max = *std::max_element(router_row, router_row + X);
  double sum = 0.0;
  for (int64_t e = 0; e < X; ++e) {
    router_row[e] = std::exp(router_row[e] - max);
    sum += router_row[e];
  }
  const float inv_sum = static_cast<float>(1.0 / sum);
  for (int64_t e = 0; e < X; ++e) router_row[e] *= inv_sum;
  std::iota(order, order + X, 0);
  std::partial_sort(order, order + c.n_expert_used, order + X, [&](int32_t a, int32_t b) {
    return router_row[a] > router_row[b] || (router_row[a] == router_row[b] && a < b);
  });
  float weight_sum = 0.0f;
  for (int64_t j = 0; j < c.n_expert_used; ++j) {
    ids[j] = order[j];
    weights[j] = router_row[order[j]];
    weight_sum += weights[j];
  }
  if (c.normalize_expert_weights) {
    const float divisor = std::max(weight_sum, kMinExpertWeightSum);
    for (int64_t j = 0; j < c.n_expert_used; ++j) weights[j] /= divisor;
  }
}

void GroupRowsByExpert(std::span<const int32_t> expert_ids, std::span<int64_t> begin,
                       std::span<int64_t> cursor, std::span<int32_t> rows) {
  std::fill(begin.begin(), begin.end(), 0);
  for (int32_t e : expert_ids) ++begin[e + 1];
  for (size_t e = 0; e + 1 < begin.size(); ++e) begin[e + 1] += begin[e];
  std::copy(begin.begin(), begin.end() - 1, cursor.begin());
  for (size_t r = 0; r < expert_ids.size(); ++r) {
    rows[cursor[expert_ids[r]]++] = static_cast<int32_t>(r);
  }
}

}  // namespace shoal::worker
