// Reference dequantization of ggml tensor types to float32: the exact values ggml's
// dequantize_row_* functions produce, element for element. It is the ground truth the
// SIMD and CUDA kernels are tested against and the path for rarely used rows (embedding
// lookups); it is written for clarity, not speed. Lives in common/ because both model/
// (file checks) and kernels/ use it.
#ifndef SHOAL_COMMON_DEQUANTIZE_H_
#define SHOAL_COMMON_DEQUANTIZE_H_

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "common/ggml_types.h"

namespace shoal {

// Types with a reference dequantization: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q4_K, Q5_K, Q6_K.
bool CanDequantize(GgmlType type);

// Dequantizes dst.size() elements from `src`, which must hold exactly that many
// elements of `type` (dst.size() a multiple of the block size).
absl::Status Dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst);

}  // namespace shoal

#endif  // SHOAL_COMMON_DEQUANTIZE_H_
