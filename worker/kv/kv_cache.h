// The worker's KV cache: for every layer, K and V in fixed-size blocks laid out
// [num_blocks, block_size, n_kv_heads, head_dim] (DESIGN.md "KV cache"). Allocated once
// when the worker starts; the scheduler owns which block ids are in use, the worker
// never allocates blocks. Memory comes from an anonymous mapping committed (populated)
// at creation, so the process's resident size does not creep up as blocks are first
// written.
//
// Owned by the worker's compute thread.
#ifndef SHOAL_WORKER_KV_KV_CACHE_H_
#define SHOAL_WORKER_KV_KV_CACHE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/attention/paged_attention.h"
#include "model/model_config.h"

namespace shoal::worker {

inline constexpr int64_t kDefaultBlockSize = 16;

struct KvCacheConfig {
  int64_t num_blocks = 0;
  int64_t block_size = kDefaultBlockSize;
  kernels::KvType type = kernels::KvType::kF16;

  absl::Status Validate() const;
};

class KvCache {
 public:
  static absl::StatusOr<std::unique_ptr<KvCache>> Create(const model::ModelConfig& model,
                                                         const KvCacheConfig& config);
  ~KvCache();

  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  // Bytes one block takes across all layers (K and V).
  static int64_t BytesPerBlock(const model::ModelConfig& model, const KvCacheConfig& config);

  const kernels::KvLayer& layer(int64_t i) const { return layers_[i]; }
  int64_t num_blocks() const { return config_.num_blocks; }
  int64_t block_size() const { return config_.block_size; }
  int64_t total_bytes() const { return static_cast<int64_t>(bytes_); }

 private:
  KvCache(const KvCacheConfig& config) : config_(config) {}

  KvCacheConfig config_;
  void* memory_ = nullptr;
  size_t bytes_ = 0;
  std::vector<kernels::KvLayer> layers_;
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_KV_KV_CACHE_H_
