// A parsed GGUF file (v2/v3): metadata key-values in file order and tensor infos whose
// data are views into the file's read-only mapping. See REFERENCE.md §1.1 for the
// layout; every count, size and offset is validated against the file before use.
#ifndef SHOAL_MODEL_GGUF_GGUF_FILE_H_
#define SHOAL_MODEL_GGUF_GGUF_FILE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/ggml_types.h"
#include "common/mapped_file.h"
#include "model/gguf/gguf_value.h"

namespace shoal::model {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
inline constexpr uint64_t kGgufDefaultAlignment = 32;
inline constexpr int kGgufMaxDims = 4;

struct GgufKeyValue {
  std::string_view key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string_view name;
  GgmlType type;
  int n_dims = 0;
  std::array<int64_t, kGgufMaxDims> ne{1, 1, 1, 1};  // ne[0] is contiguous; unused dims are 1
  uint64_t offset = 0;                               // relative to the data section
  std::span<const uint8_t> data;                     // the tensor's bytes in the mapping

  int64_t num_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  // Bytes of one row of ne[0] elements.
  int64_t row_bytes() const {
    const GgmlTypeTraits& traits = TraitsOf(type);
    return ne[0] / traits.block_size * traits.type_size;
  }
};

// Immutable after parsing; safe to read from any thread.
class GgufFile {
 public:
  // Maps and parses the file at `path`.
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses bytes owned by the caller, which must outlive the result (fuzzing, tests).
  static absl::StatusOr<std::unique_ptr<GgufFile>> Parse(std::span<const uint8_t> bytes);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute start of the data section
  uint64_t file_size() const { return bytes_.size(); }
  const std::string& path() const { return path_; }
  // The header, metadata and tensor infos: everything before the tensor data.
  std::span<const uint8_t> header_bytes() const { return bytes_.first(data_offset_); }

  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  // Lookups; nullptr when absent.
  const GgufValue* FindValue(std::string_view key) const;
  const GgufTensorInfo* FindTensor(std::string_view name) const;

  // Typed metadata access with errors that name the key. The ...Or variants return
  // `fallback` when the key is absent but still fail on a value of the wrong type.
  absl::StatusOr<std::string_view> GetString(std::string_view key) const;
  absl::StatusOr<int64_t> GetInt(std::string_view key) const;
  absl::StatusOr<double> GetFloat(std::string_view key) const;
  absl::StatusOr<bool> GetBool(std::string_view key) const;
  absl::StatusOr<const GgufValue*> GetArray(std::string_view key) const;
  absl::StatusOr<std::string_view> GetStringOr(std::string_view key,
                                               std::string_view fallback) const;
  absl::StatusOr<int64_t> GetIntOr(std::string_view key, int64_t fallback) const;
  absl::StatusOr<double> GetFloatOr(std::string_view key, double fallback) const;
  absl::StatusOr<bool> GetBoolOr(std::string_view key, bool fallback) const;

 private:
  friend class GgufParser;
  GgufFile() = default;

  std::string path_;
  std::unique_ptr<MappedFile> mapping_;  // null when parsed from caller-owned bytes
  std::span<const uint8_t> bytes_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  absl::flat_hash_map<std::string_view, size_t> metadata_index_;
  absl::flat_hash_map<std::string_view, size_t> tensor_index_;
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_GGUF_GGUF_FILE_H_
