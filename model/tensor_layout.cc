#include "model/tensor_layout.h"

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "model/gguf/gguf_file.h"
#include "model/quant/dequantize.h"

namespace shoal::model {
namespace {

void AddLayerTensors(const ModelConfig& c, int64_t layer, std::vector<TensorSpec>& specs) {
  const int64_t E = c.n_embd, D = c.head_dim, Dv = c.value_dim;
  auto add = [&](std::string_view suffix, std::vector<int64_t> ne) {
    specs.push_back({fmt::format("blk.{}.{}.weight", layer, suffix), std::move(ne)});
  };
  add("attn_norm", {E});
  add("attn_q", {E, c.n_head * D});
  add("attn_k", {E, c.n_head_kv * D});
  add("attn_v", {E, c.n_head_kv * Dv});
  add("attn_output", {c.n_head * Dv, E});
  if (c.has_qk_norm) {
    add("attn_q_norm", {D});
    add("attn_k_norm", {D});
  }
  if (c.architecture == Architecture::kGemma3) {
    add("post_attention_norm", {E});
    add("post_ffw_norm", {E});
  }
  add("ffn_norm", {E});
  if (c.is_moe()) {
    add("ffn_gate_inp", {E, c.n_expert});
    add("ffn_gate_exps", {E, c.n_ff_exp, c.n_expert});
    add("ffn_up_exps", {E, c.n_ff_exp, c.n_expert});
    add("ffn_down_exps", {c.n_ff_exp, E, c.n_expert});
  } else {
    add("ffn_gate", {E, c.n_ff});
    add("ffn_up", {E, c.n_ff});
    add("ffn_down", {c.n_ff, E});
  }
}

std::vector<int64_t> ShapeOf(const GgufTensorInfo& tensor) {
  return std::vector<int64_t>(tensor.ne.begin(), tensor.ne.begin() + tensor.n_dims);
}

}  // namespace

std::vector<TensorSpec> ExpectedTensors(const ModelConfig& config) {
  std::vector<TensorSpec> specs;
  specs.push_back({"token_embd.weight", {config.n_embd, config.n_vocab}});
  specs.push_back({"output_norm.weight", {config.n_embd}});
  if (!config.tied_embeddings) specs.push_back({"output.weight", {config.n_embd, config.n_vocab}});
  if (config.has_rope_freq_factors) specs.push_back({"rope_freqs.weight", {config.rope_dim / 2}});
  for (int64_t layer = 0; layer < config.n_layer; ++layer) AddLayerTensors(config, layer, specs);
  return specs;
}

absl::Status CheckTensors(const ModelConfig& config, const GgufFile& file) {
  for (const TensorSpec& spec : ExpectedTensors(config)) {
    const GgufTensorInfo* tensor = file.FindTensor(spec.name);
    if (tensor == nullptr) {
      if (!spec.required) continue;
      return absl::InvalidArgumentError(fmt::format(
          "the {} model is missing tensor '{}'", ArchitectureName(config.architecture), spec.name));
    }
    // ggml drops trailing dimensions of 1, so compare with those stripped.
    std::vector<int64_t> expected = spec.ne;
    while (expected.size() > 1 && expected.back() == 1) expected.pop_back();
    if (ShapeOf(*tensor) != expected) {
      return absl::InvalidArgumentError(fmt::format("tensor '{}' has shape [{}], expected [{}]",
                                                    spec.name, fmt::join(ShapeOf(*tensor), ", "),
                                                    fmt::join(expected, ", ")));
    }
    if (!CanDequantize(tensor->type)) {
      return absl::UnimplementedError(
          fmt::format("tensor '{}' has type {}, which Shoal does not support", spec.name,
                      GgmlTypeName(tensor->type)));
    }
  }
  return absl::OkStatus();
}

}  // namespace shoal::model
