// What a model is, numerically: the hyperparameters of one of Shoal's architectures,
// read from a GGUF file's metadata (REFERENCE.md §1.3, §3) and checked against its
// tensors. Forward passes, the KV cache and the scheduler size everything from this.
#ifndef SHOAL_MODEL_MODEL_CONFIG_H_
#define SHOAL_MODEL_MODEL_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shoal::model {

class GgufFile;

enum class Architecture { kLlama, kQwen3, kQwen3Moe, kGemma3 };

// "llama", "qwen3", "qwen3moe", "gemma3": the general.architecture values.
std::string_view ArchitectureName(Architecture architecture);
absl::StatusOr<Architecture> ParseArchitecture(std::string_view name);

enum class RopeStyle {
  kNorm,  // rotate adjacent pairs (x[2i], x[2i+1]): llama
  kNeox,  // rotate halves (x[i], x[i + n_rot/2]): qwen3, qwen3moe, gemma3
};

enum class FfnActivation {
  kSilu,      // SwiGLU: silu(gate) * up
  kGeluTanh,  // GeGLU with the tanh approximation of GELU: Gemma
};

struct ModelConfig {
  Architecture architecture = Architecture::kLlama;
  std::string name;  // general.name, if present

  int64_t context_length = 0;  // tokens the model was trained for
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;   // key_length
  int64_t value_dim = 0;  // value_length
  int64_t n_ff = 0;       // dense FFN width (0 for MoE models)

  // Mixture of experts (n_expert == 0 for dense models).
  int64_t n_expert = 0;
  int64_t n_expert_used = 0;
  int64_t n_ff_exp = 0;
  // Renormalise the top-k routing weights to sum to 1 (llama.cpp does for qwen3moe).
  bool normalize_expert_weights = false;

  float rms_norm_eps = 0;
  // Multiplies q·k before the softmax (1/sqrt(head_dim) for most models).
  float attention_scale = 0;
  bool has_qk_norm = false;  // per-head RMSNorm of q and k before RoPE
  FfnActivation ffn_activation = FfnActivation::kSilu;
  // Multiplies the token embeddings (Gemma: sqrt(n_embd)).
  float embedding_scale = 1;
  // 0 = off; else logits = c * tanh(logits / c).
  float final_logit_softcap = 0;
  // The output projection is token_embd (no output.weight tensor).
  bool tied_embeddings = false;

  RopeStyle rope_style = RopeStyle::kNorm;
  int64_t rope_dim = 0;  // leading dimensions of each head that RoPE rotates
  float rope_freq_base = 10000;
  float rope_freq_base_swa = 10000;  // Gemma's sliding-window layers
  // Linear position scaling, 1/rope.scaling.factor (Gemma: global layers only).
  float rope_freq_scale = 1;
  bool has_rope_freq_factors = false;  // a rope_freqs tensor (Llama 3.1 style)

  // Sliding-window attention: window length (0 = none) and which layers use it.
  int64_t sliding_window = 0;
  std::vector<bool> layer_is_sliding;

  static absl::StatusOr<ModelConfig> FromGguf(const GgufFile& file);

  // Checks ranges and consistency; FromGguf calls it.
  absl::Status Validate() const;

  // KV cache bytes per token for all layers at `bytes_per_element` (2 for f16).
  int64_t KvBytesPerToken(int64_t bytes_per_element) const {
    return n_layer * n_head_kv * (head_dim + value_dim) * bytes_per_element;
  }
  bool is_moe() const { return n_expert > 0; }
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_MODEL_CONFIG_H_
