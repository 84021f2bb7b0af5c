// The feed-forward blocks of a decoder layer: dense gated FFN (SwiGLU / GeGLU) and the
// mixture of experts (REFERENCE.md §3.3), each with its norm(s) and residual add.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/status_macros.h"
#include "kernels/ops/activations.h"
#include "kernels/ops/norm.h"
#include "worker/forward/decoder.h"

namespace shoal::worker {
namespace {

void GatedActivation(model::FfnActivation activation, const float* gate, const float* up, int64_t n,
                     float* out) {
  if (activation == model::FfnActivation::kSilu) {
    kernels::SwiGlu(gate, up, n, out);
  } else {
    kernels::GeGluTanh(gate, up, n, out);
  }
}

// The floor llama.cpp clamps the routing weights' sum to before renormalising.
constexpr float kMinExpertWeightSum = 6.103515625e-5f;

// Softmax over the router logits, the top-k experts by probability, and their weights
// (renormalised to sum to 1 when the model asks for it).
void Route(const model::ModelConfig& c, float* router_row, int32_t* ids, float* weights) {
  const int64_t X = c.n_expert;
  const float max = *std::max_element(router_row, router_row + X);
  double sum = 0.0;
  for (int64_t e = 0; e < X; ++e) {
    router_row[e] = std::exp(router_row[e] - max);
    sum += router_row[e];
  }
  const float inv_sum = static_cast<float>(1.0 / sum);
  for (int64_t e = 0; e < X; ++e) router_row[e] *= inv_sum;
  std::vector<int32_t> order(X);  // X <= 512; cold relative to the experts' matmuls
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(
      order.begin(), order.begin() + c.n_expert_used, order.end(), [&](int32_t a, int32_t b) {
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

}  // namespace

absl::Status Decoder::DenseFfnBlock(int64_t layer, int64_t n_tokens) {
  const model::ModelConfig& c = config_;
  const LayerWeights& w = weights_.layers[layer];
  const int64_t E = c.n_embd;
  const int64_t F = c.n_ff;
  NormRows(ws_.x.data(), w.ffn_norm, E, n_tokens, ws_.h.data());
  SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_gate, ws_.h.data(), n_tokens, ws_.gate.data()));
  SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_up, ws_.h.data(), n_tokens, ws_.up.data()));
  ForElements(n_tokens * F, [&](int64_t begin, int64_t end) {
    GatedActivation(c.ffn_activation, ws_.gate.data() + begin, ws_.up.data() + begin, end - begin,
                    ws_.gate.data() + begin);
  });
  SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_down, ws_.gate.data(), n_tokens, ws_.block_out.data()));
  if (!w.post_ffw_norm.empty()) {
    NormRows(ws_.block_out.data(), w.post_ffw_norm, E, n_tokens, ws_.block_out.data());
  }
  AddResidual(n_tokens);
  return absl::OkStatus();
}

absl::Status Decoder::MoeFfnBlock(int64_t layer, int64_t n_tokens) {
  const model::ModelConfig& c = config_;
  const LayerWeights& w = weights_.layers[layer];
  const int64_t E = c.n_embd;
  const int64_t X = c.n_expert;
  const int64_t K = c.n_expert_used;
  const int64_t Fe = c.n_ff_exp;
  NormRows(ws_.x.data(), w.ffn_norm, E, n_tokens, ws_.h.data());
  SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_gate_inp, ws_.h.data(), n_tokens, ws_.router.data()));
  for (int64_t t = 0; t < n_tokens; ++t) {
    Route(c, ws_.router.data() + t * X, ws_.expert_ids.data() + t * K,
          ws_.expert_weights.data() + t * K);
  }
  // Run each selected expert once over all the tokens routed to it.
  for (int64_t e = 0; e < X; ++e) {
    int64_t n = 0;
    for (int64_t r = 0; r < n_tokens * K; ++r) {
      if (ws_.expert_ids[r] == e) ws_.expert_rows[n++] = static_cast<int32_t>(r);
    }
    if (n == 0) continue;
    expert_token_counts_[layer * X + e] += n;
    for (int64_t i = 0; i < n; ++i) {
      const float* src = ws_.h.data() + (ws_.expert_rows[i] / K) * E;
      std::copy(src, src + E, ws_.expert_in.data() + i * E);
    }
    SHOAL_RETURN_IF_ERROR(
        MatMul(w.ffn_gate_exps.Expert(e), ws_.expert_in.data(), n, ws_.gate.data()));
    SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_up_exps.Expert(e), ws_.expert_in.data(), n, ws_.up.data()));
    kernels::SwiGlu(ws_.gate.data(), ws_.up.data(), n * Fe, ws_.gate.data());
    SHOAL_RETURN_IF_ERROR(
        MatMul(w.ffn_down_exps.Expert(e), ws_.gate.data(), n, ws_.expert_down.data()));
    for (int64_t i = 0; i < n; ++i) {
      const int32_t r = ws_.expert_rows[i];
      const float weight = ws_.expert_weights[r];
      const float* src = ws_.expert_down.data() + i * E;
      float* dst = ws_.expert_out.data() + static_cast<int64_t>(r) * E;
      for (int64_t d = 0; d < E; ++d) dst[d] = src[d] * weight;
    }
  }
  // Sum the k expert outputs of each token in slot order, as llama.cpp adds them.
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* out = ws_.block_out.data() + t * E;
    const float* first = ws_.expert_out.data() + t * K * E;
    std::copy(first, first + E, out);
    for (int64_t j = 1; j < K; ++j) {
      const float* slot = first + j * E;
      for (int64_t d = 0; d < E; ++d) out[d] += slot[d];
    }
  }
  AddResidual(n_tokens);
  return absl::OkStatus();
}

}  // namespace shoal::worker
