// Reference dequantization of ggml tensor types to float32: the exact values ggml's
// dequantize_row_* functions produce, element for element. This is the ground truth
// the SIMD and CUDA kernels are tested against; it is written for clarity, not speed.
#ifndef SHOAL_MODEL_QUANT_DEQUANTIZE_H_
#define SHOAL_MODEL_QUANT_DEQUANTIZE_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/ggml_types.h"

namespace shoal::model {

struct GgufTensorInfo;

// Types with a reference dequantization: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q4_K, Q5_K, Q6_K.
bool CanDequantize(GgmlType type);

// Dequantizes dst.size() elements from `src`, which must hold exactly that many
// elements of `type` (dst.size() a multiple of the block size).
absl::Status Dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst);

// All elements of a tensor, in storage order (ne[0] fastest).
absl::StatusOr<std::vector<float>> DequantizeTensor(const GgufTensorInfo& tensor);

}  // namespace shoal::model

#endif  // SHOAL_MODEL_QUANT_DEQUANTIZE_H_
