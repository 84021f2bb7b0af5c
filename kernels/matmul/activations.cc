// Activation row layout and the reference quantizers (see activations.h for the
// formulas and where they come from in ggml).
#include "kernels/matmul/activations.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "common/half.h"

namespace shoal::kernels::matmul {
namespace {

constexpr size_t kAlign = 64;

size_t AlignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

int64_t BlockSize(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::kQ8_0:
    case ActivationKind::kQ8_1: return 32;
    case ActivationKind::kQ8_K: return 256;
    default: return 1;
  }
}

int8_t SaturateToInt8(int v) { return static_cast<int8_t>(v < -128 ? -128 : v > 127 ? 127 : v); }

// Q8_0 / Q8_1: x86 ggml's quantize_row_q8_0 / _q8_1, one block of 32.
void QuantizeBlock32(const float* x, bool q8_1, int8_t* qs, float* d_out, float* s_out) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  int sum = 0;
  for (int j = 0; j < 32; ++j) {
    qs[j] = SaturateToInt8(RoundHalfEven(x[j] * id));
    sum += qs[j];
  }
  const float d_half = Fp16ToFloat(FloatToFp16(d));
  *d_out = d_half;
  // Q8_1 keeps ggml's fp16 s = d·Σq (d before rounding to half); for Q8_0 the kernels
  // use the exact d_half·Σq to fold the weight offset (-8, -16, -128) into the scale.
  *s_out = q8_1 ? Fp16ToFloat(FloatToFp16(d * static_cast<float>(sum)))
                : d_half * static_cast<float>(sum);
}

// Q8_K: ggml's quantize_row_q8_K_ref, one block of 256.
void QuantizeBlock256(const float* x, int8_t* qs, float* d_out, int16_t* bsums, float* bsf) {
  float max = 0.0f;
  float amax = 0.0f;
  for (int j = 0; j < 256; ++j) {
    const float ax = std::fabs(x[j]);
    if (ax > amax) {
      amax = ax;
      max = x[j];
    }
  }
  if (amax == 0.0f) {
    std::memset(qs, 0, 256);
    std::memset(bsums, 0, 16 * sizeof(int16_t));
    std::memset(bsf, 0, 16 * sizeof(float));
    *d_out = 0.0f;
    return;
  }
  const float iscale = -127.0f / max;
  for (int j = 0; j < 256; ++j) {
    const int v = RoundHalfEven(iscale * x[j]);
    qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
  }
  const float d = 1.0f / iscale;
  *d_out = d;
  for (int j = 0; j < 16; ++j) {
    int sum = 0;
    for (int i = 0; i < 16; ++i) sum += qs[16 * j + i];
    bsums[j] = static_cast<int16_t>(sum);
    bsf[j] = d * static_cast<float>(sum);
  }
}

}  // namespace

int RoundHalfEven(float v) {
  // ggml's nearest_int: adding 1.5·2^23 leaves the integer in the low mantissa bits.
  const float shifted = v + 12582912.0f;
  return static_cast<int>(std::bit_cast<uint32_t>(shifted) & 0x007fffff) - 0x00400000;
}

ActivationKind ActivationKindFor(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::kF16: return ActivationKind::kF16;
    case GgmlType::kBF16: return ActivationKind::kBF16;
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ8_0: return ActivationKind::kQ8_0;
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1: return ActivationKind::kQ8_1;
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K: return ActivationKind::kQ8_K;
    default: return ActivationKind::kF32;
  }
}

ActivationLayout MakeActivationLayout(ActivationKind kind, int64_t n_cols) {
  ActivationLayout layout;
  layout.kind = kind;
  layout.n_cols = n_cols;
  layout.padded_cols = (n_cols + 63) / 64 * 64;
  const bool is_float = BlockSize(kind) == 1;
  size_t offset = AlignUp(layout.padded_cols * (is_float ? sizeof(float) : 1));
  if (!is_float) {
    layout.n_blocks = n_cols / BlockSize(kind);
    const size_t even_blocks = (layout.n_blocks + 1) / 2 * 2;
    layout.d_offset = offset;
    offset += AlignUp(even_blocks * sizeof(float));
    if (kind == ActivationKind::kQ8_K) {
      layout.bsums_offset = offset;
      offset += AlignUp(even_blocks * 16 * sizeof(int16_t));
      layout.bsf_offset = offset;
      offset += AlignUp(even_blocks * 16 * sizeof(float));
    } else {
      layout.s_offset = offset;
      offset += AlignUp(even_blocks * sizeof(float));
    }
  }
  layout.row_bytes = offset;
  return layout;
}

ActivationRow ViewActivationRow(const ActivationLayout& layout, const uint8_t* row) {
  ActivationRow view;
  switch (layout.kind) {
    case ActivationKind::kF32:
    case ActivationKind::kF16:
    case ActivationKind::kBF16:
      view.values = reinterpret_cast<const float*>(row);
      break;
    case ActivationKind::kQ8_0:
    case ActivationKind::kQ8_1:
      view.qs = reinterpret_cast<const int8_t*>(row);
      view.d = reinterpret_cast<const float*>(row + layout.d_offset);
      view.s = reinterpret_cast<const float*>(row + layout.s_offset);
      break;
    case ActivationKind::kQ8_K:
      view.qs = reinterpret_cast<const int8_t*>(row);
      view.d = reinterpret_cast<const float*>(row + layout.d_offset);
      view.bsums = reinterpret_cast<const int16_t*>(row + layout.bsums_offset);
      view.bsf = reinterpret_cast<const float*>(row + layout.bsf_offset);
      break;
  }
  return view;
}

void ZeroActivationPadding(const ActivationLayout& layout, uint8_t* row) {
  // (start of part, bytes holding values, start of the next part)
  auto zero_gap = [row](size_t begin, size_t used, size_t end) {
    std::memset(row + begin + used, 0, end - begin - used);
  };
  const int64_t n = layout.n_cols;
  const int64_t nb = layout.n_blocks;
  switch (layout.kind) {
    case ActivationKind::kF32:
    case ActivationKind::kF16:
    case ActivationKind::kBF16: zero_gap(0, n * sizeof(float), layout.row_bytes); return;
    case ActivationKind::kQ8_0:
    case ActivationKind::kQ8_1:
      zero_gap(0, n, layout.d_offset);
      zero_gap(layout.d_offset, nb * sizeof(float), layout.s_offset);
      zero_gap(layout.s_offset, nb * sizeof(float), layout.row_bytes);
      return;
    case ActivationKind::kQ8_K:
      zero_gap(0, n, layout.d_offset);
      zero_gap(layout.d_offset, nb * sizeof(float), layout.bsums_offset);
      zero_gap(layout.bsums_offset, nb * 16 * sizeof(int16_t), layout.bsf_offset);
      zero_gap(layout.bsf_offset, nb * 16 * sizeof(float), layout.row_bytes);
      return;
  }
}

void QuantizeRowReference(const ActivationLayout& layout, const float* x, uint8_t* row) {
  std::memset(row, 0, layout.row_bytes);
  const int64_t n = layout.n_cols;
  switch (layout.kind) {
    case ActivationKind::kF32: std::memcpy(row, x, n * sizeof(float)); return;
    case ActivationKind::kF16: {
      float* out = reinterpret_cast<float*>(row);
      for (int64_t i = 0; i < n; ++i) out[i] = Fp16ToFloat(FloatToFp16(x[i]));
      return;
    }
    case ActivationKind::kBF16: {
      float* out = reinterpret_cast<float*>(row);
      for (int64_t i = 0; i < n; ++i) out[i] = Bf16ToFloat(FloatToBf16(x[i]));
      return;
    }
    case ActivationKind::kQ8_0:
    case ActivationKind::kQ8_1: {
      int8_t* qs = reinterpret_cast<int8_t*>(row);
      float* d = reinterpret_cast<float*>(row + layout.d_offset);
      float* s = reinterpret_cast<float*>(row + layout.s_offset);
      const bool q8_1 = layout.kind == ActivationKind::kQ8_1;
      for (int64_t b = 0; b < layout.n_blocks; ++b) {
        QuantizeBlock32(x + 32 * b, q8_1, qs + 32 * b, d + b, s + b);
      }
      return;
    }
    case ActivationKind::kQ8_K: {
      int8_t* qs = reinterpret_cast<int8_t*>(row);
      float* d = reinterpret_cast<float*>(row + layout.d_offset);
      int16_t* bsums = reinterpret_cast<int16_t*>(row + layout.bsums_offset);
      float* bsf = reinterpret_cast<float*>(row + layout.bsf_offset);
      for (int64_t b = 0; b < layout.n_blocks; ++b) {
        QuantizeBlock256(x + 256 * b, qs + 256 * b, d + b, bsums + 16 * b, bsf + 16 * b);
      }
      return;
    }
  }
}

}  // namespace shoal::kernels::matmul
