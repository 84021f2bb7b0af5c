// The forward pass of Shoal's decoder-only architectures (llama, qwen3, qwen3moe,
// gemma3; REFERENCE.md §3). They share one pipeline — embed, then per layer an
// attention block and a feed-forward block around the residual stream, then the final
// norm and the output projection — and differ in switches the ModelConfig carries:
// q/k norms, RoPE style and bases, Gemma's embedding scale, extra norms and sliding
// window layers, GeGLU vs SwiGLU, dense vs mixture-of-experts feed-forward.
//
// Owned by the worker's compute thread; Forward() must not run concurrently.
#ifndef SHOAL_WORKER_FORWARD_DECODER_H_
#define SHOAL_WORKER_FORWARD_DECODER_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "common/thread_pool.h"
#include "kernels/attention/paged_attention.h"
#include "kernels/matmul.h"
#include "model/model_file.h"
#include "worker/forward/forward_batch.h"
#include "worker/forward/workspace.h"
#include "worker/kv/kv_cache.h"
#include "worker/model/model_weights.h"

namespace shoal::worker {

class Decoder {
 public:
  // `model` and `pool` must outlive the decoder. The weights load with
  // `weight_options` (interleaved where that pays, by default), repacked on `pool`
  // unless the options name another.
  static absl::StatusOr<std::unique_ptr<Decoder>> Create(const model::ModelFile& model,
                                                         ThreadPool& pool,
                                                         WeightOptions weight_options = {});

  // Runs `batch`: writes the K/V of its tokens into `kv` and the logits it asks for into
  // `logits` (batch.num_logit_rows() rows of n_vocab, in sequence order). Invalid
  // batches (token ids, positions, block tables, sizes) are errors, checked before any
  // state changes.
  absl::Status Forward(const ForwardBatch& batch, KvCache& kv, std::span<float> logits);

  const model::ModelConfig& config() const { return config_; }

  // MoE models: tokens routed to each expert since the decoder was created,
  // [layer · n_expert + expert] (empty for dense models).
  std::span<const int64_t> expert_token_counts() const { return expert_token_counts_; }

 private:
  Decoder(const model::ModelFile& model, ModelWeights weights, ThreadPool& pool);

  void Embed(const ForwardBatch& batch);
  absl::Status AttentionBlock(int64_t layer, const ForwardBatch& batch, const KvCache& kv);
  absl::Status Attend(int64_t layer, const ForwardBatch& batch, const KvCache& kv);
  absl::Status DenseFfnBlock(int64_t layer, int64_t n_tokens);
  absl::Status MoeFfnBlock(int64_t layer, int64_t n_tokens);
  void GroupRowsByExpert(int64_t layer, int64_t n_tokens);
  absl::Status RunExpert(int64_t layer, int32_t expert, Workspace::MoeThread& thread);
  absl::Status Output(const ForwardBatch& batch, std::span<float> logits);

  // y = x · Wᵀ for n rows of x.
  absl::Status MatMul(const kernels::WeightMatrix& w, const float* x, int64_t n, float* y);
  // x[i] += y[i] over n_tokens rows of the embedding width.
  void AddResidual(int64_t n_tokens);
  // y = RmsNorm(x) · weight for n_rows rows of n (y may be x).
  void NormRows(const float* x, std::span<const float> weight, int64_t n, int64_t n_rows,
                float* y);

  // Per-token and element-wise work goes to the pool only when there is enough of it to
  // pay for the hand-off (a decode step's single token stays on this thread).
  static constexpr int64_t kTokensPerTask = 4;
  static constexpr int64_t kElementsPerTask = 8192;
  // fn(begin, end, thread) over contiguous token ranges.
  template <typename Fn>
  void ForTokens(int64_t n_tokens, Fn&& fn) {
    const int64_t parts = std::min<int64_t>(pool_.num_threads(), n_tokens / kTokensPerTask);
    if (parts <= 1) {
      fn(int64_t{0}, n_tokens, 0);
      return;
    }
    pool_.Run([&](int thread, int) {
      if (thread < parts) fn(n_tokens * thread / parts, n_tokens * (thread + 1) / parts, thread);
    });
  }
  // fn(begin, end) over contiguous element ranges.
  template <typename Fn>
  void ForElements(int64_t n, Fn&& fn) {
    pool_.ParallelFor(n, kElementsPerTask, fn);
  }

  const model::ModelFile& model_;
  const model::ModelConfig& config_;
  ModelWeights weights_;
  ThreadPool& pool_;
  Workspace ws_;
  kernels::MatMulScratch matmul_scratch_;
  kernels::AttentionScratch attention_scratch_;
  std::vector<kernels::AttentionSequence> attention_sequences_;
  std::vector<int64_t> expert_token_counts_;
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_DECODER_H_
