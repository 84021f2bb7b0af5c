// The tensors each architecture needs (names and ggml shapes, REFERENCE.md §1.4), and
// the check that a GGUF file has them with those shapes and in supported types.
#ifndef SHOAL_MODEL_TENSOR_LAYOUT_H_
#define SHOAL_MODEL_TENSOR_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/model_config.h"

namespace shoal::model {

class GgufFile;

struct TensorSpec {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the contiguous dimension
  bool required = true;
};

std::vector<TensorSpec> ExpectedTensors(const ModelConfig& config);

// Every required tensor is present; every present expected tensor has its shape and a
// type Shoal can compute with.
absl::Status CheckTensors(const ModelConfig& config, const GgufFile& file);

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TENSOR_LAYOUT_H_
