#include "worker/cuda/device_weights.h"

#include <algorithm>

#include "common/status_macros.h"
#include "fmt/format.h"
#include "kernels/cuda/cuda_kernels.h"

namespace shoal::worker::cuda {
namespace {

using kernels::cuda::CudaStatus;
using kernels::cuda::DeviceBuffer;

// The bf16 expansion goes through float32 in slices of at most this many values.
constexpr int64_t kExpandSliceValues = int64_t{16} << 20;

}  // namespace

absl::StatusOr<const float*> DeviceWeights::UploadFloats(std::span<const float> values) {
  if (values.empty()) return nullptr;
  SHOAL_ASSIGN_OR_RETURN(DeviceBuffer buffer, kernels::cuda::ToDevice(values));
  bytes_ += static_cast<int64_t>(buffer.bytes());
  buffers_.push_back(std::move(buffer));
  return buffers_.back().as<const float>();
}

// n_rows may exceed w.n_rows: an expert stack is uploaded as one matrix of all its rows.
absl::StatusOr<DeviceMatrix> DeviceWeights::UploadMatrix(const kernels::WeightMatrix& w,
                                                         int64_t n_rows, bool bf16,
                                                         const char* what, int64_t layer) {
  DeviceMatrix m{.type = w.type, .n_rows = w.n_rows, .n_cols = w.n_cols};
  if (w.data == nullptr || n_rows == 0) return m;
  if (w.layout != kernels::WeightLayout::kRows ||
      !kernels::cuda::CanDequantizeOnDevice(static_cast<int>(w.type)) ||
      w.n_cols % TraitsOf(w.type).block_size != 0) {
    return absl::UnimplementedError(fmt::format(
        "{}{}: the CUDA kernels read F32, F16, Q4_0, Q5_0, Q8_0, Q4_K and Q6_K matrices, not {}",
        what, layer >= 0 ? fmt::format(" of layer {}", layer) : "", GgmlTypeName(w.type)));
  }
  const int64_t stored_bytes = n_rows * w.row_bytes();
  SHOAL_ASSIGN_OR_RETURN(DeviceBuffer stored,
                         kernels::cuda::ToDevice(std::span(w.data, stored_bytes)));
  if (!bf16) {
    m.data = stored.as<const uint8_t>();
    bytes_ += stored_bytes;
    buffers_.push_back(std::move(stored));
    return m;
  }
  SHOAL_ASSIGN_OR_RETURN(DeviceBuffer expanded,
                         DeviceBuffer::Allocate(n_rows * w.n_cols * sizeof(uint16_t)));
  const int64_t slice_rows = std::max<int64_t>(1, kExpandSliceValues / w.n_cols);
  SHOAL_ASSIGN_OR_RETURN(
      DeviceBuffer f32,
      DeviceBuffer::Allocate(std::min(slice_rows, n_rows) * w.n_cols * sizeof(float)));
  for (int64_t r = 0; r < n_rows; r += slice_rows) {
    const int64_t rows = std::min(slice_rows, n_rows - r);
    SHOAL_RETURN_IF_ERROR(CudaStatus(
        kernels::cuda::LaunchDequantizeRows(static_cast<int>(w.type),
                                            stored.as<uint8_t>() + r * w.row_bytes(),
                                            w.row_bytes(), w.n_cols, nullptr, rows,
                                            f32.as<float>(), nullptr),
        "dequantizing weights"));
    SHOAL_RETURN_IF_ERROR(CudaStatus(
        kernels::cuda::LaunchToBf16(f32.as<float>(), rows * w.n_cols,
                                    expanded.as<uint16_t>() + r * w.n_cols, nullptr),
        "rounding weights to bf16"));
  }
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaDeviceSynchronize(), "expanding weights to bf16"));
  m.bf16 = true;
  m.data = expanded.as<const uint8_t>();
  bytes_ += static_cast<int64_t>(expanded.bytes());
  buffers_.push_back(std::move(expanded));
  return m;
}

absl::StatusOr<DeviceWeights> DeviceWeights::Upload(const ModelWeights& host, bool bf16) {
  DeviceWeights d;
  const auto matrix = [&](const kernels::WeightMatrix& w, bool expand, const char* what,
                          int64_t layer) { return d.UploadMatrix(w, w.n_rows, expand, what, layer); };
  const auto experts = [&](const ExpertWeights& e, const char* what,
                           int64_t layer) -> absl::StatusOr<DeviceExperts> {
    if (e.count > 0 && e.expert_bytes != e.first.n_rows * e.first.row_bytes()) {
      return absl::InternalError(fmt::format("{} of layer {}: experts are not stored back to back",
                                             what, layer));
    }
    SHOAL_ASSIGN_OR_RETURN(DeviceMatrix first,
                           d.UploadMatrix(e.first, e.count * e.first.n_rows, bf16, what, layer));
    return DeviceExperts{.first = first, .count = e.count};
  };
  // The embedding table stays as stored (rows are gathered, not multiplied); a tied
  // output matrix gets its own copy only when it is expanded.
  SHOAL_ASSIGN_OR_RETURN(d.token_embd, matrix(host.token_embd, false, "token_embd", -1));
  const bool tied = host.output.data == host.token_embd.data;
  if (tied && !bf16) {
    d.output = d.token_embd;
  } else {
    SHOAL_ASSIGN_OR_RETURN(d.output, matrix(host.output, bf16, "output", -1));
  }
  SHOAL_ASSIGN_OR_RETURN(d.output_norm, d.UploadFloats(host.output_norm));
  for (size_t i = 0; i < host.layers.size(); ++i) {
    const LayerWeights& h = host.layers[i];
    const int64_t layer = static_cast<int64_t>(i);
    DeviceLayerWeights l;
    SHOAL_ASSIGN_OR_RETURN(l.attn_norm, d.UploadFloats(h.attn_norm));
    SHOAL_ASSIGN_OR_RETURN(l.attn_q, matrix(h.attn_q, bf16, "attn_q", layer));
    SHOAL_ASSIGN_OR_RETURN(l.attn_k, matrix(h.attn_k, bf16, "attn_k", layer));
    SHOAL_ASSIGN_OR_RETURN(l.attn_v, matrix(h.attn_v, bf16, "attn_v", layer));
    SHOAL_ASSIGN_OR_RETURN(l.attn_output, matrix(h.attn_output, bf16, "attn_output", layer));
    SHOAL_ASSIGN_OR_RETURN(l.attn_q_norm, d.UploadFloats(h.attn_q_norm));
    SHOAL_ASSIGN_OR_RETURN(l.attn_k_norm, d.UploadFloats(h.attn_k_norm));
    SHOAL_ASSIGN_OR_RETURN(l.post_attention_norm, d.UploadFloats(h.post_attention_norm));
    SHOAL_ASSIGN_OR_RETURN(l.ffn_norm, d.UploadFloats(h.ffn_norm));
    SHOAL_ASSIGN_OR_RETURN(l.post_ffw_norm, d.UploadFloats(h.post_ffw_norm));
    SHOAL_ASSIGN_OR_RETURN(l.ffn_gate, matrix(h.ffn_gate, bf16, "ffn_gate", layer));
    SHOAL_ASSIGN_OR_RETURN(l.ffn_up, matrix(h.ffn_up, bf16, "ffn_up", layer));
    SHOAL_ASSIGN_OR_RETURN(l.ffn_down, matrix(h.ffn_down, bf16, "ffn_down", layer));
    // The router stays float-exact as stored: its logits choose the experts.
    SHOAL_ASSIGN_OR_RETURN(l.ffn_gate_inp, matrix(h.ffn_gate_inp, false, "ffn_gate_inp", layer));
    SHOAL_ASSIGN_OR_RETURN(l.ffn_gate_exps, experts(h.ffn_gate_exps, "ffn_gate_exps", layer));
    SHOAL_ASSIGN_OR_RETURN(l.ffn_up_exps, experts(h.ffn_up_exps, "ffn_up_exps", layer));
    SHOAL_ASSIGN_OR_RETURN(l.ffn_down_exps, experts(h.ffn_down_exps, "ffn_down_exps", layer));
    d.layers.push_back(l);
  }
  return d;
}

}  // namespace shoal::worker::cuda
