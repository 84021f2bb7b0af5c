// A model's weights copied into GPU memory, in the shapes the CUDA engine reads: every
// matrix either as its GGUF rows (dequantized by the kernels as they read it) or, with
// bf16 set, expanded once at load into bf16 for tensor-core GEMMs; norm weights and
// RoPE frequency factors as float32.
#ifndef SHOAL_WORKER_CUDA_DEVICE_WEIGHTS_H_
#define SHOAL_WORKER_CUDA_DEVICE_WEIGHTS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/ggml_types.h"
#include "kernels/cuda/device_buffer.h"
#include "worker/model/model_weights.h"

namespace shoal::worker::cuda {

struct DeviceMatrix {
  GgmlType type = GgmlType::kF32;  // as stored in the file
  int64_t n_rows = 0;
  int64_t n_cols = 0;
  const uint8_t* data = nullptr;  // device memory: GGUF rows, or n_rows × n_cols bf16
  bool bf16 = false;

  int64_t row_bytes() const {
    if (bf16) return n_cols * 2;
    const GgmlTypeTraits& traits = TraitsOf(type);
    return n_cols / traits.block_size * traits.type_size;
  }
};

struct DeviceExperts {
  DeviceMatrix first;  // expert e starts e · first.n_rows · first.row_bytes() later
  int64_t count = 0;

  DeviceMatrix Expert(int64_t e) const {
    DeviceMatrix m = first;
    m.data += e * first.n_rows * first.row_bytes();
    return m;
  }
};

struct DeviceLayerWeights {
  const float* attn_norm = nullptr;
  DeviceMatrix attn_q, attn_k, attn_v, attn_output;
  const float* attn_q_norm = nullptr;          // null unless the model has q/k norms
  const float* attn_k_norm = nullptr;
  const float* post_attention_norm = nullptr;  // gemma3
  const float* ffn_norm = nullptr;
  const float* post_ffw_norm = nullptr;  // gemma3
  DeviceMatrix ffn_gate, ffn_up, ffn_down;
  DeviceMatrix ffn_gate_inp;  // MoE router
  DeviceExperts ffn_gate_exps, ffn_up_exps, ffn_down_exps;
};

class DeviceWeights {
 public:
  // Copies `host` (views of the GGUF rows: loaded without interleaving) to the current
  // device. Unimplemented, naming the matrix, for a type the kernels cannot read.
  static absl::StatusOr<DeviceWeights> Upload(const ModelWeights& host, bool bf16);

  DeviceMatrix token_embd;  // always as stored: the embedding gathers dequantize rows
  DeviceMatrix output;
  const float* output_norm = nullptr;
  std::vector<DeviceLayerWeights> layers;

  int64_t bytes() const { return bytes_; }

 private:
  absl::StatusOr<DeviceMatrix> UploadMatrix(const kernels::WeightMatrix& w, int64_t n_rows,
                                            bool bf16, const char* what, int64_t layer);
  absl::StatusOr<const float*> UploadFloats(std::span<const float> values);

  std::vector<kernels::cuda::DeviceBuffer> buffers_;
  int64_t bytes_ = 0;
};

}  // namespace shoal::worker::cuda

#endif  // SHOAL_WORKER_CUDA_DEVICE_WEIGHTS_H_
