#include "model/gguf/gguf_value.h"

#include <limits>

namespace shoal::model {

std::string_view GgufValueTypeName(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
      return "uint8";
    case GgufValueType::kInt8:
      return "int8";
    case GgufValueType::kUint16:
      return "uint16";
    case GgufValueType::kInt16:
      return "int16";
    case GgufValueType::kUint32:
      return "uint32";
    case GgufValueType::kInt32:
      return "int32";
    case GgufValueType::kFloat32:
      return "float32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "string";
    case GgufValueType::kArray:
      return "array";
    case GgufValueType::kUint64:
      return "uint64";
    case GgufValueType::kInt64:
      return "int64";
    case GgufValueType::kFloat64:
      return "float64";
  }
  return "invalid";
}

GgufValueType TypeOf(const GgufScalar& scalar) {
  // The variant's alternatives are listed in GgufValueType order, skipping kArray.
  const size_t index = scalar.index();
  return static_cast<GgufValueType>(index < 9 ? index : index + 1);
}

std::optional<int64_t> GgufValue::ScalarAsInt(const GgufScalar& scalar) {
  return std::visit(
      [](const auto& v) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, uint64_t>) {
          if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
          return static_cast<int64_t>(v);
        } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          return static_cast<int64_t>(v);
        } else {
          return std::nullopt;
        }
      },
      scalar);
}

std::optional<double> GgufValue::ScalarAsFloat(const GgufScalar& scalar) {
  if (const float* f = std::get_if<float>(&scalar)) return *f;
  if (const double* d = std::get_if<double>(&scalar)) return *d;
  return std::nullopt;
}

std::optional<bool> GgufValue::AsBool() const {
  if (is_array()) return std::nullopt;
  if (const bool* b = std::get_if<bool>(&scalar_)) return *b;
  return std::nullopt;
}

std::optional<std::string_view> GgufValue::AsString() const {
  if (is_array()) return std::nullopt;
  if (const auto* s = std::get_if<std::string_view>(&scalar_)) return *s;
  return std::nullopt;
}

}  // namespace shoal::model
