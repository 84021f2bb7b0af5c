#include "worker/cuda/step_layout.h"

#include <algorithm>

#include "kernels/attention/paged_attention.h"
#include "kernels/ops/rope.h"
#include "worker/forward/layer_rope.h"

namespace shoal::worker::cuda {
namespace {

void Angles(const model::ModelConfig& c, bool sliding, const float* freq_factors,
            const std::vector<int64_t>& positions, std::vector<float>& out) {
  const kernels::RopeParams rope = LayerRope(c, sliding, freq_factors);
  out.resize(positions.size() * rope.n_rot);
  for (size_t t = 0; t < positions.size(); ++t) {
    kernels::RopeAngles(rope, positions[t], out.data() + t * rope.n_rot);
  }
}

void Group(const model::ModelConfig& c, int64_t window, const std::vector<int64_t>& positions,
           int64_t budget, std::vector<AttentionGroup>& groups) {
  groups.clear();
  const kernels::AttentionShape shape{.sliding_window = window};
  for (size_t t = 0; t < positions.size(); ++t) {
    const int64_t keys = positions[t] - kernels::FirstVisiblePosition(shape, positions[t]) + 1;
    AttentionGroup* g = groups.empty() ? nullptr : &groups.back();
    if (g != nullptr && (g->n + 1) * c.n_head * std::max(g->max_keys, keys) <= budget) {
      ++g->n;
      g->max_keys = std::max(g->max_keys, keys);
    } else {
      groups.push_back({.first = static_cast<int64_t>(t), .n = 1, .max_keys = keys});
    }
  }
}

}  // namespace

void BuildStepLayout(const model::ModelConfig& c, const ForwardBatch& batch, int64_t block_size,
                     const float* rope_freq_factors, int64_t scores_budget, StepLayout& layout) {
  const int64_t T = static_cast<int64_t>(batch.tokens.size());
  layout.tokens.assign(batch.tokens.begin(), batch.tokens.end());
  layout.positions.resize(T);
  layout.slots.resize(T);
  layout.table_offsets.resize(T);
  layout.tables.clear();
  layout.logit_rows.clear();
  for (const SequenceChunk& s : batch.sequences) {
    const int64_t offset = static_cast<int64_t>(layout.tables.size());
    const int64_t blocks = (s.start_position + s.n_tokens + block_size - 1) / block_size;
    layout.tables.insert(layout.tables.end(), s.block_table.begin(), s.block_table.begin() + blocks);
    for (int64_t j = 0; j < s.n_tokens; ++j) {
      const int64_t t = s.first_token + j, position = s.start_position + j;
      layout.positions[t] = position;
      layout.table_offsets[t] = offset;
      layout.slots[t] =
          int64_t{s.block_table[position / block_size]} * block_size + position % block_size;
    }
    if (s.logits == LogitsWanted::kNone) continue;
    for (int64_t j = s.logits == LogitsWanted::kAll ? 0 : s.n_tokens - 1; j < s.n_tokens; ++j) {
      layout.logit_rows.push_back(static_cast<int32_t>(s.first_token + j));
    }
  }
  layout.any_sliding = std::find(c.layer_is_sliding.begin(), c.layer_is_sliding.end(), true) !=
                       c.layer_is_sliding.end();
  Angles(c, false, rope_freq_factors, layout.positions, layout.rope_global);
  Group(c, 0, layout.positions, scores_budget, layout.groups_global);
  layout.rope_sliding.clear();
  layout.groups_sliding.clear();
  if (layout.any_sliding) {
    Angles(c, true, rope_freq_factors, layout.positions, layout.rope_sliding);
    Group(c, c.sliding_window, layout.positions, scores_budget, layout.groups_sliding);
  }
  layout.most_scores = 0;
  for (const auto* groups : {&layout.groups_global, &layout.groups_sliding}) {
    for (const AttentionGroup& g : *groups) {
      layout.most_scores = std::max(layout.most_scores, g.n * c.n_head * g.max_keys);
    }
  }
}

}  // namespace shoal::worker::cuda
