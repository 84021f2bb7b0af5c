// IEEE binary16 and bfloat16 <-> float32 conversions, bit-exact and portable (the
// reference paths use these; SIMD kernels use the hardware instructions and are
// tested against them).
#ifndef SHOAL_COMMON_HALF_H_
#define SHOAL_COMMON_HALF_H_

#include <bit>
#include <cstdint>

namespace shoal {

inline float Fp16ToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {  // inf / NaN
    bits = sign | 0x7F800000 | (mantissa << 13);
  } else if (exponent != 0) {  // normal
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // zero
    bits = sign;
  } else {  // subnormal: normalise
    int shift = 0;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | static_cast<uint32_t>(113 - shift) << 23 | ((mantissa & 0x3FF) << 13);
  }
  return std::bit_cast<float>(bits);
}

// Round to nearest even, with overflow to infinity, as the F16C instruction does.
inline uint16_t FloatToFp16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t abs_bits = bits & 0x7FFFFFFF;
  if (abs_bits >= 0x7F800000) {  // inf / NaN (keep NaN quiet)
    return sign | 0x7C00 | (abs_bits > 0x7F800000 ? 0x200 : 0);
  }
  if (abs_bits >= 0x477FF000) return sign | 0x7C00;  // rounds to >= 65520: infinity
  if (abs_bits < 0x38800000) {                       // below the smallest normal half
    // Subnormal (or zero): value / 2^-24, rounded to nearest even.
    const float magnitude = std::bit_cast<float>(abs_bits);
    const float scaled = magnitude * 16777216.0f;  // exact: a power of two
    uint32_t q = static_cast<uint32_t>(scaled);
    const float remainder = scaled - static_cast<float>(q);
    if (remainder > 0.5f || (remainder == 0.5f && (q & 1))) ++q;
    return sign | static_cast<uint16_t>(q);
  }
  const uint32_t exponent = (abs_bits >> 23) - 112;
  uint32_t half = (exponent << 10) | ((abs_bits >> 13) & 0x3FF);
  const uint32_t dropped = abs_bits & 0x1FFF;
  if (dropped > 0x1000 || (dropped == 0x1000 && (half & 1))) ++half;  // may carry into exp
  return sign | static_cast<uint16_t>(half);
}

inline float Bf16ToFloat(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

// Round to nearest even; NaN stays a quiet NaN (ggml's convention).
inline uint16_t FloatToBf16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7FFFFFFF) > 0x7F800000) return static_cast<uint16_t>((bits >> 16) | 64);
  return static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

}  // namespace shoal

#endif  // SHOAL_COMMON_HALF_H_
