// One metadata value of a GGUF file: a scalar, a string, or an array of either.
// Strings are views into the file's mapping, so a value lives no longer than the
// GgufFile it came from.
#ifndef SHOAL_MODEL_GGUF_GGUF_VALUE_H_
#define SHOAL_MODEL_GGUF_GGUF_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace shoal::model {

// gguf_type values as stored in the file (gguf.h).
enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// The lower-case name used by gguf-py and `shoal info` ("uint32", "string", ...).
std::string_view GgufValueTypeName(GgufValueType type);

// A scalar or string element. The variant index follows the stored type, so the
// exact type a converter wrote is kept (llama.cpp is strict about some of them).
using GgufScalar = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                                std::string_view, uint64_t, int64_t, double>;

GgufValueType TypeOf(const GgufScalar& scalar);

class GgufValue {
 public:
  explicit GgufValue(GgufScalar scalar) : type_(TypeOf(scalar)), scalar_(scalar) {}
  GgufValue(GgufValueType element_type, std::vector<GgufScalar> elements)
      : type_(GgufValueType::kArray), element_type_(element_type), elements_(std::move(elements)) {}

  GgufValueType type() const { return type_; }
  bool is_array() const { return type_ == GgufValueType::kArray; }

  // Scalars. Each returns nullopt if the value is not of a matching kind.
  // Any integer type converts to int64 when it fits (converters mix u32 and u64 for
  // counts); floats accept float32 and float64.
  std::optional<int64_t> AsInt() const { return is_array() ? std::nullopt : ScalarAsInt(scalar_); }
  std::optional<double> AsFloat() const {
    return is_array() ? std::nullopt : ScalarAsFloat(scalar_);
  }
  std::optional<bool> AsBool() const;
  std::optional<std::string_view> AsString() const;
  const GgufScalar& scalar() const { return scalar_; }

  // Arrays.
  GgufValueType element_type() const { return element_type_; }
  const std::vector<GgufScalar>& elements() const { return elements_; }

  static std::optional<int64_t> ScalarAsInt(const GgufScalar& scalar);
  static std::optional<double> ScalarAsFloat(const GgufScalar& scalar);

 private:
  GgufValueType type_;
  GgufScalar scalar_{uint8_t{0}};
  GgufValueType element_type_ = GgufValueType::kUint8;
  std::vector<GgufScalar> elements_;
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_GGUF_GGUF_VALUE_H_
