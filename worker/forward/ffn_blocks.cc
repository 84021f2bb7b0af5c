// The feed-forward blocks of a decoder layer: dense gated FFN (SwiGLU / GeGLU) and the
// mixture of experts (REFERENCE.md §3.3), each with its norm(s) and residual add.
#include <algorithm>
#include <atomic>
#include <utility>

#include "common/status_macros.h"
#include "kernels/ops/activations.h"
#include "kernels/ops/norm.h"
#include "worker/forward/decoder.h"
#include "worker/forward/moe_routing.h"

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

// Routes every token, groups the routed rows (token t's j-th choice is row t·k + j) by
// expert, runs whole experts on separate threads (each expert's three matmuls on the
// thread that took it: one hand-off per layer instead of three per expert, and no
// thread waits on another inside an expert), then sums each token's k weighted outputs.
absl::Status Decoder::MoeFfnBlock(int64_t layer, int64_t n_tokens) {
  const model::ModelConfig& c = config_;
  const LayerWeights& w = weights_.layers[layer];
  const int64_t E = c.n_embd;
  const int64_t X = c.n_expert;
  const int64_t K = c.n_expert_used;
  NormRows(ws_.x.data(), w.ffn_norm, E, n_tokens, ws_.h.data());
  SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_gate_inp, ws_.h.data(), n_tokens, ws_.router.data()));
  ForTokens(n_tokens, [&](int64_t begin, int64_t end, int thread) {
    for (int64_t t = begin; t < end; ++t) {
      RouteToken(c, ws_.router.data() + t * X, ws_.expert_ids.data() + t * K,
            ws_.expert_weights.data() + t * K, ws_.moe_threads[thread].route_order.data());
    }
  });
  GroupRowsByExpert(layer, n_tokens);
  const int64_t n_active = static_cast<int64_t>(ws_.active_experts.size());
  std::atomic<int64_t> next{0};
  auto run_experts = [&](int thread, int) {
    for (int64_t i = next.fetch_add(1); i < n_active; i = next.fetch_add(1)) {
      absl::Status status = RunExpert(layer, ws_.active_experts[i], ws_.moe_threads[thread]);
      if (!status.ok()) {
        ws_.moe_threads[thread].status = std::move(status);
        return;
      }
    }
  };
  if (n_active == 1) {
    run_experts(0, 1);
  } else {
    pool_.Run(run_experts);
  }
  for (Workspace::MoeThread& t : ws_.moe_threads) {
    if (!t.status.ok()) return std::exchange(t.status, absl::OkStatus());
  }
  // Sum the k expert outputs of each token in slot order, as llama.cpp adds them.
  ForTokens(n_tokens, [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) {
      float* out = ws_.block_out.data() + t * E;
      const float* first = ws_.expert_out.data() + t * K * E;
      std::copy(first, first + E, out);
      for (int64_t j = 1; j < K; ++j) {
        const float* slot = first + j * E;
        for (int64_t d = 0; d < E; ++d) out[d] += slot[d];
      }
    }
  });
  AddResidual(n_tokens);
  return absl::OkStatus();
}

// The routed rows grouped by expert (expert_rows, expert e's at [expert_begin[e],
// expert_begin[e + 1])), the experts with work in active_experts (most rows first, so
// the longest start first), and the per-expert counts.
void Decoder::GroupRowsByExpert(int64_t layer, int64_t n_tokens) {
  const int64_t X = config_.n_expert;
  const int64_t rows = n_tokens * config_.n_expert_used;
  const std::vector<int64_t>& begin = ws_.expert_begin;
  worker::GroupRowsByExpert(std::span<const int32_t>(ws_.expert_ids.data(), rows),
                            std::span<int64_t>(ws_.expert_begin.data(), X + 1),
                            std::span<int64_t>(ws_.expert_cursor.data(), X),
                            std::span<int32_t>(ws_.expert_rows.data(), rows));
  ws_.active_experts.clear();
  for (int64_t e = 0; e < X; ++e) {
    const int64_t n = begin[e + 1] - begin[e];
    expert_token_counts_[layer * X + e] += n;
    if (n > 0) ws_.active_experts.push_back(static_cast<int32_t>(e));
  }
  std::stable_sort(ws_.active_experts.begin(), ws_.active_experts.end(),
                   [&](int32_t a, int32_t b) {
                     return begin[a + 1] - begin[a] > begin[b + 1] - begin[b];
                   });
}

// One expert over its rows, on the calling thread: gather the inputs, SwiGLU FFN, and
// its outputs scaled by the routing weights into each row's slot of expert_out.
absl::Status Decoder::RunExpert(int64_t layer, int32_t expert, Workspace::MoeThread& t) {
  const model::ModelConfig& c = config_;
  const LayerWeights& w = weights_.layers[layer];
  const int64_t E = c.n_embd;
  const int64_t K = c.n_expert_used;
  const int64_t Fe = c.n_ff_exp;
  const int32_t* rows = ws_.expert_rows.data() + ws_.expert_begin[expert];
  const int64_t n = ws_.expert_begin[expert + 1] - ws_.expert_begin[expert];
  for (int64_t i = 0; i < n; ++i) {
    const float* src = ws_.h.data() + (rows[i] / K) * E;
    std::copy(src, src + E, t.in.data() + i * E);
  }
  auto matmul = [&](const kernels::WeightMatrix& m, const float* x, float* y) {
    return kernels::MatMulOnThisThread(
        {.weights = &m, .x = x, .n_tokens = n, .y = y, .y_stride = m.n_rows}, t.matmul);
  };
  SHOAL_RETURN_IF_ERROR(matmul(w.ffn_gate_exps.Expert(expert), t.in.data(), t.gate.data()));
  SHOAL_RETURN_IF_ERROR(matmul(w.ffn_up_exps.Expert(expert), t.in.data(), t.up.data()));
  kernels::SwiGlu(t.gate.data(), t.up.data(), n * Fe, t.gate.data());
  SHOAL_RETURN_IF_ERROR(matmul(w.ffn_down_exps.Expert(expert), t.gate.data(), t.down.data()));
  for (int64_t i = 0; i < n; ++i) {
    const float weight = ws_.expert_weights[rows[i]];
    const float* src = t.down.data() + i * E;
    float* dst = ws_.expert_out.data() + static_cast<int64_t>(rows[i]) * E;
    for (int64_t d = 0; d < E; ++d) dst[d] = src[d] * weight;
  }
  return absl::OkStatus();
}

}  // namespace shoal::worker
