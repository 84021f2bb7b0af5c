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

}  // namespace shoal::worker
