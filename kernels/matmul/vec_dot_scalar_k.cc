// Reference dot products of the k-quants (Q4_K, Q5_K, Q6_K) with Q8_K activations,
// following ggml_vec_dot_q{4,5,6}_K_q8_K: per super-block of 256 an exact integer sum
// Σ_j scale_j·(q·a over sub-block j), then d_w·d_a in float; the Q4_K/Q5_K mins enter
// through the activation's 16-value sums (bsums) as dmin_w·d_a·Σ_j min_j·bsum_j.
#include <cstring>

#include "common/half.h"
#include "common/quant_blocks.h"
#include "kernels/matmul/vec_dot_scalar.h"

namespace shoal::kernels::matmul {
namespace {

// Sum of the mins weighted by the activation sums of their 32 values.
int MinTerm(const uint8_t* scales, const int16_t* bsums) {
  int sum = 0;
  for (int j = 0; j < 8; ++j) {
    uint8_t scale, min;
    UnpackKScaleMin(j, scales, scale, min);
    sum += min * (bsums[2 * j] + bsums[2 * j + 1]);
  }
  return sum;
}

// Q4_K / Q5_K super-block: Σ_j scale_j·Σ_l q_l·a_l over the eight sub-blocks of 32.
template <typename Block, bool kFiveBits>
float DotQ45K(int64_t n, const uint8_t* w, const ActivationRow& a) {
  const Block* blocks = reinterpret_cast<const Block*>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    Block blk;
    std::memcpy(&blk, blocks + b, sizeof(Block));
    const int8_t* q8 = a.qs + 256 * b;
    int sumi = 0;
    for (int j = 0; j < 8; ++j) {  // sub-block j: nibbles (j odd: high) of qs[32·(j/2)..]
      uint8_t scale, min;
      UnpackKScaleMin(j, blk.scales, scale, min);
      const uint8_t* qs = blk.qs + 32 * (j / 2);
      int dot = 0;
      for (int l = 0; l < 32; ++l) {
        int q = (j % 2 == 0) ? (qs[l] & 0xF) : (qs[l] >> 4);
        if constexpr (kFiveBits) q |= ((blk.qh[l] >> j) & 1) << 4;
        dot += q * q8[32 * j + l];
      }
      sumi += scale * dot;
    }
    const int mins = MinTerm(blk.scales, a.bsums + 16 * b);
    sum += (Fp16ToFloat(blk.d) * a.d[b]) * static_cast<float>(sumi);
    sum -= (Fp16ToFloat(blk.dmin) * a.d[b]) * static_cast<float>(mins);
  }
  return sum;
}

}  // namespace

float VecDotScalarQ4K(int64_t n, const uint8_t* w, const ActivationRow& a) {
  return DotQ45K<BlockQ4_K, false>(n, w, a);
}

float VecDotScalarQ5K(int64_t n, const uint8_t* w, const ActivationRow& a) {
  return DotQ45K<BlockQ5_K, true>(n, w, a);
}

// Q6_K super-block: Σ_j scale_j·Σ_l (q_l − 32)·a_l over sixteen sub-blocks of 16.
float VecDotScalarQ6K(int64_t n, const uint8_t* w, const ActivationRow& a) {
  const BlockQ6_K* blocks = reinterpret_cast<const BlockQ6_K*>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    BlockQ6_K blk;
    std::memcpy(&blk, blocks + b, sizeof(blk));
    const int8_t* q8 = a.qs + 256 * b;
    int q[256];
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = blk.ql + 64 * half;
      const uint8_t* qh = blk.qh + 32 * half;
      int* out = q + 128 * half;
      for (int l = 0; l < 32; ++l) {
        out[l] = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        out[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        out[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        out[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      }
    }
    int sumi = 0;
    for (int j = 0; j < 16; ++j) {
      int dot = 0;
      for (int l = 0; l < 16; ++l) dot += q[16 * j + l] * q8[16 * j + l];
      sumi += blk.scales[j] * dot;
    }
    sum += (Fp16ToFloat(blk.d) * a.d[b]) * static_cast<float>(sumi);
  }
  return sum;
}

}  // namespace shoal::kernels::matmul
