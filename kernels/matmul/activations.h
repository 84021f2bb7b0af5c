// Activation rows as MatMul's kernels read them: each row rounded to the weight type's
// dot-product partner (REFERENCE.md §2.2) and laid out as a structure of arrays in the
// scratch, plus the reference (scalar) quantizers that define the exact values.
//
// The quantized values match what llama.cpp's x86 CPU backend computes:
// - Q8_0 / Q8_1 (quantize_row_q8_0 / _q8_1 in ggml-cpu/arch/x86/quants.c, the path every
//   AVX/AVX2/AVX-512 build runs): amax = max|x| over 32 values, d = amax / 127,
//   id = amax ? 127 / amax : 0, q = round-half-even(x · id). (ggml's portable
//   quantize_row_q8_0_ref uses 1/d and roundf instead; the two differ in rare last-bit
//   cases.) Q8_1 also stores s = fp16(d · Σq).
// - Q8_K (quantize_row_q8_K_ref, which every CPU build uses): max = the signed value of
//   largest magnitude over 256, iscale = -127 / max, q = min(127, round-half-even(iscale
//   · x)), d = 1 / iscale, bsums = sums of 16 consecutive q.
// - F16 / BF16: round to nearest even (F16C / ggml's bf16 rounding); F32 unchanged.
#ifndef SHOAL_KERNELS_MATMUL_ACTIVATIONS_H_
#define SHOAL_KERNELS_MATMUL_ACTIVATIONS_H_

#include <cstddef>
#include <cstdint>

#include "common/ggml_types.h"

namespace shoal::kernels::matmul {

enum class ActivationKind { kF32, kF16, kBF16, kQ8_0, kQ8_1, kQ8_K };
inline constexpr int kNumActivationKinds = 6;

// The partner kind of a weight type; kF32 for types MatMul does not accept.
ActivationKind ActivationKindFor(GgmlType weight_type);

// Where the parts of one row live, in bytes from the row start. Every part is 64-byte
// aligned and zero-padded: float values and int8 quants to a multiple of 64 elements,
// per-block arrays to an even number of blocks, so SIMD kernels never need masked
// loads on the activation side and padding contributes exactly zero.
struct ActivationLayout {
  ActivationKind kind = ActivationKind::kF32;
  int64_t n_cols = 0;
  int64_t padded_cols = 0;  // n_cols rounded up to a multiple of 64
  int64_t n_blocks = 0;     // Q8 kinds: blocks of 32 (Q8_0, Q8_1) or 256 (Q8_K)
  size_t d_offset = 0;      // Q8: float d per block
  size_t s_offset = 0;      // Q8_0: d·Σq per block; Q8_1: ggml's fp16 s, as float
  size_t bsums_offset = 0;  // Q8_K: 16 int16 sums of 16 quants per block
  size_t bsf_offset = 0;    // Q8_K: 16 floats d·bsums per block
  size_t row_bytes = 0;     // a multiple of 64
};

// n_cols must be a positive multiple of the kind's block size (32, 256, or 1).
ActivationLayout MakeActivationLayout(ActivationKind kind, int64_t n_cols);

// Read-only view of one row; the pointers that do not apply to the kind are null.
struct ActivationRow {
  const float* values = nullptr;  // F32 / F16 / BF16: the (rounded) values as floats
  const int8_t* qs = nullptr;     // Q8 kinds
  const float* d = nullptr;
  const float* s = nullptr;
  const int16_t* bsums = nullptr;
  const float* bsf = nullptr;
};

ActivationRow ViewActivationRow(const ActivationLayout& layout, const uint8_t* row);

// Rounds/quantizes n_cols floats into one row of `layout` (all row_bytes written).
using QuantizeRowFn = void (*)(const ActivationLayout& layout, const float* x, uint8_t* row);

// Zeroes the padding of a row (everything QuantizeRowFn does not write with values).
void ZeroActivationPadding(const ActivationLayout& layout, uint8_t* row);

// The reference quantizer every SIMD quantizer must match bit for bit.
void QuantizeRowReference(const ActivationLayout& layout, const float* x, uint8_t* row);

// Round half to even for |v| < 2^22, as ggml's nearest_int and the x86 cvtps
// instructions do; defined (if meaningless) for NaN and larger values.
int RoundHalfEven(float v);

}  // namespace shoal::kernels::matmul

#endif  // SHOAL_KERNELS_MATMUL_ACTIVATIONS_H_
