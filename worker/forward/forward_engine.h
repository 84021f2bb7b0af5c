// A model's forward pass on one device together with that device's KV cache: what the
// StepExecutor and `shoal run` drive, the same whether the device is the CPU (Decoder
// over a host KvCache) or a CUDA GPU (worker/cuda/). The caller hands it a batch and
// a host buffer for the logits; where the weights, the cache and the activations live
// is the engine's business.
//
// Owned by the worker's compute thread; Forward() must not run concurrently.
#ifndef SHOAL_WORKER_FORWARD_FORWARD_ENGINE_H_
#define SHOAL_WORKER_FORWARD_FORWARD_ENGINE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kernels/attention/paged_attention.h"
#include "model/model_file.h"
#include "worker/forward/forward_batch.h"
#include "worker/kv/kv_cache.h"

namespace shoal::worker {

enum class DeviceKind { kCpu, kCuda };

// Where a worker computes: `cpu`, or `cuda:K` (`cuda` is `cuda:0`).
struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;  // the CUDA device ordinal

  std::string ToString() const;
};
absl::StatusOr<Device> ParseDevice(std::string_view text);

// How many KV blocks the engine allocates.
struct KvBudget {
  int64_t block_size = kDefaultBlockSize;
  kernels::KvType type = kernels::KvType::kF16;
  // Exactly this many when > 0 (`shoal run` knows what one generation needs).
  // Otherwise as many as fit in memory_fraction of the device's memory (RAM or VRAM)
  // once the weights and the activation reserve are taken, at most wanted_blocks and
  // max_blocks (0: no cap).
  int64_t exact_blocks = 0;
  double memory_fraction = 0.9;
  int64_t max_blocks = 0;
  // CPU only: what the replica can use (KvBlocksForReplica); 0: no such cap.
  int64_t wanted_blocks = 0;
  // CPU only: the RAM to budget from (0: the machine's, or its cgroup's limit).
  int64_t total_memory_bytes = 0;
};

// The share of a CPU replica's KV cache kept beyond its running sequences' full
// contexts, for prefix-cache blocks that outlive their requests.
inline constexpr double kPrefixCacheShare = 0.5;

// The blocks a replica of `max_num_seqs` sequences can use: each at the full
// `context_length`, plus kPrefixCacheShare as much again for the prefix cache.
int64_t KvBlocksForReplica(int64_t max_num_seqs, int64_t context_length, int64_t block_size);

// The arithmetic of KvBudget: blocks of `block_bytes` that fit in
// memory_fraction · total_bytes after `used_bytes` (weights, activations), capped by
// wanted_blocks and max_blocks. ResourceExhausted, naming `device`, when not even one
// fits.
absl::StatusOr<int64_t> KvBlocksInBudget(const KvBudget& budget, int64_t block_bytes,
                                         int64_t total_bytes, int64_t used_bytes,
                                         std::string_view device);

struct EngineOptions {
  Device device;
  int threads = 1;                  // CPU compute threads
  bool interleave_weights = true;   // CPU: repack matrices at load (model_weights.h)
  bool bf16_weights = false;        // CUDA: dequantize matrices to bf16 at load, bf16 GEMMs
  // The most tokens one Forward carries (the scheduler's --max-num-batched-tokens): a
  // CUDA engine keeps their activations' memory out of the KV budget.
  int64_t max_batch_tokens = 2048;
  KvBudget kv;
};

class ForwardEngine {
 public:
  virtual ~ForwardEngine() = default;

  // Runs `batch` (Decoder::Forward's contract): writes its tokens' K/V into the cache
  // and the logits it asks for into `logits` (batch.num_logit_rows() rows of n_vocab,
  // host memory). Invalid batches are errors, checked before any state changes.
  virtual absl::Status Forward(const ForwardBatch& batch, std::span<float> logits) = 0;

  virtual const model::ModelConfig& config() const = 0;
  virtual int64_t num_kv_blocks() const = 0;
  virtual int64_t kv_block_size() const = 0;
  // MoE models: tokens routed to each expert so far, [layer · n_expert + expert].
  virtual std::span<const int64_t> expert_token_counts() const = 0;
  // For RegisterResponse.device and logs: "cpu (2 threads, avx512_vnni)",
  // "cuda:0 (NVIDIA H200, quantized weights)".
  virtual std::string description() const = 0;
  // Bytes the weights take on the device.
  virtual int64_t weight_bytes() const = 0;
  // Bytes of the KV cache, allocated and committed when the engine was created.
  virtual int64_t kv_cache_bytes() const = 0;
};

// The engine for options.device over `model`, which must outlive it. CUDA devices are
// Unimplemented in builds without CUDA and Unavailable on machines without the GPU.
absl::StatusOr<std::unique_ptr<ForwardEngine>> CreateForwardEngine(const model::ModelFile& model,
                                                                   const EngineOptions& options);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_FORWARD_ENGINE_H_
