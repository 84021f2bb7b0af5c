// Views of a model's weight tensors, resolved once at load by name from the GGUF
// mapping, except the matrices repacked for the kernels (WeightOptions): what each
// forward pass reads. Norm weights and RoPE frequency
// factors are float32 (never quantized, REFERENCE.md §2.3); matrices are any type the
// matmul kernels accept.
#ifndef SHOAL_WORKER_MODEL_MODEL_WEIGHTS_H_
#define SHOAL_WORKER_MODEL_MODEL_WEIGHTS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "common/thread_pool.h"
#include "kernels/interleave.h"
#include "kernels/matmul.h"
#include "model/model_file.h"

namespace shoal::worker {

// The experts of one MoE layer: `count` matrices stored back to back.
struct ExpertWeights {
  kernels::WeightMatrix first;  // expert 0; expert e starts e * expert_bytes later
  int64_t count = 0;
  int64_t expert_bytes = 0;

  kernels::WeightMatrix Expert(int64_t e) const {
    kernels::WeightMatrix w = first;
    w.data += e * expert_bytes;
    return w;
  }
};

struct LayerWeights {
  std::span<const float> attn_norm;
  kernels::WeightMatrix attn_q, attn_k, attn_v, attn_output;
  std::span<const float> attn_q_norm, attn_k_norm;  // qwen3, gemma3
  std::span<const float> post_attention_norm;       // gemma3
  std::span<const float> ffn_norm;
  std::span<const float> post_ffw_norm;  // gemma3
  // Dense FFN.
  kernels::WeightMatrix ffn_gate, ffn_up, ffn_down;
  // Mixture of experts.
  kernels::WeightMatrix ffn_gate_inp;  // router, n_expert x n_embd
  ExpertWeights ffn_gate_exps, ffn_up_exps, ffn_down_exps;
};

struct WeightOptions {
  // Repack the matrices the fastest MatMul kernels want interleaved
  // (kernels/interleave.h) into owned copies at load, and let the kernel drop the
  // mapped file pages they came from. Off: every matrix is a view of the file.
  bool interleave = true;
  ThreadPool* pool = nullptr;  // spreads the repacking when set
};

// Immutable after Create(); borrows the ModelFile's mapping, which must outlive it.
struct ModelWeights {
  kernels::WeightMatrix token_embd;  // n_vocab rows of n_embd
  kernels::WeightMatrix output;      // token_embd when tied
  std::span<const float> output_norm;
  std::span<const float> rope_freqs;  // empty unless the model has frequency factors
  std::vector<LayerWeights> layers;
  std::vector<kernels::InterleavedCopy> interleaved;  // owns the repacked matrices

  static absl::StatusOr<ModelWeights> Create(const model::ModelFile& model,
                                             const WeightOptions& options = {});
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_MODEL_MODEL_WEIGHTS_H_
