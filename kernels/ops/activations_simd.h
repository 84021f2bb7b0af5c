// SIMD bodies of the gated activations (activations.h), per level; each handles the
// longest prefix of whole vectors and returns its length, leaving the tail to the
// portable code. Private to kernels/ops.
#ifndef SHOAL_KERNELS_OPS_ACTIVATIONS_SIMD_H_
#define SHOAL_KERNELS_OPS_ACTIVATIONS_SIMD_H_

#include <cstdint>

namespace shoal::kernels::simd {

int64_t SwiGluAvx2(const float* gate, const float* up, int64_t n, float* out);
// `table` holds 65537 entries: gelu per half (activations.cc), plus one for the gathers.
int64_t GeGluTanhAvx2(const float* gate, const float* up, int64_t n, const uint16_t* table,
                      float* out);

}  // namespace shoal::kernels::simd

#endif  // SHOAL_KERNELS_OPS_ACTIVATIONS_SIMD_H_
