#include "model/gguf/gguf_file.h"

#include "absl/memory/memory.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "model/gguf/gguf_parser.h"

namespace shoal::model {
namespace {

absl::Status WrongType(std::string_view key, std::string_view wanted, const GgufValue& value) {
  return absl::InvalidArgumentError(fmt::format("GGUF key '{}' should be {} but is {}", key, wanted,
                                                GgufValueTypeName(value.type())));
}

absl::Status Missing(std::string_view key) {
  return absl::NotFoundError(fmt::format("GGUF key '{}' is missing", key));
}

}  // namespace

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapping, MappedFile::Open(path));
  auto file = absl::WrapUnique(new GgufFile());
  file->path_ = path;
  file->bytes_ = mapping->bytes();
  file->mapping_ = std::move(mapping);
  SHOAL_RETURN_IF_ERROR(Annotate(GgufParser::Run(*file), path));
  return file;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Parse(std::span<const uint8_t> bytes) {
  auto file = absl::WrapUnique(new GgufFile());
  file->bytes_ = bytes;
  SHOAL_RETURN_IF_ERROR(GgufParser::Run(*file));
  return file;
}

const GgufValue* GgufFile::FindValue(std::string_view key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].value;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<std::string_view> GgufFile::GetString(std::string_view key) const {
  const GgufValue* value = FindValue(key);
  if (value == nullptr) return Missing(key);
  std::optional<std::string_view> text = value->AsString();
  if (!text) return WrongType(key, "a string", *value);
  return *text;
}

absl::StatusOr<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufValue* value = FindValue(key);
  if (value == nullptr) return Missing(key);
  std::optional<int64_t> number = value->AsInt();
  if (!number) return WrongType(key, "an integer", *value);
  return *number;
}

absl::StatusOr<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* value = FindValue(key);
  if (value == nullptr) return Missing(key);
  std::optional<double> number = value->AsFloat();
  if (!number) return WrongType(key, "a float", *value);
  return *number;
}

absl::StatusOr<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* value = FindValue(key);
  if (value == nullptr) return Missing(key);
  std::optional<bool> flag = value->AsBool();
  if (!flag) return WrongType(key, "a bool", *value);
  return *flag;
}

absl::StatusOr<const GgufValue*> GgufFile::GetArray(std::string_view key) const {
  const GgufValue* value = FindValue(key);
  if (value == nullptr) return Missing(key);
  if (!value->is_array()) return WrongType(key, "an array", *value);
  return value;
}

absl::StatusOr<std::string_view> GgufFile::GetStringOr(std::string_view key,
                                                       std::string_view fallback) const {
  return FindValue(key) == nullptr ? fallback : GetString(key);
}

absl::StatusOr<int64_t> GgufFile::GetIntOr(std::string_view key, int64_t fallback) const {
  return FindValue(key) == nullptr ? fallback : GetInt(key);
}

absl::StatusOr<double> GgufFile::GetFloatOr(std::string_view key, double fallback) const {
  return FindValue(key) == nullptr ? fallback : GetFloat(key);
}

absl::StatusOr<bool> GgufFile::GetBoolOr(std::string_view key, bool fallback) const {
  return FindValue(key) == nullptr ? fallback : GetBool(key);
}

}  // namespace shoal::model
