// libFuzzer target: arbitrary bytes through the GGUF parser, then, for files that
// parse, the model config, the tensor check and dequantization of small tensors.
// Any crash, hang, leak or sanitizer report is a bug: bad files must be errors.
#include <cstddef>
#include <cstdint>
#include <span>

#include "model/gguf/gguf_file.h"
#include "model/model_config.h"
#include "model/quant/dequantize.h"
#include "model/tensor_layout.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shoal::model;
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Parse(std::span(data, size));
  if (!file.ok()) return 0;
  absl::StatusOr<ModelConfig> config = ModelConfig::FromGguf(**file);
  if (config.ok()) (void)CheckTensors(*config, **file);
  for (const GgufTensorInfo& tensor : (*file)->tensors()) {
    if (CanDequantize(tensor.type) && tensor.num_elements() <= (1 << 16)) {
      (void)DequantizeTensor(tensor);
    }
  }
  return 0;
}
