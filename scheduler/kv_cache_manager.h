// Maps requests to KV blocks (vLLM v1's KVCacheManager, REFERENCE.md §4.3): finds a
// new request's longest cached prefix, grows block tables as tokens are scheduled,
// registers blocks in the prefix cache once a step has filled them, and frees a request's
// blocks (tail first, so the longest prefixes are evicted first).
//
// Owned by the scheduler's step thread.
#ifndef SHOAL_SCHEDULER_KV_CACHE_MANAGER_H_
#define SHOAL_SCHEDULER_KV_CACHE_MANAGER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/block_pool.h"
#include "scheduler/request.h"

namespace shoal::scheduler {

inline constexpr int64_t kDefaultBlockSize = 16;

struct KvCacheManagerConfig {
  int64_t num_blocks = 0;
  int64_t block_size = kDefaultBlockSize;
  bool enable_prefix_caching = true;
  // Folded into every block hash: blocks of different models never match.
  std::string model_key;

  absl::Status Validate() const;
};

// A cached prefix of a request: its blocks, and the tokens they hold.
struct PrefixHit {
  std::vector<int32_t> blocks;
  int64_t num_tokens = 0;
};

class KvCacheManager {
 public:
  static absl::StatusOr<std::unique_ptr<KvCacheManager>> Create(const KvCacheManagerConfig& config);

  // The longest run of the request's full blocks, from the first, that is cached, up
  // to num_tokens − 1 tokens (the last token is always computed, to get its logits).
  PrefixHit FindCachedPrefix(Request& request);
  // Counts one admitted lookup in the prefix-cache statistics.
  void RecordPrefixLookup(int64_t queried_tokens, int64_t hit_tokens) {
    queried_tokens_ += queried_tokens;
    hit_tokens_ += hit_tokens;
  }

  // Gives the request blocks for `num_new_tokens` tokens after its computed ones, taking
  // `hit`'s blocks first when given (the request's computed tokens then advance past
  // them). False, with nothing changed, when there are not enough free blocks.
  bool AllocateSlots(Request& request, int64_t num_new_tokens, const PrefixHit* hit = nullptr);

  // Registers in the prefix cache every block that the request's computed tokens fill.
  // Called after a step ran, never at allocation: a request can give its scheduled
  // tokens back (preempted later in the same step) or the step can fail, and a block
  // whose KV was never written must not become a cache hit.
  void CacheComputedBlocks(Request& request);

  // Returns all of the request's blocks to the pool.
  void Free(Request& request);

  int64_t block_size() const { return config_.block_size; }
  int64_t num_blocks() const { return pool_->num_blocks(); }
  int64_t num_free_blocks() const { return pool_->num_free_blocks(); }
  double usage() const { return pool_->usage(); }
  int64_t prefix_queried_tokens() const { return queried_tokens_; }
  int64_t prefix_hit_tokens() const { return hit_tokens_; }
  BlockPool& pool() { return *pool_; }

 private:
  KvCacheManager(const KvCacheManagerConfig& config, std::unique_ptr<BlockPool> pool)
      : config_(config), pool_(std::move(pool)) {}
  void UpdateHashes(Request& request);

  KvCacheManagerConfig config_;
  std::unique_ptr<BlockPool> pool_;
  int64_t queried_tokens_ = 0;
  int64_t hit_tokens_ = 0;
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_KV_CACHE_MANAGER_H_
