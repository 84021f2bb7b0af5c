#include "worker/forward/decoder.h"

#include <cmath>

#include "absl/memory/memory.h"
#include "kernels/interleave.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "kernels/ops/norm.h"
#include "worker/forward/batch_validation.h"

namespace shoal::worker {

Decoder::Decoder(const model::ModelFile& model, ModelWeights weights, ThreadPool& pool)
    : model_(model), config_(model.config()), weights_(std::move(weights)), pool_(pool) {
  if (config_.is_moe()) expert_token_counts_.assign(config_.n_layer * config_.n_expert, 0);
}

absl::StatusOr<std::unique_ptr<Decoder>> Decoder::Create(const model::ModelFile& model,
                                                         ThreadPool& pool,
                                                         WeightOptions weight_options) {
  if (weight_options.pool == nullptr) weight_options.pool = &pool;
  SHOAL_ASSIGN_OR_RETURN(ModelWeights weights, ModelWeights::Create(model, weight_options));
  return absl::WrapUnique(new Decoder(model, std::move(weights), pool));
}

absl::Status Decoder::Forward(const ForwardBatch& batch, KvCache& kv, std::span<float> logits) {
  SHOAL_RETURN_IF_ERROR(ValidateForwardBatch(config_, batch, kv.block_size(), kv.num_blocks(),
                                             static_cast<int64_t>(logits.size())));
  const int64_t n_tokens = static_cast<int64_t>(batch.tokens.size());
  if (n_tokens == 0) return absl::OkStatus();
  ws_.Reserve(config_, n_tokens, batch.num_logit_rows(), pool_.num_threads());
  for (size_t i = 0; i < batch.sequences.size(); ++i) {
    const SequenceChunk& s = batch.sequences[i];
    for (int64_t j = 0; j < s.n_tokens; ++j) {
      ws_.token_position[s.first_token + j] = s.start_position + j;
      ws_.token_sequence[s.first_token + j] = static_cast<int32_t>(i);
    }
  }
  Embed(batch);
  for (int64_t layer = 0; layer < config_.n_layer; ++layer) {
    SHOAL_RETURN_IF_ERROR(AttentionBlock(layer, batch, kv));
    SHOAL_RETURN_IF_ERROR(config_.is_moe() ? MoeFfnBlock(layer, n_tokens)
                                           : DenseFfnBlock(layer, n_tokens));
  }
  return Output(batch, logits);
}

void Decoder::Embed(const ForwardBatch& batch) {
  const int64_t E = config_.n_embd;
  const int64_t n_tokens = static_cast<int64_t>(batch.tokens.size());
  pool_.ParallelFor(n_tokens, 8, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      float* x = ws_.x.data() + t * E;
      // Validated types, sizes and token ids: this cannot fail.
      (void)kernels::DequantizeMatrixRow(weights_.token_embd, batch.tokens[t], std::span(x, E));
      if (config_.embedding_scale != 1.0f) {
        for (int64_t i = 0; i < E; ++i) x[i] *= config_.embedding_scale;
      }
    }
  });
}

absl::Status Decoder::MatMul(const kernels::WeightMatrix& w, const float* x, int64_t n, float* y) {
  return kernels::MatMul({.weights = &w, .x = x, .n_tokens = n, .y = y, .y_stride = w.n_rows},
                         matmul_scratch_, pool_);
}

void Decoder::AddResidual(int64_t n_tokens) {
  float* x = ws_.x.data();
  const float* y = ws_.block_out.data();
  ForElements(n_tokens * config_.n_embd, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) x[i] = y[i] + x[i];
  });
}

void Decoder::NormRows(const float* x, std::span<const float> weight, int64_t n, int64_t n_rows,
                       float* y) {
  ForTokens(n_rows, [&](int64_t begin, int64_t end, int) {
    kernels::RmsNormRows(x + begin * n, weight.data(), config_.rms_norm_eps, n, end - begin,
                         y + begin * n);
  });
}

absl::Status Decoder::Output(const ForwardBatch& batch, std::span<float> logits) {
  const int64_t E = config_.n_embd;
  int64_t rows = 0;
  for (const SequenceChunk& s : batch.sequences) {
    const int64_t first = s.logits == LogitsWanted::kAll ? 0 : s.n_tokens - 1;
    if (s.logits == LogitsWanted::kNone) continue;
    for (int64_t j = first; j < s.n_tokens; ++j, ++rows) {
      kernels::RmsNorm(ws_.x.data() + (s.first_token + j) * E, weights_.output_norm.data(),
                       config_.rms_norm_eps, E, ws_.out_hidden.data() + rows * E);
    }
  }
  if (rows == 0) return absl::OkStatus();
  SHOAL_RETURN_IF_ERROR(MatMul(weights_.output, ws_.out_hidden.data(), rows, logits.data()));
  if (config_.final_logit_softcap > 0.0f) {
    const float c = config_.final_logit_softcap;
    for (float& l : logits) l = c * std::tanh(l / c);
  }
  return absl::OkStatus();
}

}  // namespace shoal::worker
