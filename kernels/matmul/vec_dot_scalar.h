// The reference dot products of one weight row with one activation row, for every
// weight kind: plain C++ with llama.cpp's arithmetic (ggml-cpu/quants.c, vec.cpp): per
// block an exact integer dot product of the quants, then the block scales in float.
// Every SIMD kernel is tested against these.
#ifndef SHOAL_KERNELS_MATMUL_VEC_DOT_SCALAR_H_
#define SHOAL_KERNELS_MATMUL_VEC_DOT_SCALAR_H_

#include <cstdint>

#include "kernels/matmul/activations.h"
#include "kernels/matmul/kernel_table.h"

namespace shoal::kernels::matmul {

// Σ_k W[k]·a[k] over n_cols (a multiple of the weight kind's block size); `a` must be of
// the weight kind's activation kind.
float VecDotScalar(WeightKind kind, int64_t n_cols, const uint8_t* w, const ActivationRow& a);

}  // namespace shoal::kernels::matmul

#endif  // SHOAL_KERNELS_MATMUL_VEC_DOT_SCALAR_H_
