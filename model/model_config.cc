#include "model/model_config.h"

#include <cmath>

#include "common/status_macros.h"
#include "fmt/format.h"
#include "model/gguf/gguf_file.h"

namespace shoal::model {
namespace {

using absl::InvalidArgumentError;

// Limits far above any real model, so absurd metadata fails here instead of sizing
// buffers later.
constexpr int64_t kMaxDim = int64_t{1} << 20;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxExperts = 512;  // LLAMA_MAX_EXPERTS
constexpr int64_t kMaxContext = int64_t{1} << 24;

// Reads "{arch}.suffix" as a count. llama.cpp also accepts a per-layer array for some
// keys; Shoal supports such arrays only when all their entries are equal.
class HparamReader {
 public:
  HparamReader(const GgufFile& file, std::string_view arch) : file_(file), arch_(arch) {}

  std::string Key(std::string_view suffix) const { return fmt::format("{}.{}", arch_, suffix); }

  absl::StatusOr<int64_t> Count(std::string_view suffix) const {
    const std::string key = Key(suffix);
    const GgufValue* value = file_.FindValue(key);
    if (value != nullptr && value->is_array()) return UniformArray(key, *value);
    return file_.GetInt(key);
  }
  absl::StatusOr<int64_t> CountOr(std::string_view suffix, int64_t fallback) const {
    if (file_.FindValue(Key(suffix)) == nullptr) return fallback;
    return Count(suffix);
  }
  absl::StatusOr<double> FloatOr(std::string_view suffix, double fallback) const {
    return file_.GetFloatOr(Key(suffix), fallback);
  }

 private:
  static absl::StatusOr<int64_t> UniformArray(const std::string& key, const GgufValue& value) {
    if (value.elements().empty())
      return InvalidArgumentError(fmt::format("'{}' is an empty array", key));
    std::optional<int64_t> first = GgufValue::ScalarAsInt(value.elements()[0]);
    for (const GgufScalar& element : value.elements()) {
      std::optional<int64_t> n = GgufValue::ScalarAsInt(element);
      if (!n) return InvalidArgumentError(fmt::format("'{}' must hold integers", key));
      if (*n != *first) {
        return absl::UnimplementedError(
            fmt::format("'{}' differs between layers; per-layer values are not supported", key));
      }
    }
    return *first;
  }

  const GgufFile& file_;
  std::string_view arch_;
};

absl::Status CheckRange(std::string_view what, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max) {
    return InvalidArgumentError(
        fmt::format("model {} is {}, outside the supported range [{}, {}]", what, value, min, max));
  }
  return absl::OkStatus();
}

absl::Status ReadRope(const GgufFile& file, const HparamReader& hp, ModelConfig& config) {
  SHOAL_ASSIGN_OR_RETURN(config.rope_dim, hp.CountOr("rope.dimension_count", config.head_dim));
  SHOAL_ASSIGN_OR_RETURN(double base, hp.FloatOr("rope.freq_base", 10000.0));
  SHOAL_ASSIGN_OR_RETURN(double base_swa, hp.FloatOr("rope.freq_base_swa", 10000.0));
  config.rope_freq_base = static_cast<float>(base);
  config.rope_freq_base_swa = static_cast<float>(base_swa);

  SHOAL_ASSIGN_OR_RETURN(std::string_view scaling,
                         file.GetStringOr(hp.Key("rope.scaling.type"), "linear"));
  SHOAL_ASSIGN_OR_RETURN(double factor, hp.FloatOr("rope.scaling.factor", 0.0));
  if (factor == 0.0) {  // the older key
    SHOAL_ASSIGN_OR_RETURN(factor, hp.FloatOr("rope.scale_linear", 0.0));
  }
  if (scaling != "none" && scaling != "linear") {
    return absl::UnimplementedError(fmt::format("RoPE scaling '{}' is not supported", scaling));
  }
  if (scaling == "linear" && factor != 0.0 && factor != 1.0) {
    if (!(factor > 0.0) || !std::isfinite(factor)) {
      return InvalidArgumentError(fmt::format("invalid rope.scaling.factor {}", factor));
    }
    config.rope_freq_scale = static_cast<float>(1.0 / factor);
  }
  config.has_rope_freq_factors = file.FindTensor("rope_freqs.weight") != nullptr;
  return absl::OkStatus();
}

// Gemma 3: sliding-window layers in a repeating pattern; llama.cpp picks the
// attention scale variant by layer count (62 layers = 27B) rather than reading
// query_pre_attn_scalar.
absl::Status ReadGemma3(const HparamReader& hp, ModelConfig& config) {
  config.ffn_activation = FfnActivation::kGeluTanh;
  config.embedding_scale = std::sqrt(static_cast<float>(config.n_embd));
  SHOAL_ASSIGN_OR_RETURN(double softcap, hp.FloatOr("final_logit_softcapping", 0.0));
  config.final_logit_softcap = static_cast<float>(softcap);
  if (config.n_layer == 62) {
    config.attention_scale = 1.0f / std::sqrt(static_cast<float>(config.n_embd / config.n_head));
  }
  SHOAL_ASSIGN_OR_RETURN(config.sliding_window, hp.CountOr("attention.sliding_window", 0));
  SHOAL_ASSIGN_OR_RETURN(int64_t period, hp.CountOr("attention.sliding_window_pattern", 6));
  SHOAL_RETURN_IF_ERROR(CheckRange("sliding_window_pattern", period, 1, kMaxLayers));
  if (config.sliding_window > 0) {
    for (int64_t i = 0; i < config.n_layer; ++i)
      config.layer_is_sliding[i] = i % period < period - 1;
  }
  return absl::OkStatus();
}

absl::Status ReadMoe(const HparamReader& hp, ModelConfig& config) {
  SHOAL_ASSIGN_OR_RETURN(config.n_expert, hp.Count("expert_count"));
  SHOAL_ASSIGN_OR_RETURN(config.n_expert_used, hp.Count("expert_used_count"));
  SHOAL_RETURN_IF_ERROR(CheckRange("expert_count", config.n_expert, 1, kMaxExperts));
  SHOAL_RETURN_IF_ERROR(CheckRange("expert_used_count", config.n_expert_used, 1, config.n_expert));
  // llama.cpp's default when the key is absent: n_ff / n_expert_used.
  SHOAL_ASSIGN_OR_RETURN(config.n_ff_exp, hp.CountOr("expert_feed_forward_length",
                                                     config.n_ff / config.n_expert_used));
  config.normalize_expert_weights = true;
  return absl::OkStatus();
}

}  // namespace

std::string_view ArchitectureName(Architecture architecture) {
  switch (architecture) {
    case Architecture::kLlama:
      return "llama";
    case Architecture::kQwen3:
      return "qwen3";
    case Architecture::kQwen3Moe:
      return "qwen3moe";
    case Architecture::kGemma3:
      return "gemma3";
  }
  return "unknown";
}

absl::StatusOr<Architecture> ParseArchitecture(std::string_view name) {
  for (Architecture a : {Architecture::kLlama, Architecture::kQwen3, Architecture::kQwen3Moe,
                         Architecture::kGemma3}) {
    if (name == ArchitectureName(a)) return a;
  }
  return absl::UnimplementedError(fmt::format(
      "unsupported architecture '{}' (supported: llama, qwen3, qwen3moe, gemma3)", name));
}

absl::StatusOr<ModelConfig> ModelConfig::FromGguf(const GgufFile& file) {
  ModelConfig config;
  SHOAL_ASSIGN_OR_RETURN(std::string_view arch, file.GetString("general.architecture"));
  SHOAL_ASSIGN_OR_RETURN(config.architecture, ParseArchitecture(arch));
  SHOAL_ASSIGN_OR_RETURN(std::string_view name, file.GetStringOr("general.name", ""));
  config.name = std::string(name);

  const HparamReader hp(file, arch);
  SHOAL_ASSIGN_OR_RETURN(config.context_length, hp.Count("context_length"));
  SHOAL_ASSIGN_OR_RETURN(config.n_embd, hp.Count("embedding_length"));
  SHOAL_ASSIGN_OR_RETURN(config.n_layer, hp.Count("block_count"));
  SHOAL_ASSIGN_OR_RETURN(config.n_ff, hp.CountOr("feed_forward_length", 0));
  SHOAL_ASSIGN_OR_RETURN(config.n_head, hp.Count("attention.head_count"));
  SHOAL_ASSIGN_OR_RETURN(config.n_head_kv, hp.CountOr("attention.head_count_kv", config.n_head));
  SHOAL_RETURN_IF_ERROR(CheckRange("embedding_length", config.n_embd, 1, kMaxDim));
  SHOAL_RETURN_IF_ERROR(CheckRange("head_count", config.n_head, 1, config.n_embd));
  SHOAL_ASSIGN_OR_RETURN(config.head_dim,
                         hp.CountOr("attention.key_length", config.n_embd / config.n_head));
  SHOAL_ASSIGN_OR_RETURN(config.value_dim, hp.CountOr("attention.value_length", config.head_dim));
  SHOAL_ASSIGN_OR_RETURN(double eps, file.GetFloat(hp.Key("attention.layer_norm_rms_epsilon")));
  config.rms_norm_eps = static_cast<float>(eps);
  SHOAL_RETURN_IF_ERROR(CheckRange("block_count", config.n_layer, 1, kMaxLayers));
  SHOAL_RETURN_IF_ERROR(CheckRange("key_length", config.head_dim, 1, kMaxDim));
  config.attention_scale = 1.0f / std::sqrt(static_cast<float>(config.head_dim));
  config.layer_is_sliding.assign(config.n_layer, false);

  const GgufTensorInfo* embeddings = file.FindTensor("token_embd.weight");
  if (embeddings == nullptr)
    return InvalidArgumentError("the model has no token_embd.weight tensor");
  config.n_vocab = embeddings->ne[1];
  config.tied_embeddings = file.FindTensor("output.weight") == nullptr;

  switch (config.architecture) {
    case Architecture::kLlama:
      config.rope_style = RopeStyle::kNorm;
      break;
    case Architecture::kQwen3Moe:
      SHOAL_RETURN_IF_ERROR(ReadMoe(hp, config));
      [[fallthrough]];
    case Architecture::kQwen3:
      config.rope_style = RopeStyle::kNeox;
      config.has_qk_norm = true;
      break;
    case Architecture::kGemma3:
      config.rope_style = RopeStyle::kNeox;
      config.has_qk_norm = true;
      SHOAL_RETURN_IF_ERROR(ReadGemma3(hp, config));
      break;
  }
  SHOAL_RETURN_IF_ERROR(ReadRope(file, hp, config));
  SHOAL_RETURN_IF_ERROR(config.Validate());
  return config;
}

absl::Status ModelConfig::Validate() const {
  SHOAL_RETURN_IF_ERROR(CheckRange("context_length", context_length, 1, kMaxContext));
  SHOAL_RETURN_IF_ERROR(CheckRange("vocabulary size", n_vocab, 1, int64_t{1} << 24));
  SHOAL_RETURN_IF_ERROR(CheckRange("embedding_length", n_embd, 1, kMaxDim));
  SHOAL_RETURN_IF_ERROR(CheckRange("block_count", n_layer, 1, kMaxLayers));
  SHOAL_RETURN_IF_ERROR(CheckRange("head_count", n_head, 1, n_embd));
  SHOAL_RETURN_IF_ERROR(CheckRange("head_count_kv", n_head_kv, 1, n_head));
  if (n_head % n_head_kv != 0) {
    return InvalidArgumentError(
        fmt::format("head_count {} is not a multiple of head_count_kv {}", n_head, n_head_kv));
  }
  SHOAL_RETURN_IF_ERROR(CheckRange("key_length", head_dim, 1, kMaxDim));
  SHOAL_RETURN_IF_ERROR(CheckRange("value_length", value_dim, 1, kMaxDim));
  SHOAL_RETURN_IF_ERROR(CheckRange("rope.dimension_count", rope_dim, 2, head_dim));
  if (rope_dim % 2 != 0) {
    return InvalidArgumentError(fmt::format("rope.dimension_count {} is odd", rope_dim));
  }
  if (architecture == Architecture::kLlama && rope_dim != head_dim) {
    return InvalidArgumentError("llama models must rotate the whole head (rope.dimension_count)");
  }
  if (!is_moe()) SHOAL_RETURN_IF_ERROR(CheckRange("feed_forward_length", n_ff, 1, kMaxDim));
  if (is_moe())
    SHOAL_RETURN_IF_ERROR(CheckRange("expert_feed_forward_length", n_ff_exp, 1, kMaxDim));
  if (!(rms_norm_eps > 0.0f && rms_norm_eps < 1.0f)) {
    return InvalidArgumentError(
        fmt::format("layer_norm_rms_epsilon {} is not in (0, 1)", rms_norm_eps));
  }
  if (!(rope_freq_base > 0.0f) || !std::isfinite(rope_freq_base) || !(rope_freq_base_swa > 0.0f) ||
      !std::isfinite(rope_freq_base_swa)) {
    return InvalidArgumentError("rope.freq_base must be a positive finite number");
  }
  if (!(final_logit_softcap >= 0.0f) || !std::isfinite(final_logit_softcap)) {
    return InvalidArgumentError("final_logit_softcapping must be >= 0");
  }
  SHOAL_RETURN_IF_ERROR(CheckRange("sliding_window", sliding_window, 0, kMaxContext));
  if (static_cast<int64_t>(layer_is_sliding.size()) != n_layer) {
    return absl::InternalError("layer_is_sliding must have one entry per layer");
  }
  return absl::OkStatus();
}

}  // namespace shoal::model
