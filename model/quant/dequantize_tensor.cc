#include "common/status_macros.h"
#include "model/gguf/gguf_file.h"
#include "model/quant/dequantize.h"

namespace shoal::model {

absl::StatusOr<std::vector<float>> DequantizeTensor(const GgufTensorInfo& tensor) {
  std::vector<float> values(static_cast<size_t>(tensor.num_elements()));
  SHOAL_RETURN_IF_ERROR(Dequantize(tensor.type, tensor.data, values));
  return values;
}

}  // namespace shoal::model
