// Reference dot products (see vec_dot_scalar.h): the legacy 32-blocks and the float
// types here, the k-quants in vec_dot_scalar_k.cc.
#include "kernels/matmul/vec_dot_scalar.h"

#include <cstring>

#include "common/half.h"
#include "common/quant_blocks.h"

namespace shoal::kernels::matmul {

float VecDotScalarQ4K(int64_t n_cols, const uint8_t* w, const ActivationRow& a);
float VecDotScalarQ5K(int64_t n_cols, const uint8_t* w, const ActivationRow& a);
float VecDotScalarQ6K(int64_t n_cols, const uint8_t* w, const ActivationRow& a);

namespace {

// ggml's scalar f32/f16/bf16 dots: products in float, summed in double (ggml_float).
template <typename Convert>
float DotFloat(int64_t n, const uint8_t* w, const float* x, Convert convert) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(convert(w, i) * x[i]);
  return static_cast<float>(sum);
}

float WeightF32(const uint8_t* w, int64_t i) {
  float v;
  std::memcpy(&v, w + 4 * i, 4);
  return v;
}
float WeightF16(const uint8_t* w, int64_t i) {
  uint16_t h;
  std::memcpy(&h, w + 2 * i, 2);
  return Fp16ToFloat(h);
}
float WeightBF16(const uint8_t* w, int64_t i) {
  uint16_t h;
  std::memcpy(&h, w + 2 * i, 2);
  return Bf16ToFloat(h);
}

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Signed (Q4_0, Q5_0) or unsigned (Q4_1, Q5_1) quant j of a 4/5-bit block.
template <bool kFiveBits, int kOffset>
int LegacyQuant(const uint8_t* qs, uint32_t qh, int j) {
  const int nibble = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
  const int high = kFiveBits ? static_cast<int>((qh >> j) & 1) << 4 : 0;
  return (nibble | high) - kOffset;
}

// Q4_0, Q5_0: Σ_b d_w·d_a·Σ_j q_j·a_j (ggml_vec_dot_q4_0_q8_0 / q5_0_q8_0).
template <typename Block, bool kFiveBits, int kOffset>
float DotSymmetric(int64_t n, const uint8_t* w, const ActivationRow& a) {
  const Block* blocks = reinterpret_cast<const Block*>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 32; ++b) {
    Block blk;
    std::memcpy(&blk, blocks + b, sizeof(Block));
    uint32_t qh = 0;
    if constexpr (kFiveBits) qh = LoadU32(blk.qh);
    int sumi = 0;
    for (int j = 0; j < 32; ++j) {
      sumi += LegacyQuant<kFiveBits, kOffset>(blk.qs, qh, j) * a.qs[32 * b + j];
    }
    sum += static_cast<float>(sumi) * (Fp16ToFloat(blk.d) * a.d[b]);
  }
  return sum;
}

// Q4_1, Q5_1: Σ_b d_w·d_a·Σ_j q_j·a_j + m_w·s_a (ggml_vec_dot_q4_1_q8_1 / q5_1_q8_1).
template <typename Block, bool kFiveBits>
float DotWithMin(int64_t n, const uint8_t* w, const ActivationRow& a) {
  const Block* blocks = reinterpret_cast<const Block*>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 32; ++b) {
    Block blk;
    std::memcpy(&blk, blocks + b, sizeof(Block));
    uint32_t qh = 0;
    if constexpr (kFiveBits) qh = LoadU32(blk.qh);
    int sumi = 0;
    for (int j = 0; j < 32; ++j) {
      sumi += LegacyQuant<kFiveBits, 0>(blk.qs, qh, j) * a.qs[32 * b + j];
    }
    sum += (Fp16ToFloat(blk.d) * a.d[b]) * static_cast<float>(sumi) +
           Fp16ToFloat(blk.m) * a.s[b];
  }
  return sum;
}

float DotQ8_0(int64_t n, const uint8_t* w, const ActivationRow& a) {
  const BlockQ8_0* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 32; ++b) {
    BlockQ8_0 blk;
    std::memcpy(&blk, blocks + b, sizeof(blk));
    int sumi = 0;
    for (int j = 0; j < 32; ++j) sumi += blk.qs[j] * a.qs[32 * b + j];
    sum += static_cast<float>(sumi) * (Fp16ToFloat(blk.d) * a.d[b]);
  }
  return sum;
}

}  // namespace

float VecDotScalar(WeightKind kind, int64_t n, const uint8_t* w, const ActivationRow& a) {
  switch (kind) {
    case WeightKind::kF32: return DotFloat(n, w, a.values, WeightF32);
    case WeightKind::kF16: return DotFloat(n, w, a.values, WeightF16);
    case WeightKind::kBF16: return DotFloat(n, w, a.values, WeightBF16);
    case WeightKind::kQ4_0: return DotSymmetric<BlockQ4_0, false, 8>(n, w, a);
    case WeightKind::kQ5_0: return DotSymmetric<BlockQ5_0, true, 16>(n, w, a);
    case WeightKind::kQ4_1: return DotWithMin<BlockQ4_1, false>(n, w, a);
    case WeightKind::kQ5_1: return DotWithMin<BlockQ5_1, true>(n, w, a);
    case WeightKind::kQ8_0: return DotQ8_0(n, w, a);
    case WeightKind::kQ4_K: return VecDotScalarQ4K(n, w, a);
    case WeightKind::kQ5_K: return VecDotScalarQ5K(n, w, a);
    case WeightKind::kQ6_K: return VecDotScalarQ6K(n, w, a);
  }
  return 0.0f;
}

}  // namespace shoal::kernels::matmul
