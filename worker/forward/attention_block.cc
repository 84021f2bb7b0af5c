// The attention block of a decoder layer: norm, q/k/v projections, optional per-head
// q/k norms, RoPE, KV write, paged attention, output projection, Gemma's post-norm,
// and the residual add.
#include "common/status_macros.h"
#include "kernels/attention/paged_attention.h"
#include "kernels/ops/norm.h"
#include "kernels/ops/rope.h"
#include "worker/forward/decoder.h"
#include "worker/forward/layer_rope.h"

namespace shoal::worker {

absl::Status Decoder::AttentionBlock(int64_t layer, const ForwardBatch& batch, const KvCache& kv) {
  const model::ModelConfig& c = config_;
  const LayerWeights& w = weights_.layers[layer];
  const int64_t n_tokens = static_cast<int64_t>(batch.tokens.size());
  const int64_t E = c.n_embd;
  const int64_t q_width = c.n_head * c.head_dim;
  const int64_t k_width = c.n_head_kv * c.head_dim;
  const int64_t v_width = c.n_head_kv * c.value_dim;

  NormRows(ws_.x.data(), w.attn_norm, E, n_tokens, ws_.h.data());
  SHOAL_RETURN_IF_ERROR(MatMul(w.attn_q, ws_.h.data(), n_tokens, ws_.q.data()));
  SHOAL_RETURN_IF_ERROR(MatMul(w.attn_k, ws_.h.data(), n_tokens, ws_.k.data()));
  SHOAL_RETURN_IF_ERROR(MatMul(w.attn_v, ws_.h.data(), n_tokens, ws_.v.data()));

  const bool sliding = c.layer_is_sliding[layer];
  const kernels::RopeParams rope =
      LayerRope(c, sliding, weights_.rope_freqs.empty() ? nullptr : weights_.rope_freqs.data());
  // Gemma scales q before attention instead of the scores (same math, llama.cpp's order).
  const bool scale_q = c.architecture == model::Architecture::kGemma3;
  // Per token: q/k norms, RoPE, Gemma's q scaling, and the K/V write into the cache.
  ForTokens(n_tokens, [&](int64_t begin, int64_t end, int thread) {
    float* angles = ws_.rope_angles.data() + thread * c.head_dim;
    for (int64_t t = begin; t < end; ++t) {
      float* q = ws_.q.data() + t * q_width;
      float* k = ws_.k.data() + t * k_width;
      if (c.has_qk_norm) {
        kernels::RmsNormRows(q, w.attn_q_norm.data(), c.rms_norm_eps, c.head_dim, c.n_head, q);
        kernels::RmsNormRows(k, w.attn_k_norm.data(), c.rms_norm_eps, c.head_dim, c.n_head_kv,
                             k);
      }
      kernels::RopeAngles(rope, ws_.token_position[t], angles);
      kernels::RopeApply(rope, angles, c.n_head, c.head_dim, q);
      kernels::RopeApply(rope, angles, c.n_head_kv, c.head_dim, k);
      if (scale_q) {
        for (int64_t i = 0; i < q_width; ++i) q[i] *= c.attention_scale;
      }
      const SequenceChunk& s = batch.sequences[ws_.token_sequence[t]];
      const int64_t position = ws_.token_position[t];
      const int64_t slot = int64_t{s.block_table[position / kv.block_size()]} * kv.block_size() +
                           position % kv.block_size();
      kernels::WriteKv(kv.layer(layer), slot, k, ws_.v.data() + t * v_width);
    }
  });

  SHOAL_RETURN_IF_ERROR(Attend(layer, batch, kv));
  SHOAL_RETURN_IF_ERROR(MatMul(w.attn_output, ws_.attn.data(), n_tokens, ws_.block_out.data()));
  if (!w.post_attention_norm.empty()) {
    NormRows(ws_.block_out.data(), w.post_attention_norm, E, n_tokens, ws_.block_out.data());
  }
  AddResidual(n_tokens);
  return absl::OkStatus();
}

absl::Status Decoder::Attend(int64_t layer, const ForwardBatch& batch, const KvCache& kv) {
  const model::ModelConfig& c = config_;
  const bool scale_q = c.architecture == model::Architecture::kGemma3;
  attention_sequences_.clear();
  for (const SequenceChunk& s : batch.sequences) {
    attention_sequences_.push_back({.block_table = s.block_table,
                                    .first_token = s.first_token,
                                    .n_tokens = s.n_tokens,
                                    .start_position = s.start_position});
  }
  const kernels::AttentionArgs args{
      .shape = {.n_heads = c.n_head,
                .n_kv_heads = c.n_head_kv,
                .head_dim = c.head_dim,
                .value_dim = c.value_dim,
                .scale = scale_q ? 1.0f : c.attention_scale,
                .sliding_window = c.layer_is_sliding[layer] ? c.sliding_window : 0},
      .layer = &kv.layer(layer),
      .sequences = attention_sequences_,
      .q = ws_.q.data(),
      .out = ws_.attn.data()};
  return kernels::PagedAttention(args, attention_scratch_, pool_);
}

}  // namespace shoal::worker
