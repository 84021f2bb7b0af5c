// shoal info: what a model file holds, for humans. Prints what it can even when the
// model is not one Shoal can run, and says why not.
#include <cstdio>
#include <map>

#include "absl/flags/flag.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/model_path.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "model/gguf/gguf_file.h"
#include "model/model_config.h"
#include "model/model_file.h"
#include "model/tensor_layout.h"

namespace shoal::cli {
namespace {

using model::GgufFile;
using model::GgufValue;
using model::ModelConfig;

std::string FormatBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{:.{}f} {}", bytes, unit == 0 ? 0 : 2, units[unit]);
}

std::string FormatScalar(const model::GgufScalar& scalar) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          return fmt::format("\"{}\"",
                             v.size() > 80 ? std::string(v.substr(0, 77)) + "..." : std::string(v));
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>) {
          return fmt::format("{}", static_cast<int>(v));
        } else {
          return fmt::format("{}", v);
        }
      },
      scalar);
}

std::string FormatValue(const GgufValue& value) {
  if (!value.is_array()) return FormatScalar(value.scalar());
  std::string text = fmt::format("[{} x {}]", value.elements().size(),
                                 model::GgufValueTypeName(value.element_type()));
  for (size_t i = 0; i < value.elements().size() && i < 4; ++i) {
    text += (i == 0 ? " " : ", ") + FormatScalar(value.elements()[i]);
  }
  if (value.elements().size() > 4) text += ", ...";
  return text;
}

void PrintConfig(const ModelConfig& c) {
  fmt::print("architecture:    {}\n", model::ArchitectureName(c.architecture));
  if (!c.name.empty()) fmt::print("name:            {}\n", c.name);
  fmt::print("context length:  {}\n", c.context_length);
  fmt::print("embedding:       {}\n", c.n_embd);
  fmt::print("layers:          {}\n", c.n_layer);
  fmt::print("heads:           {} query, {} key/value (head dim {}, value dim {})\n", c.n_head,
             c.n_head_kv, c.head_dim, c.value_dim);
  if (c.is_moe()) {
    fmt::print("experts:         {} (top {}), expert FFN {}\n", c.n_expert, c.n_expert_used,
               c.n_ff_exp);
  } else {
    fmt::print("feed-forward:    {} ({})\n", c.n_ff,
               c.ffn_activation == model::FfnActivation::kSilu ? "SwiGLU" : "GeGLU, tanh GELU");
  }
  fmt::print("vocabulary:      {} tokens{}\n", c.n_vocab, c.tied_embeddings ? ", tied output" : "");
  fmt::print("rope:            {}, {} dims, base {}",
             c.rope_style == model::RopeStyle::kNorm ? "norm" : "neox", c.rope_dim,
             c.rope_freq_base);
  if (c.sliding_window > 0) fmt::print(" (sliding layers: base {})", c.rope_freq_base_swa);
  if (c.rope_freq_scale != 1.0f) fmt::print(", linear scale {}", c.rope_freq_scale);
  if (c.has_rope_freq_factors) fmt::print(", frequency factors");
  fmt::print("\n");
  if (c.sliding_window > 0) {
    std::string pattern;
    for (bool sliding : c.layer_is_sliding) pattern += sliding ? 'S' : 'G';
    fmt::print("attention:       sliding window {} (S) / global (G): {}\n", c.sliding_window,
               pattern);
  }
  fmt::print("rms norm eps:    {}\n", c.rms_norm_eps);
  fmt::print("kv cache:        {} per token (f16)\n", FormatBytes(c.KvBytesPerToken(2)));
}

void PrintTensorSummary(const GgufFile& file) {
  struct Totals {
    int count = 0;
    int64_t elements = 0;
    uint64_t bytes = 0;
  };
  std::map<std::string_view, Totals> by_type;
  Totals all;
  for (const model::GgufTensorInfo& t : file.tensors()) {
    Totals& totals = by_type[GgmlTypeName(t.type)];
    for (Totals* x : {&totals, &all}) {
      ++x->count;
      x->elements += t.num_elements();
      x->bytes += t.data.size();
    }
  }
  fmt::print("parameters:      {:.1f} M in {} tensors, {}\n", all.elements / 1e6, all.count,
             FormatBytes(static_cast<double>(all.bytes)));
  for (const auto& [type, totals] : by_type) {
    fmt::print("  {:<6} {:>4} tensors {:>10.1f} M params {:>12}\n", type, totals.count,
               totals.elements / 1e6, FormatBytes(static_cast<double>(totals.bytes)));
  }
}

void PrintMetadata(const GgufFile& gguf) {
  fmt::print("metadata:\n");
  for (const model::GgufKeyValue& kv : gguf.metadata()) {
    fmt::print("  {} = {}\n", kv.key, FormatValue(kv.value));
  }
}

void PrintTensors(const GgufFile& gguf) {
  fmt::print("tensors:\n");
  for (const model::GgufTensorInfo& t : gguf.tensors()) {
    fmt::print("  {:<40} {:<6} [{}]\n", t.name, GgmlTypeName(t.type),
               fmt::join(t.ne.begin(), t.ne.begin() + t.n_dims, ", "));
  }
}

std::string DescribeToken(const model::Tokenizer& tokenizer, int32_t id) {
  if (!tokenizer.IsValid(id)) return "none";
  absl::StatusOr<std::string_view> text = tokenizer.TokenText(id);
  return fmt::format("{} '{}'", id, text.ok() ? *text : "?");
}

void PrintTokenizerAndTemplate(const model::ModelFile& model) {
  const model::Tokenizer& tokenizer = model.tokenizer();
  const model::GgufFile& gguf = model.gguf();
  const std::string_view kind = gguf.GetStringOr("tokenizer.ggml.model", "?").value_or("?");
  const std::string_view pre = gguf.GetStringOr("tokenizer.ggml.pre", "default").value_or("?");
  fmt::print("tokenizer:       {} (pre-tokenizer {}), {} tokens\n", kind, pre,
             tokenizer.vocab_size());
  fmt::print("special tokens:  BOS {}{}, EOS {}{}, {} end-of-generation\n",
             DescribeToken(tokenizer, tokenizer.bos_id()), tokenizer.add_bos() ? " (added)" : "",
             DescribeToken(tokenizer, tokenizer.eos_id()), tokenizer.add_eos() ? " (added)" : "",
             tokenizer.eog_ids().size());
  switch (model.chat_template_source()) {
    case model::ChatTemplateSource::kNone:
      fmt::print("chat template:   none\n");
      break;
    case model::ChatTemplateSource::kFile:
      fmt::print("chat template:   from the file ({} bytes)\n",
                 model.chat_template()->source().size());
      break;
    case model::ChatTemplateSource::kBuiltin:
      fmt::print("chat template:   built-in for {} (the file has none)\n",
                 model::ArchitectureName(model.config().architecture));
      break;
  }
}

}  // namespace

int RunInfo(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "shoal info: unexpected argument '%s'\n", args[0].c_str());
    return 2;
  }
  absl::StatusOr<std::string> path = ResolveModelPath(absl::GetFlag(FLAGS_model));
  if (!path.ok()) {
    std::fprintf(stderr, "shoal info: %s\n", MessageOf(path.status()).c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(*path);
  if (!file.ok()) {
    std::fprintf(stderr, "shoal info: %s\n", MessageOf(file.status()).c_str());
    return 1;
  }
  const GgufFile& gguf = **file;
  fmt::print("file:            {} ({}, GGUF v{}, {} metadata keys)\n", *path,
             FormatBytes(static_cast<double>(gguf.file_size())), gguf.version(),
             gguf.metadata().size());
  absl::StatusOr<ModelConfig> config = ModelConfig::FromGguf(gguf);
  if (config.ok()) PrintConfig(*config);
  PrintTensorSummary(gguf);
  // Everything else (vocabulary, chat template, the full check) through the loader the
  // engine uses, so "runnable: yes" means the engine would accept the file.
  absl::StatusOr<std::unique_ptr<model::ModelFile>> loaded = model::ModelFile::Open(*path);
  if (loaded.ok()) PrintTokenizerAndTemplate(**loaded);
  if (absl::GetFlag(FLAGS_metadata)) PrintMetadata(gguf);
  if (absl::GetFlag(FLAGS_tensors)) PrintTensors(gguf);
  if (!loaded.ok()) {
    fmt::print("runnable:        no: {}\n", MessageOf(loaded.status()));
    return 1;
  }
  fmt::print("runnable:        yes\n");
  return 0;
}

}  // namespace shoal::cli
