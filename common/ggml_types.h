// Tensor element types as ggml numbers them, with their block geometry. Shared by
// model/ (reading files, reference dequantization) and kernels/ (compute on the
// quantized blocks), which may not depend on each other.
#ifndef SHOAL_COMMON_GGML_TYPES_H_
#define SHOAL_COMMON_GGML_TYPES_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace shoal {

// ggml_type ids (ggml.h). Ids 4, 5, 31-33 and 36-38 were removed from ggml and are
// not valid in files.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
};

struct GgmlTypeTraits {
  GgmlType type;
  std::string_view name;  // as ggml prints it, e.g. "Q4_K"
  int64_t block_size;     // elements per block
  int64_t type_size;      // bytes per block
};

// Traits of a type id read from a file, or nullopt for ids ggml does not define.
std::optional<GgmlTypeTraits> FindGgmlType(uint32_t id);

// Traits of a known type. Every GgmlType enumerator has traits.
const GgmlTypeTraits& TraitsOf(GgmlType type);

inline std::string_view GgmlTypeName(GgmlType type) { return TraitsOf(type).name; }

}  // namespace shoal

#endif  // SHOAL_COMMON_GGML_TYPES_H_
