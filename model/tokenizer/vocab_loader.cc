#include "model/tokenizer/vocab_loader.h"

#include <string>
#include <variant>

#include "absl/status/status.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "model/tokenizer/vocab.h"

namespace shoal::model {
namespace {

constexpr std::string_view kPrefix = "tokenizer.ggml.";

std::string Key(std::string_view name) { return std::string(kPrefix) + std::string(name); }

absl::Status WrongArray(std::string_view key, std::string_view wanted, const GgufValue& value) {
  std::string_view got =
      value.is_array() ? GgufValueTypeName(value.element_type()) : GgufValueTypeName(value.type());
  return absl::InvalidArgumentError(
      fmt::format("GGUF key '{}' should be an array of {} but is {}{}", key, wanted,
                  value.is_array() ? "an array of " : "", got));
}

// The array at `key`, or nullptr when absent; an error when it is not an array of one
// of `types` or has more than `max_size` elements.
absl::StatusOr<const GgufValue*> FindArray(const GgufFile& file, const std::string& key,
                                           std::initializer_list<GgufValueType> types,
                                           std::string_view wanted, int64_t max_size) {
  const GgufValue* value = file.FindValue(key);
  if (value == nullptr) return nullptr;
  bool ok = value->is_array();
  if (ok) {
    ok = false;
    for (GgufValueType type : types) ok = ok || value->element_type() == type;
  }
  if (!ok) return WrongArray(key, wanted, *value);
  if (static_cast<int64_t>(value->elements().size()) > max_size) {
    return absl::InvalidArgumentError(fmt::format("GGUF key '{}' has {} elements (at most {})", key,
                                                  value->elements().size(), max_size));
  }
  return value;
}

absl::StatusOr<std::vector<std::string>> ReadStrings(const GgufFile& file, const std::string& key,
                                                     int64_t max_size) {
  SHOAL_ASSIGN_OR_RETURN(const GgufValue* value,
                         FindArray(file, key, {GgufValueType::kString}, "strings", max_size));
  std::vector<std::string> strings;
  if (value == nullptr) return strings;
  strings.reserve(value->elements().size());
  for (const GgufScalar& element : value->elements()) {
    strings.emplace_back(std::get<std::string_view>(element));
  }
  return strings;
}

absl::Status ReadOptionalId(const GgufFile& file, std::string_view name,
                            std::optional<int64_t>* id) {
  const std::string key = Key(name);
  if (file.FindValue(key) == nullptr) return absl::OkStatus();
  SHOAL_ASSIGN_OR_RETURN(int64_t value, file.GetInt(key));
  *id = value;
  return absl::OkStatus();
}

absl::Status ReadOptionalBool(const GgufFile& file, std::string_view name,
                              std::optional<bool>* flag) {
  const std::string key = Key(name);
  if (file.FindValue(key) == nullptr) return absl::OkStatus();
  SHOAL_ASSIGN_OR_RETURN(bool value, file.GetBool(key));
  *flag = value;
  return absl::OkStatus();
}

absl::Status ReadArrays(const GgufFile& file, VocabSpec* spec) {
  const std::string tokens_key = Key("tokens");
  if (file.FindValue(tokens_key) == nullptr) {
    return absl::NotFoundError(fmt::format("GGUF key '{}' is missing", tokens_key));
  }
  SHOAL_ASSIGN_OR_RETURN(spec->tokens, ReadStrings(file, tokens_key, kMaxVocabSize));

  SHOAL_ASSIGN_OR_RETURN(
      const GgufValue* scores,
      FindArray(file, Key("scores"), {GgufValueType::kFloat32, GgufValueType::kInt32},
                "float32 or int32", kMaxVocabSize));
  if (scores != nullptr) {
    for (const GgufScalar& element : scores->elements()) {
      const int32_t* integer = std::get_if<int32_t>(&element);
      spec->scores.push_back(integer != nullptr ? static_cast<float>(*integer)
                                                : std::get<float>(element));
    }
  }
  SHOAL_ASSIGN_OR_RETURN(
      const GgufValue* types,
      FindArray(file, Key("token_type"), {GgufValueType::kInt32}, "int32", kMaxVocabSize));
  if (types != nullptr) {
    for (const GgufScalar& element : types->elements()) {
      spec->token_types.push_back(std::get<int32_t>(element));
    }
  }
  const std::string merges_key = Key("merges");
  if (spec->model == "gpt2" && file.FindValue(merges_key) == nullptr) {
    return absl::NotFoundError(
        fmt::format("GGUF key '{}' is missing; a gpt2 (BPE) vocabulary needs it", merges_key));
  }
  SHOAL_ASSIGN_OR_RETURN(spec->merges, ReadStrings(file, merges_key, kMaxMerges));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<VocabSpec> ReadVocabSpec(const GgufFile& file) {
  VocabSpec spec;
  SHOAL_ASSIGN_OR_RETURN(std::string_view model, file.GetString(Key("model")));
  spec.model = std::string(model);
  if (file.FindValue(Key("pre")) != nullptr) {
    SHOAL_ASSIGN_OR_RETURN(std::string_view pre, file.GetString(Key("pre")));
    spec.pre = std::string(pre);
  }
  SHOAL_RETURN_IF_ERROR(ReadArrays(file, &spec));

  struct IdKey {
    std::string_view name;
    std::optional<int64_t>* id;
  };
  // The deprecated prefix/suffix/middle keys come last and win, as in llama.cpp.
  const IdKey id_keys[] = {
      {"bos_token_id", &spec.bos_id},         {"eos_token_id", &spec.eos_id},
      {"eot_token_id", &spec.eot_id},         {"eom_token_id", &spec.eom_id},
      {"unknown_token_id", &spec.unk_id},     {"seperator_token_id", &spec.sep_id},
      {"padding_token_id", &spec.pad_id},     {"mask_token_id", &spec.mask_id},
      {"fim_pre_token_id", &spec.fim_pre_id}, {"fim_suf_token_id", &spec.fim_suf_id},
      {"fim_mid_token_id", &spec.fim_mid_id}, {"fim_pad_token_id", &spec.fim_pad_id},
      {"fim_rep_token_id", &spec.fim_rep_id}, {"fim_sep_token_id", &spec.fim_sep_id},
      {"prefix_token_id", &spec.fim_pre_id},  {"suffix_token_id", &spec.fim_suf_id},
      {"middle_token_id", &spec.fim_mid_id},
  };
  for (const IdKey& key : id_keys) SHOAL_RETURN_IF_ERROR(ReadOptionalId(file, key.name, key.id));
  SHOAL_RETURN_IF_ERROR(ReadOptionalBool(file, "add_bos_token", &spec.add_bos));
  SHOAL_RETURN_IF_ERROR(ReadOptionalBool(file, "add_eos_token", &spec.add_eos));
  SHOAL_RETURN_IF_ERROR(ReadOptionalBool(file, "add_space_prefix", &spec.add_space_prefix));
  SHOAL_RETURN_IF_ERROR(
      ReadOptionalBool(file, "remove_extra_whitespaces", &spec.remove_extra_whitespaces));
  return spec;
}

}  // namespace shoal::model
