// Dequantization of whole GGUF tensors (the per-type reference is common/dequantize.h).
#ifndef SHOAL_MODEL_QUANT_DEQUANTIZE_H_
#define SHOAL_MODEL_QUANT_DEQUANTIZE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "common/dequantize.h"

namespace shoal::model {

struct GgufTensorInfo;

using ::shoal::CanDequantize;
using ::shoal::Dequantize;

// All elements of a tensor, in storage order (ne[0] fastest).
absl::StatusOr<std::vector<float>> DequantizeTensor(const GgufTensorInfo& tensor);

}  // namespace shoal::model

#endif  // SHOAL_MODEL_QUANT_DEQUANTIZE_H_
