// The forward pass on one GPU: the CPU decoder's pipeline (worker/forward/decoder.cc)
// op for op, on device buffers and one stream. Per step the host validates the batch,
// computes what is cheap and exact there (positions, KV slots, block tables, RoPE
// angles with ggml's arithmetic, and for MoE layers the routing, which also sizes the
// expert GEMMs), uploads it, and queues the kernels; the only synchronisations are the
// routing of MoE layers and the logits' copy back.
#include "worker/cuda/cuda_engine.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <vector>

#include "absl/memory/memory.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/device_buffer.h"
#include "worker/cuda/device_matmul.h"
#include "worker/cuda/device_weights.h"
#include "worker/cuda/step_layout.h"
#include "worker/forward/batch_validation.h"
#include "worker/forward/moe_routing.h"
#include "worker/model/model_weights.h"

namespace shoal::worker {
namespace {

using kernels::cuda::CudaStatus;
using kernels::cuda::DeviceBuffer;
using cuda::DeviceLayerWeights;
using cuda::DeviceMatMul;
using cuda::DeviceMatrix;
using cuda::DeviceWeights;
using cuda::AttentionGroup;

// Attention scores scratch: tokens are attended in groups whose n_heads · keys scores
// fit in this many floats (128 MiB), so a long prefill never needs T² memory.
constexpr int64_t kAttentionScratchValues = int64_t{32} << 20;
// The memory budget keeps room for a batch of EngineOptions::max_batch_tokens plus
// what cuBLAS and the context take. Logits are computed this many rows at a time,
// whatever the batch asks for, so a prefill that wants every position's logits over a
// 262144-token vocabulary stays inside that room.
constexpr int64_t kLogitRowsPerPass = 256;
constexpr int64_t kRuntimeReserveBytes = int64_t{256} << 20;

struct StreamDeleter {
  void operator()(CUstream_st* stream) const { cudaStreamDestroy(stream); }
};
using OwnedStream = std::unique_ptr<CUstream_st, StreamDeleter>;

struct DeviceKvLayer {
  DeviceBuffer k, v;  // [blocks · block_size][n_kv_heads][head_dim or value_dim]
};

// Floats of activations per token of a batch (the device buffers Reserve sizes).
int64_t ActivationFloatsPerToken(const model::ModelConfig& c) {
  const int64_t routed = c.is_moe() ? c.n_expert_used : 0;
  return 4 * c.n_embd + c.n_head * c.head_dim + c.n_head_kv * (c.head_dim + c.value_dim) +
         c.n_head * c.value_dim + (c.is_moe() ? 0 : 2 * c.n_ff) + c.n_expert +
         routed * (3 * c.n_embd + 2 * c.n_ff_exp) +
         2 * c.rope_dim;
}

// A tensor of T that grows to the largest batch seen, never shrinks.
template <typename T>
absl::StatusOr<T*> Ensure(DeviceBuffer& buffer, int64_t count) {
  const size_t bytes = static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(T);
  if (buffer.bytes() < bytes) {
    buffer = DeviceBuffer();
    SHOAL_ASSIGN_OR_RETURN(buffer, DeviceBuffer::Allocate(bytes));
  }
  return buffer.as<T>();
}

template <typename T>
absl::Status Upload(const std::vector<T>& host, DeviceBuffer& device, cudaStream_t stream) {
  SHOAL_ASSIGN_OR_RETURN(T * data, Ensure<T>(device, static_cast<int64_t>(host.size())));
  if (host.empty()) return absl::OkStatus();
  // From pageable memory the copy has left `host` when this returns.
  return CudaStatus(cudaMemcpyAsync(data, host.data(), host.size() * sizeof(T),
                                    cudaMemcpyHostToDevice, stream),
                    "upload");
}

class CudaForwardEngine final : public ForwardEngine {
 public:
  static absl::StatusOr<std::unique_ptr<ForwardEngine>> Create(const model::ModelFile& model,
                                                               const EngineOptions& options);

  // The members free memory, the cuBLAS handle and the stream of device_, which need
  // not be the destroying thread's current device.
  ~CudaForwardEngine() override { cudaSetDevice(device_); }

  // Kernels still queued when a step fails must not outlive it: the caller rolls the
  // step back and may free or reuse what they read.
  absl::Status Forward(const ForwardBatch& batch, std::span<float> logits) override {
    absl::Status status = QueueForward(batch, logits);
    if (!status.ok() && stream_ != nullptr) cudaStreamSynchronize(stream());
    return status;
  }
  const model::ModelConfig& config() const override { return config_; }
  int64_t num_kv_blocks() const override { return num_kv_blocks_; }
  int64_t kv_block_size() const override { return block_size_; }
  std::span<const int64_t> expert_token_counts() const override { return expert_token_counts_; }
  std::string description() const override { return description_; }
  int64_t weight_bytes() const override { return weights_.bytes(); }
  int64_t kv_cache_bytes() const override {
    int64_t bytes = 0;
    for (const DeviceKvLayer& layer : kv_) {
      bytes += static_cast<int64_t>(layer.k.bytes() + layer.v.bytes());
    }
    return bytes;
  }

 private:
  CudaForwardEngine(const model::ModelFile& model, ModelWeights host_weights)
      : config_(model.config()), host_weights_(std::move(host_weights)) {}

  absl::Status QueueForward(const ForwardBatch& batch, std::span<float> logits);
  absl::Status PrepareStep(const ForwardBatch& batch);
  absl::Status Reserve(int64_t n_tokens, int64_t n_logit_rows);
  absl::Status AttentionBlock(int64_t layer, int64_t n_tokens);
  absl::Status Attend(int64_t layer);
  absl::Status DenseFfnBlock(int64_t layer, int64_t n_tokens);
  absl::Status MoeFfnBlock(int64_t layer, int64_t n_tokens);
  absl::Status Output(int64_t n_rows, std::span<float> logits);

  absl::Status MatMul(const DeviceMatrix& w, const float* x, int64_t n, float* y) {
    return matmul_->Run(w, x, n, y);
  }
  // y = RmsNorm(x) · weight (convention 1) over rows of n; y may be x.
  absl::Status Norm(const float* x, const float* weight, int64_t n, int64_t rows, float* y) {
    return CudaStatus(kernels::cuda::LaunchRmsNorm(x, weight, weight != nullptr ? 1 : 0,
                                                   config_.rms_norm_eps, n, rows, y, stream()),
                      "rms_norm");
  }
  absl::Status AddResidual(int64_t n_tokens) {
    return CudaStatus(kernels::cuda::LaunchAddInPlace(x_, block_out_, n_tokens * config_.n_embd,
                                                      stream()),
                      "residual add");
  }
  cudaStream_t stream() const { return stream_.get(); }

  const model::ModelConfig& config_;
  ModelWeights host_weights_;  // views of the file: the RoPE frequency factors
  int device_ = 0;
  int64_t block_size_ = 0;
  int64_t num_kv_blocks_ = 0;
  bool kv_f16_ = true;
  std::string description_;
  std::vector<int64_t> expert_token_counts_;

  // Declared so that everything using the stream goes before it.
  OwnedStream stream_;
  std::unique_ptr<DeviceMatMul> matmul_;
  DeviceWeights weights_;
  std::vector<DeviceKvLayer> kv_;

  // This step, on the host.
  cuda::StepLayout step_;
  std::vector<float> router_host_, route_weights_host_;
  std::vector<int32_t> expert_ids_host_, route_order_, grouped_rows_host_, grouped_tokens_host_;
  std::vector<int64_t> expert_begin_, expert_cursor_;

  // Device copies and activations (Reserve); raw pointers into the buffers below.
  DeviceBuffer tokens_buf_, positions_buf_, slots_buf_, tables_buf_, table_offsets_buf_,
      logit_rows_buf_, rope_global_buf_, rope_sliding_buf_, grouped_rows_buf_,
      grouped_tokens_buf_, route_weights_buf_;
  DeviceBuffer x_buf_, h_buf_, q_buf_, k_buf_, v_buf_, attn_buf_, block_out_buf_, gate_buf_,
      up_buf_, router_buf_, moe_in_buf_, moe_gate_buf_, moe_up_buf_, moe_down_buf_,
      expert_out_buf_, out_hidden_buf_, logits_buf_, scores_buf_;
  float *x_ = nullptr, *h_ = nullptr, *q_ = nullptr, *k_ = nullptr, *v_ = nullptr,
        *attn_ = nullptr, *block_out_ = nullptr, *gate_ = nullptr, *up_ = nullptr,
        *router_ = nullptr, *moe_in_ = nullptr, *moe_gate_ = nullptr, *moe_up_ = nullptr,
        *moe_down_ = nullptr, *expert_out_ = nullptr, *out_hidden_ = nullptr,
        *logits_dev_ = nullptr, *scores_ = nullptr;
};

absl::StatusOr<std::unique_ptr<ForwardEngine>> CudaForwardEngine::Create(
    const model::ModelFile& model, const EngineOptions& options) {
  const int device = options.device.index;
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess || device >= count) {
    return absl::UnavailableError(fmt::format(
        "--device cuda:{}: no such CUDA device ({} found{})", device,
        error == cudaSuccess ? count : 0,
        error == cudaSuccess ? "" : fmt::format(": {}", cudaGetErrorString(error))));
  }
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device), "cudaSetDevice"));
  // Plain GGUF rows: the device kernels read the file's layout, not the CPU's repacking.
  SHOAL_ASSIGN_OR_RETURN(ModelWeights host, ModelWeights::Create(model, {.interleave = false}));
  auto engine = absl::WrapUnique(new CudaForwardEngine(model, std::move(host)));
  const model::ModelConfig& c = engine->config_;
  engine->device_ = device;
  if (c.is_moe()) engine->expert_token_counts_.assign(c.n_layer * c.n_expert, 0);

  cudaStream_t stream = nullptr;
  SHOAL_RETURN_IF_ERROR(
      CudaStatus(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate"));
  engine->stream_.reset(stream);
  SHOAL_ASSIGN_OR_RETURN(engine->matmul_, DeviceMatMul::Create(stream));
  SHOAL_ASSIGN_OR_RETURN(engine->weights_,
                         DeviceWeights::Upload(engine->host_weights_, options.bf16_weights));

  // The KV cache: exactly as asked, or what the memory fraction leaves after the
  // weights (already resident) and the activation reserve.
  const KvCacheConfig kv_config{.block_size = options.kv.block_size, .type = options.kv.type};
  const KvCacheConfig one_block{.num_blocks = 1, .block_size = kv_config.block_size,
                                .type = kv_config.type};
  SHOAL_RETURN_IF_ERROR(one_block.Validate());
  const int64_t block_bytes = KvCache::BytesPerBlock(c, kv_config);
  int64_t blocks = options.kv.exact_blocks;
  if (blocks <= 0) {
    size_t free_bytes = 0, total_bytes = 0;
    SHOAL_RETURN_IF_ERROR(CudaStatus(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo"));
    const int64_t reserve =
        options.max_batch_tokens * ActivationFloatsPerToken(c) * static_cast<int64_t>(sizeof(float)) +
        kLogitRowsPerPass * c.n_vocab * static_cast<int64_t>(sizeof(float)) +
        kAttentionScratchValues * static_cast<int64_t>(sizeof(float)) +
        DeviceMatMul::MaxScratchBytes(options.max_batch_tokens, std::max(c.n_embd, c.n_ff)) +
        kRuntimeReserveBytes;
    const int64_t used = static_cast<int64_t>(total_bytes - free_bytes) + reserve;
    SHOAL_ASSIGN_OR_RETURN(blocks, KvBlocksInBudget(options.kv, block_bytes,
                                                    static_cast<int64_t>(total_bytes), used,
                                                    options.device.ToString()));
  }
  engine->block_size_ = kv_config.block_size;
  engine->num_kv_blocks_ = blocks;
  engine->kv_f16_ = kv_config.type == kernels::KvType::kF16;
  const int64_t element = engine->kv_f16_ ? 2 : 4;
  const int64_t slots = blocks * kv_config.block_size * c.n_head_kv;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    DeviceKvLayer layer;
    SHOAL_ASSIGN_OR_RETURN(layer.k, DeviceBuffer::Allocate(slots * c.head_dim * element));
    SHOAL_ASSIGN_OR_RETURN(layer.v, DeviceBuffer::Allocate(slots * c.value_dim * element));
    // Zeroed like the CPU cache's fresh pages, so a slot read before it is written (a
    // caller's bug) reads the same on both engines rather than stale f16 NaNs.
    SHOAL_RETURN_IF_ERROR(CudaStatus(cudaMemsetAsync(layer.k.as<void>(), 0, layer.k.bytes(), stream),
                                     "kv memset"));
    SHOAL_RETURN_IF_ERROR(CudaStatus(cudaMemsetAsync(layer.v.as<void>(), 0, layer.v.bytes(), stream),
                                     "kv memset"));
    engine->kv_.push_back(std::move(layer));
  }
  // The engine's stream does not wait for the legacy default stream, and uploads from
  // pageable memory may return before their last DMA lands: everything is in place
  // before the first step.
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaDeviceSynchronize(), "engine set-up"));
  cudaDeviceProp prop{};
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties"));
  engine->description_ =
      fmt::format("{} ({}, {} weights, {} KV blocks)", options.device.ToString(), prop.name,
                  options.bf16_weights ? "bf16" : "quantized", blocks);
  return engine;
}

absl::Status CudaForwardEngine::QueueForward(const ForwardBatch& batch, std::span<float> logits) {
  SHOAL_RETURN_IF_ERROR(ValidateForwardBatch(config_, batch, block_size_, num_kv_blocks_,
                                             static_cast<int64_t>(logits.size())));
  const int64_t n_tokens = static_cast<int64_t>(batch.tokens.size());
  if (n_tokens == 0) return absl::OkStatus();
  // The compute thread may not be the one that created the engine.
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_), "cudaSetDevice"));
  SHOAL_RETURN_IF_ERROR(Reserve(n_tokens, batch.num_logit_rows()));
  SHOAL_RETURN_IF_ERROR(PrepareStep(batch));
  const model::ModelConfig& c = config_;
  SHOAL_RETURN_IF_ERROR(CudaStatus(
      kernels::cuda::LaunchDequantizeRows(static_cast<int>(weights_.token_embd.type),
                                          weights_.token_embd.data, weights_.token_embd.row_bytes(),
                                          c.n_embd, tokens_buf_.as<int32_t>(), n_tokens, x_,
                                          stream()),
      "embedding"));
  if (c.embedding_scale != 1.0f) {
    SHOAL_RETURN_IF_ERROR(CudaStatus(
        kernels::cuda::LaunchScale(x_, n_tokens * c.n_embd, c.embedding_scale, stream()),
        "embedding scale"));
  }
  for (int64_t layer = 0; layer < c.n_layer; ++layer) {
    SHOAL_RETURN_IF_ERROR(AttentionBlock(layer, n_tokens));
    SHOAL_RETURN_IF_ERROR(c.is_moe() ? MoeFfnBlock(layer, n_tokens)
                                     : DenseFfnBlock(layer, n_tokens));
  }
  return Output(static_cast<int64_t>(step_.logit_rows.size()), logits);
}

absl::Status CudaForwardEngine::Reserve(int64_t T, int64_t R) {
  const model::ModelConfig& c = config_;
  const int64_t E = c.n_embd;
  const int64_t routed = c.is_moe() ? T * c.n_expert_used : 0;
  SHOAL_ASSIGN_OR_RETURN(x_, Ensure<float>(x_buf_, T * E));
  SHOAL_ASSIGN_OR_RETURN(h_, Ensure<float>(h_buf_, T * E));
  SHOAL_ASSIGN_OR_RETURN(q_, Ensure<float>(q_buf_, T * c.n_head * c.head_dim));
  SHOAL_ASSIGN_OR_RETURN(k_, Ensure<float>(k_buf_, T * c.n_head_kv * c.head_dim));
  SHOAL_ASSIGN_OR_RETURN(v_, Ensure<float>(v_buf_, T * c.n_head_kv * c.value_dim));
  SHOAL_ASSIGN_OR_RETURN(attn_, Ensure<float>(attn_buf_, T * c.n_head * c.value_dim));
  SHOAL_ASSIGN_OR_RETURN(block_out_, Ensure<float>(block_out_buf_, T * E));
  const int64_t dense_ff = c.is_moe() ? 0 : c.n_ff;
  SHOAL_ASSIGN_OR_RETURN(gate_, Ensure<float>(gate_buf_, T * dense_ff));
  SHOAL_ASSIGN_OR_RETURN(up_, Ensure<float>(up_buf_, T * dense_ff));
  SHOAL_ASSIGN_OR_RETURN(router_, Ensure<float>(router_buf_, T * c.n_expert));
  SHOAL_ASSIGN_OR_RETURN(moe_in_, Ensure<float>(moe_in_buf_, routed * E));
  SHOAL_ASSIGN_OR_RETURN(moe_gate_, Ensure<float>(moe_gate_buf_, routed * c.n_ff_exp));
  SHOAL_ASSIGN_OR_RETURN(moe_up_, Ensure<float>(moe_up_buf_, routed * c.n_ff_exp));
  SHOAL_ASSIGN_OR_RETURN(moe_down_, Ensure<float>(moe_down_buf_, routed * E));
  SHOAL_ASSIGN_OR_RETURN(expert_out_, Ensure<float>(expert_out_buf_, routed * E));
  const int64_t rows_per_pass = std::min(R, kLogitRowsPerPass);
  SHOAL_ASSIGN_OR_RETURN(out_hidden_, Ensure<float>(out_hidden_buf_, rows_per_pass * E));
  SHOAL_ASSIGN_OR_RETURN(logits_dev_, Ensure<float>(logits_buf_, rows_per_pass * c.n_vocab));
  return absl::OkStatus();
}

// Everything per token the layers share: ids, positions, KV slots, block tables, RoPE
// angles for global and sliding layers, the attention groups, and the rows whose logits
// are wanted.
absl::Status CudaForwardEngine::PrepareStep(const ForwardBatch& batch) {
  const float* freq_factors =
      host_weights_.rope_freqs.empty() ? nullptr : host_weights_.rope_freqs.data();
  cuda::BuildStepLayout(config_, batch, block_size_, freq_factors, kAttentionScratchValues, step_);
  SHOAL_ASSIGN_OR_RETURN(scores_, Ensure<float>(scores_buf_, step_.most_scores));
  SHOAL_RETURN_IF_ERROR(Upload(step_.tokens, tokens_buf_, stream()));
  SHOAL_RETURN_IF_ERROR(Upload(step_.positions, positions_buf_, stream()));
  SHOAL_RETURN_IF_ERROR(Upload(step_.slots, slots_buf_, stream()));
  SHOAL_RETURN_IF_ERROR(Upload(step_.tables, tables_buf_, stream()));
  SHOAL_RETURN_IF_ERROR(Upload(step_.table_offsets, table_offsets_buf_, stream()));
  SHOAL_RETURN_IF_ERROR(Upload(step_.logit_rows, logit_rows_buf_, stream()));
  SHOAL_RETURN_IF_ERROR(Upload(step_.rope_global, rope_global_buf_, stream()));
  if (step_.any_sliding) SHOAL_RETURN_IF_ERROR(Upload(step_.rope_sliding, rope_sliding_buf_, stream()));
  return absl::OkStatus();
}

absl::Status CudaForwardEngine::AttentionBlock(int64_t layer, int64_t T) {
  const model::ModelConfig& c = config_;
  const DeviceLayerWeights& w = weights_.layers[layer];
  const int64_t q_width = c.n_head * c.head_dim;
  SHOAL_RETURN_IF_ERROR(Norm(x_, w.attn_norm, c.n_embd, T, h_));
  SHOAL_RETURN_IF_ERROR(MatMul(w.attn_q, h_, T, q_));
  SHOAL_RETURN_IF_ERROR(MatMul(w.attn_k, h_, T, k_));
  SHOAL_RETURN_IF_ERROR(MatMul(w.attn_v, h_, T, v_));
  if (c.has_qk_norm) {
    SHOAL_RETURN_IF_ERROR(Norm(q_, w.attn_q_norm, c.head_dim, T * c.n_head, q_));
    SHOAL_RETURN_IF_ERROR(Norm(k_, w.attn_k_norm, c.head_dim, T * c.n_head_kv, k_));
  }
  const bool sliding = c.layer_is_sliding[layer];
  const float* cos_sin = (sliding ? rope_sliding_buf_ : rope_global_buf_).as<float>();
  const bool neox = c.rope_style != model::RopeStyle::kNorm;
  SHOAL_RETURN_IF_ERROR(CudaStatus(
      kernels::cuda::LaunchRope(q_, cos_sin, T, c.n_head, c.head_dim, c.rope_dim, neox, stream()),
      "rope q"));
  SHOAL_RETURN_IF_ERROR(CudaStatus(
      kernels::cuda::LaunchRope(k_, cos_sin, T, c.n_head_kv, c.head_dim, c.rope_dim, neox, stream()),
      "rope k"));
  // Gemma scales q before attention instead of the scores (the CPU decoder's order).
  if (c.architecture == model::Architecture::kGemma3) {
    SHOAL_RETURN_IF_ERROR(CudaStatus(
        kernels::cuda::LaunchScale(q_, T * q_width, c.attention_scale, stream()), "q scale"));
  }
  SHOAL_RETURN_IF_ERROR(CudaStatus(
      kernels::cuda::LaunchWriteKv(kv_f16_, kv_[layer].k.as<void>(), kv_[layer].v.as<void>(),
                                   slots_buf_.as<int64_t>(), T, k_, c.n_head_kv * c.head_dim, v_,
                                   c.n_head_kv * c.value_dim, stream()),
      "write_kv"));
  SHOAL_RETURN_IF_ERROR(Attend(layer));
  SHOAL_RETURN_IF_ERROR(MatMul(w.attn_output, attn_, T, block_out_));
  if (w.post_attention_norm != nullptr) {
    SHOAL_RETURN_IF_ERROR(Norm(block_out_, w.post_attention_norm, c.n_embd, T, block_out_));
  }
  return AddResidual(T);
}

absl::Status CudaForwardEngine::Attend(int64_t layer) {
  const model::ModelConfig& c = config_;
  const bool sliding = c.layer_is_sliding[layer];
  const bool scale_q = c.architecture == model::Architecture::kGemma3;
  for (const AttentionGroup& g : sliding ? step_.groups_sliding : step_.groups_global) {
    const kernels::cuda::PagedAttentionLaunch launch{
        .f16 = kv_f16_,
        .k_cache = kv_[layer].k.as<void>(),
        .v_cache = kv_[layer].v.as<void>(),
        .block_size = block_size_,
        .n_heads = c.n_head,
        .n_kv_heads = c.n_head_kv,
        .head_dim = c.head_dim,
        .value_dim = c.value_dim,
        .scale = scale_q ? 1.0f : c.attention_scale,
        .sliding_window = sliding ? c.sliding_window : 0,
        .q = q_ + g.first * c.n_head * c.head_dim,
        .out = attn_ + g.first * c.n_head * c.value_dim,
        .positions = positions_buf_.as<int64_t>() + g.first,
        .tables = tables_buf_.as<int32_t>(),
        .table_offsets = table_offsets_buf_.as<int64_t>() + g.first,
        .n_tokens = g.n,
        .scores = scores_,
        .max_keys = g.max_keys};
    SHOAL_RETURN_IF_ERROR(
        CudaStatus(kernels::cuda::LaunchPagedAttention(launch, stream()), "paged_attention"));
  }
  return absl::OkStatus();
}

absl::Status CudaForwardEngine::DenseFfnBlock(int64_t layer, int64_t T) {
  const model::ModelConfig& c = config_;
  const DeviceLayerWeights& w = weights_.layers[layer];
  SHOAL_RETURN_IF_ERROR(Norm(x_, w.ffn_norm, c.n_embd, T, h_));
  SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_gate, h_, T, gate_));
  SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_up, h_, T, up_));
  const cudaError_t activation =
      c.ffn_activation == model::FfnActivation::kSilu
          ? kernels::cuda::LaunchSwiGlu(gate_, up_, T * c.n_ff, gate_, stream())
          : kernels::cuda::LaunchGeGluTanh(gate_, up_, T * c.n_ff, gate_, stream());
  SHOAL_RETURN_IF_ERROR(CudaStatus(activation, "ffn activation"));
  SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_down, gate_, T, block_out_));
  if (w.post_ffw_norm != nullptr) {
    SHOAL_RETURN_IF_ERROR(Norm(block_out_, w.post_ffw_norm, c.n_embd, T, block_out_));
  }
  return AddResidual(T);
}

// Routes on the host (the router logits come back: one synchronisation per MoE layer),
// groups the routed rows (token t's j-th choice is row t·k + j) by expert, gathers their
// inputs in that order, runs each active expert's three GEMMs on its contiguous rows,
// scatters the weighted outputs back to the rows' slots and sums each token's k slots.
absl::Status CudaForwardEngine::MoeFfnBlock(int64_t layer, int64_t T) {
  const model::ModelConfig& c = config_;
  const DeviceLayerWeights& w = weights_.layers[layer];
  const int64_t E = c.n_embd, X = c.n_expert, K = c.n_expert_used, Fe = c.n_ff_exp;
  const int64_t rows = T * K;
  SHOAL_RETURN_IF_ERROR(Norm(x_, w.ffn_norm, E, T, h_));
  SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_gate_inp, h_, T, router_));
  router_host_.resize(T * X);
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(router_host_.data(), router_, T * X * sizeof(float),
                                                   cudaMemcpyDeviceToHost, stream()),
                                   "router logits"));
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaStreamSynchronize(stream()), "router logits"));
  expert_ids_host_.resize(rows);
  route_weights_host_.resize(rows);
  route_order_.resize(X);
  for (int64_t t = 0; t < T; ++t) {
    RouteToken(c, router_host_.data() + t * X, expert_ids_host_.data() + t * K,
               route_weights_host_.data() + t * K, route_order_.data());
  }
  expert_begin_.resize(X + 1);
  expert_cursor_.resize(X);
  grouped_rows_host_.resize(rows);
  GroupRowsByExpert(expert_ids_host_, expert_begin_, expert_cursor_, grouped_rows_host_);
  grouped_tokens_host_.resize(rows);
  for (int64_t i = 0; i < rows; ++i) grouped_tokens_host_[i] = static_cast<int32_t>(grouped_rows_host_[i] / K);
  for (int64_t e = 0; e < X; ++e) {
    expert_token_counts_[layer * X + e] += expert_begin_[e + 1] - expert_begin_[e];
  }
  SHOAL_RETURN_IF_ERROR(Upload(grouped_rows_host_, grouped_rows_buf_, stream()));
  SHOAL_RETURN_IF_ERROR(Upload(grouped_tokens_host_, grouped_tokens_buf_, stream()));
  SHOAL_RETURN_IF_ERROR(Upload(route_weights_host_, route_weights_buf_, stream()));
  SHOAL_RETURN_IF_ERROR(CudaStatus(
      kernels::cuda::LaunchGatherRows(h_, E, grouped_tokens_buf_.as<int32_t>(), rows, moe_in_,
                                      stream()),
      "moe gather"));
  for (int64_t e = 0; e < X; ++e) {
    const int64_t begin = expert_begin_[e], n = expert_begin_[e + 1] - begin;
    if (n == 0) continue;
    SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_gate_exps.Expert(e), moe_in_ + begin * E, n, moe_gate_ + begin * Fe));
    SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_up_exps.Expert(e), moe_in_ + begin * E, n, moe_up_ + begin * Fe));
  }
  SHOAL_RETURN_IF_ERROR(CudaStatus(
      kernels::cuda::LaunchSwiGlu(moe_gate_, moe_up_, rows * Fe, moe_gate_, stream()), "moe swiglu"));
  for (int64_t e = 0; e < X; ++e) {
    const int64_t begin = expert_begin_[e], n = expert_begin_[e + 1] - begin;
    if (n == 0) continue;
    SHOAL_RETURN_IF_ERROR(MatMul(w.ffn_down_exps.Expert(e), moe_gate_ + begin * Fe, n, moe_down_ + begin * E));
  }
  SHOAL_RETURN_IF_ERROR(CudaStatus(
      kernels::cuda::LaunchScatterScaledRows(moe_down_, E, grouped_rows_buf_.as<int32_t>(),
                                             route_weights_buf_.as<float>(), rows, expert_out_,
                                             stream()),
      "moe scatter"));
  SHOAL_RETURN_IF_ERROR(CudaStatus(
      kernels::cuda::LaunchSumSlots(expert_out_, K, E, T, block_out_, stream()), "moe sum"));
  return AddResidual(T);
}

absl::Status CudaForwardEngine::Output(int64_t R, std::span<float> logits) {
  const model::ModelConfig& c = config_;
  const int64_t V = c.n_vocab;
  // The passes reuse one device buffer; the stream orders each pass's copy back before
  // the next pass writes it.
  for (int64_t first = 0; first < R; first += kLogitRowsPerPass) {
    const int64_t n = std::min(kLogitRowsPerPass, R - first);
    SHOAL_RETURN_IF_ERROR(CudaStatus(
        kernels::cuda::LaunchGatherRows(x_, c.n_embd, logit_rows_buf_.as<int32_t>() + first, n,
                                        out_hidden_, stream()),
        "logit rows"));
    SHOAL_RETURN_IF_ERROR(Norm(out_hidden_, weights_.output_norm, c.n_embd, n, out_hidden_));
    SHOAL_RETURN_IF_ERROR(MatMul(weights_.output, out_hidden_, n, logits_dev_));
    if (c.final_logit_softcap > 0.0f) {
      SHOAL_RETURN_IF_ERROR(CudaStatus(
          kernels::cuda::LaunchSoftcap(logits_dev_, n * V, c.final_logit_softcap, stream()),
          "softcap"));
    }
    SHOAL_RETURN_IF_ERROR(CudaStatus(
        cudaMemcpyAsync(logits.data() + first * V, logits_dev_, n * V * sizeof(float),
                        cudaMemcpyDeviceToHost, stream()),
        "logits"));
  }
  // Also where errors of the queued kernels surface.
  return CudaStatus(cudaStreamSynchronize(stream()), "forward pass");
}

}  // namespace

absl::StatusOr<std::unique_ptr<ForwardEngine>> CreateCudaForwardEngine(
    const model::ModelFile& model, const EngineOptions& options) {
  return CudaForwardEngine::Create(model, options);
}

}  // namespace shoal::worker
