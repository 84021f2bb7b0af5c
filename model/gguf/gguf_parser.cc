#include "model/gguf/gguf_parser.h"

#include <limits>

#include "common/status_macros.h"
#include "fmt/format.h"

namespace shoal::model {
namespace {

using absl::InvalidArgumentError;
using absl::StrCat;

constexpr uint64_t kMaxKeyBytes = 65535;
constexpr uint64_t kMaxTensorNameBytes = 63;  // GGML_MAX_NAME (64) includes the NUL
// Smallest possible encodings, used to reject counts the file cannot hold before
// allocating for them: a key-value is an empty key (8) + type (4) + 1 byte of value;
// a tensor info is an empty name (8) + n_dims (4) + type (4) + offset (8).
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;

uint64_t AlignUp(uint64_t value, uint64_t alignment) {
  return value + (alignment - value % alignment) % alignment;
}

// Bytes of one element of a scalar type in the file; 8 for a string's length prefix.
uint64_t MinEncodedSize(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    default:
      return 8;
  }
}

bool IsValidValueType(uint32_t raw) {
  return raw <= static_cast<uint32_t>(GgufValueType::kFloat64);
}

// Whether every product of dimensions fits int64 (gguf.cpp's overflow check; empty
// dimensions count as 1 so that row counts of empty tensors cannot overflow either).
bool ElementCountFits(const std::array<int64_t, kGgufMaxDims>& ne) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t product = 1;
  for (int64_t n : ne) {
    if (n == 0) continue;
    if (product > kMax / n) return false;
    product *= n;
  }
  return true;
}

}  // namespace

absl::Status GgufParser::Run(GgufFile& file) {
  GgufParser parser(file);
  int64_t n_tensors = 0;
  int64_t n_kv = 0;
  SHOAL_RETURN_IF_ERROR(parser.ReadHeader(n_tensors, n_kv));
  SHOAL_RETURN_IF_ERROR(parser.ReadMetadata(n_kv));
  SHOAL_RETURN_IF_ERROR(parser.ReadAlignment());
  SHOAL_RETURN_IF_ERROR(parser.ReadTensorInfos(n_tensors));
  return parser.LocateTensorData();
}

absl::Status GgufParser::ReadHeader(int64_t& n_tensors, int64_t& n_kv) {
  SHOAL_ASSIGN_OR_RETURN(uint32_t magic, reader_.Read<uint32_t>("magic"));
  if (magic != kGgufMagic) {
    return InvalidArgumentError(
        fmt::format("not a GGUF file: bad magic 0x{:08x} (expected 'GGUF')", magic));
  }
  SHOAL_ASSIGN_OR_RETURN(file_.version_, reader_.Read<uint32_t>("version"));
  const uint32_t version = file_.version_;
  if (version == 1) return InvalidArgumentError("GGUF version 1 is no longer supported");
  if ((version & 0xFFFF) == 0) {
    return InvalidArgumentError(fmt::format(
        "GGUF version {} looks byte-swapped: big-endian files are not supported", version));
  }
  if (version > 3) return InvalidArgumentError(fmt::format("unsupported GGUF version {}", version));

  SHOAL_ASSIGN_OR_RETURN(n_tensors, reader_.Read<int64_t>("tensor count"));
  SHOAL_ASSIGN_OR_RETURN(n_kv, reader_.Read<int64_t>("metadata count"));
  if (n_tensors < 0 ||
      static_cast<uint64_t>(n_tensors) > reader_.remaining() / kMinTensorInfoBytes) {
    return InvalidArgumentError(fmt::format("GGUF tensor count {} is impossible for a {}-byte file",
                                            n_tensors, file_.bytes_.size()));
  }
  if (n_kv < 0 || static_cast<uint64_t>(n_kv) > reader_.remaining() / kMinKeyValueBytes) {
    return InvalidArgumentError(fmt::format(
        "GGUF metadata count {} is impossible for a {}-byte file", n_kv, file_.bytes_.size()));
  }
  return absl::OkStatus();
}

absl::Status GgufParser::ReadMetadata(int64_t n_kv) {
  file_.metadata_.reserve(n_kv);
  for (int64_t i = 0; i < n_kv; ++i) {
    SHOAL_ASSIGN_OR_RETURN(std::string_view key, reader_.ReadString("metadata key"));
    if (key.size() > kMaxKeyBytes) {
      return InvalidArgumentError(fmt::format("GGUF metadata key #{} is {} bytes long (limit {})",
                                              i, key.size(), kMaxKeyBytes));
    }
    if (file_.metadata_index_.contains(key)) {
      return InvalidArgumentError(fmt::format("GGUF metadata key '{}' appears twice", key));
    }
    SHOAL_ASSIGN_OR_RETURN(uint32_t raw_type, reader_.Read<uint32_t>("metadata value type"));
    if (!IsValidValueType(raw_type)) {
      return InvalidArgumentError(
          fmt::format("GGUF metadata key '{}' has unknown value type {}", key, raw_type));
    }
    SHOAL_ASSIGN_OR_RETURN(GgufValue value, ReadValue(static_cast<GgufValueType>(raw_type), key));
    file_.metadata_index_.emplace(key, file_.metadata_.size());
    file_.metadata_.push_back({key, std::move(value)});
  }
  return absl::OkStatus();
}

absl::StatusOr<GgufScalar> GgufParser::ReadScalar(GgufValueType type, std::string_view key) {
  const std::string what = fmt::format("value of '{}'", key);
  switch (type) {
    case GgufValueType::kUint8:
      return reader_.Read<uint8_t>(what);
    case GgufValueType::kInt8:
      return reader_.Read<int8_t>(what);
    case GgufValueType::kUint16:
      return reader_.Read<uint16_t>(what);
    case GgufValueType::kInt16:
      return reader_.Read<int16_t>(what);
    case GgufValueType::kUint32:
      return reader_.Read<uint32_t>(what);
    case GgufValueType::kInt32:
      return reader_.Read<int32_t>(what);
    case GgufValueType::kFloat32:
      return reader_.Read<float>(what);
    case GgufValueType::kUint64:
      return reader_.Read<uint64_t>(what);
    case GgufValueType::kInt64:
      return reader_.Read<int64_t>(what);
    case GgufValueType::kFloat64:
      return reader_.Read<double>(what);
    case GgufValueType::kString:
      return reader_.ReadString(what);
    case GgufValueType::kBool: {
      SHOAL_ASSIGN_OR_RETURN(uint8_t byte, reader_.Read<uint8_t>(what));
      return byte != 0;
    }
    case GgufValueType::kArray:
      break;
  }
  return absl::InternalError("ReadScalar called for an array");
}

absl::StatusOr<GgufValue> GgufParser::ReadValue(GgufValueType type, std::string_view key) {
  if (type != GgufValueType::kArray) {
    SHOAL_ASSIGN_OR_RETURN(GgufScalar scalar, ReadScalar(type, key));
    return GgufValue(scalar);
  }
  SHOAL_ASSIGN_OR_RETURN(uint32_t raw_element_type, reader_.Read<uint32_t>("array element type"));
  if (!IsValidValueType(raw_element_type)) {
    return InvalidArgumentError(
        fmt::format("GGUF array '{}' has unknown element type {}", key, raw_element_type));
  }
  const auto element_type = static_cast<GgufValueType>(raw_element_type);
  if (element_type == GgufValueType::kArray) {
    return InvalidArgumentError(fmt::format("GGUF array '{}' nests arrays (not supported)", key));
  }
  SHOAL_ASSIGN_OR_RETURN(uint64_t count, reader_.Read<uint64_t>("array length"));
  if (count > reader_.remaining() / MinEncodedSize(element_type)) {
    return InvalidArgumentError(
        fmt::format("GGUF array '{}' claims {} elements but the file has only {} bytes left", key,
                    count, reader_.remaining()));
  }
  std::vector<GgufScalar> elements;
  elements.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    SHOAL_ASSIGN_OR_RETURN(GgufScalar element, ReadScalar(element_type, key));
    elements.push_back(element);
  }
  return GgufValue(element_type, std::move(elements));
}

absl::Status GgufParser::ReadAlignment() {
  const GgufValue* value = file_.FindValue("general.alignment");
  if (value == nullptr) return absl::OkStatus();
  const uint32_t* alignment = std::get_if<uint32_t>(&value->scalar());
  if (value->is_array() || alignment == nullptr) {
    return InvalidArgumentError(
        fmt::format("general.alignment must be uint32, not {}", GgufValueTypeName(value->type())));
  }
  if (*alignment == 0 || (*alignment & (*alignment - 1)) != 0) {
    return InvalidArgumentError(
        fmt::format("general.alignment must be a power of two, not {}", *alignment));
  }
  file_.alignment_ = *alignment;
  return absl::OkStatus();
}

absl::Status GgufParser::ReadTensorInfos(int64_t n_tensors) {
  file_.tensors_.reserve(n_tensors);
  for (int64_t i = 0; i < n_tensors; ++i) {
    SHOAL_ASSIGN_OR_RETURN(GgufTensorInfo info, ReadTensorInfo(i));
    if (file_.tensor_index_.contains(info.name)) {
      return InvalidArgumentError(fmt::format("GGUF tensor '{}' appears twice", info.name));
    }
    file_.tensor_index_.emplace(info.name, file_.tensors_.size());
    file_.tensors_.push_back(info);
  }
  return absl::OkStatus();
}

absl::StatusOr<GgufTensorInfo> GgufParser::ReadTensorInfo(int64_t index) {
  GgufTensorInfo info;
  SHOAL_ASSIGN_OR_RETURN(info.name, reader_.ReadString("tensor name"));
  if (info.name.size() > kMaxTensorNameBytes) {
    return InvalidArgumentError(fmt::format("GGUF tensor #{} has a {}-byte name (limit {})", index,
                                            info.name.size(), kMaxTensorNameBytes));
  }
  SHOAL_ASSIGN_OR_RETURN(uint32_t n_dims, reader_.Read<uint32_t>("tensor dimension count"));
  if (n_dims > kGgufMaxDims) {
    return InvalidArgumentError(fmt::format("GGUF tensor '{}' has {} dimensions (at most {})",
                                            info.name, n_dims, kGgufMaxDims));
  }
  info.n_dims = static_cast<int>(n_dims);
  for (uint32_t d = 0; d < n_dims; ++d) {
    SHOAL_ASSIGN_OR_RETURN(info.ne[d], reader_.Read<int64_t>("tensor dimension"));
    if (info.ne[d] < 0) {
      return InvalidArgumentError(
          fmt::format("GGUF tensor '{}' has negative dimension {}", info.name, info.ne[d]));
    }
  }
  if (!ElementCountFits(info.ne)) {
    return InvalidArgumentError(fmt::format("GGUF tensor '{}' has too many elements", info.name));
  }
  SHOAL_ASSIGN_OR_RETURN(uint32_t raw_type, reader_.Read<uint32_t>("tensor type"));
  std::optional<GgmlTypeTraits> traits = FindGgmlType(raw_type);
  if (!traits) {
    return InvalidArgumentError(
        fmt::format("GGUF tensor '{}' has unknown tensor type {}", info.name, raw_type));
  }
  info.type = traits->type;
  if (info.ne[0] % traits->block_size != 0) {
    return InvalidArgumentError(fmt::format(
        "GGUF tensor '{}' of type {} has a row of {} elements, not a multiple of its block size {}",
        info.name, traits->name, info.ne[0], traits->block_size));
  }
  SHOAL_ASSIGN_OR_RETURN(info.offset, reader_.Read<uint64_t>("tensor data offset"));
  return info;
}

absl::Status GgufParser::LocateTensorData() {
  const uint64_t alignment = file_.alignment_;
  file_.data_offset_ = AlignUp(reader_.position(), alignment);
  const uint64_t file_size = file_.bytes_.size();
  // Tensors are stored in order, each padded to the alignment (gguf.cpp requires it).
  uint64_t expected_offset = 0;
  for (GgufTensorInfo& info : file_.tensors_) {
    if (info.offset != expected_offset) {
      return InvalidArgumentError(
          fmt::format("GGUF tensor '{}' has data offset {}, expected {} (tensors must be stored in "
                      "order without gaps)",
                      info.name, info.offset, expected_offset));
    }
    // Element count fits int64 (checked), so rows * row_bytes fits uint64.
    const GgmlTypeTraits& traits = TraitsOf(info.type);
    const uint64_t rows = static_cast<uint64_t>(info.ne[1] * info.ne[2] * info.ne[3]);
    const uint64_t row_bytes = static_cast<uint64_t>(info.ne[0] / traits.block_size) *
                               static_cast<uint64_t>(traits.type_size);
    if (rows != 0 && row_bytes > file_size / rows) {
      return InvalidArgumentError(
          fmt::format("GGUF tensor '{}' is larger than the whole file", info.name));
    }
    const uint64_t nbytes = rows * row_bytes;
    const uint64_t start = file_.data_offset_ + info.offset;
    if (file_.data_offset_ > file_size || info.offset > file_size - file_.data_offset_ ||
        nbytes > file_size - start) {
      return InvalidArgumentError(
          fmt::format("GGUF tensor '{}' ({} bytes at offset {}) lies outside the file's {} bytes",
                      info.name, nbytes, info.offset, file_size));
    }
    info.data = file_.bytes_.subspan(start, nbytes);
    expected_offset = AlignUp(info.offset + nbytes, alignment);
  }
  return absl::OkStatus();
}

}  // namespace shoal::model
