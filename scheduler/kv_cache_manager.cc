#include "scheduler/kv_cache_manager.h"

#include <algorithm>

#include "absl/memory/memory.h"
#include "common/check.h"
#include "fmt/format.h"

namespace shoal::scheduler {

const char* RequestStatusName(RequestStatus s) {
  switch (s) {
    case RequestStatus::kWaiting: return "waiting";
    case RequestStatus::kRunning: return "running";
    case RequestStatus::kPreempted: return "preempted";
    case RequestStatus::kFinishedStopped: return "stop";
    case RequestStatus::kFinishedLength: return "length";
    case RequestStatus::kFinishedCancelled: return "abort";
    case RequestStatus::kFinishedAborted: return "abort";
    case RequestStatus::kFinishedError: return "error";
  }
  return "unknown";
}

absl::Status KvCacheManagerConfig::Validate() const {
  if (block_size < 1 || block_size > 1024) {
    return absl::InvalidArgumentError(
        fmt::format("KV block size must be in [1, 1024], not {}", block_size));
  }
  return BlockPoolConfig{.num_blocks = num_blocks}.Validate();
}

absl::StatusOr<std::unique_ptr<KvCacheManager>> KvCacheManager::Create(
    const KvCacheManagerConfig& config) {
  if (absl::Status status = config.Validate(); !status.ok()) return status;
  auto pool = BlockPool::Create({.num_blocks = config.num_blocks,
                                 .enable_prefix_caching = config.enable_prefix_caching});
  if (!pool.ok()) return pool.status();
  return absl::WrapUnique(new KvCacheManager(config, std::move(*pool)));
}

void KvCacheManager::UpdateHashes(Request& request) {
  ExtendBlockHashes(request.all_token_ids, config_.block_size, config_.model_key,
                    request.cache_salt, request.block_hashes);
}

PrefixHit KvCacheManager::FindCachedPrefix(Request& request) {
  PrefixHit hit;
  if (!pool_->prefix_caching()) return hit;
  UpdateHashes(request);
  const int64_t max_blocks = (request.num_tokens() - 1) / config_.block_size;
  for (int64_t b = 0; b < max_blocks && b < static_cast<int64_t>(request.block_hashes.size());
       ++b) {
    const std::optional<int32_t> block = pool_->GetCachedBlock(request.block_hashes[b]);
    if (!block) break;
    hit.blocks.push_back(*block);
  }
  hit.num_tokens = static_cast<int64_t>(hit.blocks.size()) * config_.block_size;
  return hit;
}

bool KvCacheManager::AllocateSlots(Request& request, int64_t num_new_tokens,
                                   const PrefixHit* hit) {
  SHOAL_CHECK(num_new_tokens >= 0);
  const int64_t hit_blocks = hit != nullptr ? static_cast<int64_t>(hit->blocks.size()) : 0;
  const int64_t hit_tokens = hit != nullptr ? hit->num_tokens : 0;
  const int64_t total_tokens = request.num_computed_tokens + hit_tokens + num_new_tokens;
  const int64_t blocks_needed = (total_tokens + config_.block_size - 1) / config_.block_size;
  const int64_t have = static_cast<int64_t>(request.block_ids.size()) + hit_blocks;
  const int64_t new_blocks = std::max<int64_t>(0, blocks_needed - have);
  // Cached hit blocks nobody references sit in the free queue: taking them uses free blocks.
  int64_t hit_from_free = 0;
  for (int64_t i = 0; i < hit_blocks; ++i) hit_from_free += pool_->ref_count(hit->blocks[i]) == 0;
  if (new_blocks + hit_from_free > pool_->num_free_blocks()) return false;

  if (hit_blocks > 0) {
    SHOAL_CHECK(request.block_ids.empty() && request.num_computed_tokens == 0);
    pool_->Touch(hit->blocks);
    request.block_ids = hit->blocks;
    request.num_cached_blocks = hit_blocks;
    request.num_computed_tokens = hit_tokens;
  }
  SHOAL_CHECK(pool_->GetNewBlocks(new_blocks, request.block_ids));
  return true;
}

void KvCacheManager::CacheComputedBlocks(Request& request) {
  if (!pool_->prefix_caching()) return;
  UpdateHashes(request);
  const int64_t full =
      std::min<int64_t>(request.num_computed_tokens / config_.block_size,
                        static_cast<int64_t>(request.block_hashes.size()));
  for (int64_t b = request.num_cached_blocks; b < full; ++b) {
    pool_->CacheFullBlock(request.block_ids[b], request.block_hashes[b]);
  }
  request.num_cached_blocks = std::max(request.num_cached_blocks, full);
}

void KvCacheManager::Free(Request& request) {
  std::reverse(request.block_ids.begin(), request.block_ids.end());
  pool_->FreeBlocks(request.block_ids);
  request.block_ids.clear();
  request.num_cached_blocks = 0;
  request.worker_block_count = 0;
}

}  // namespace shoal::scheduler
