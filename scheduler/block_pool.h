// The pool of KV block ids (vLLM v1's BlockPool, REFERENCE.md §4.3): reference counts,
// the free queue that is also the eviction order, and the hash → block map of the
// prefix cache. A block whose last reference goes is kept with its hash in the free
// queue (at the back: least recently used first out) until its id is handed out again;
// a later request with the same prefix takes it back out ("touch") and skips that
// prefill. Blocks that were never cached go to the front, to be reused first.
//
// Block ids are plain integers: the workers hold the memory, the scheduler only
// counts. Owned by the scheduler's step thread; not thread-safe.
#ifndef SHOAL_SCHEDULER_BLOCK_POOL_H_
#define SHOAL_SCHEDULER_BLOCK_POOL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "scheduler/block_hash.h"

namespace shoal::scheduler {

struct BlockPoolConfig {
  int64_t num_blocks = 0;
  bool enable_prefix_caching = true;

  absl::Status Validate() const;
};

class BlockPool {
 public:
  static absl::StatusOr<std::unique_ptr<BlockPool>> Create(const BlockPoolConfig& config);

  int64_t num_blocks() const { return config_.num_blocks; }
  // Blocks nobody references: free, or cached and evictable.
  int64_t num_free_blocks() const { return num_free_; }
  // The share of blocks in use, in [0, 1].
  double usage() const;
  bool prefix_caching() const { return config_.enable_prefix_caching; }

  // A block holding `hash`, if one is cached.
  std::optional<int32_t> GetCachedBlock(const BlockHash& hash) const;
  // Takes a reference on each block (a prefix hit); unreferenced ones leave the queue.
  void Touch(std::span<const int32_t> blocks);
  // Appends n blocks from the front of the free queue to `out`, each with one
  // reference, evicting whatever they cached. False (and nothing taken) when fewer
  // than n are free.
  bool GetNewBlocks(int64_t n, std::vector<int32_t>& out);
  // Registers a full, referenced block under `hash`. A hash already cached in another
  // block keeps that block (block tables never change, so duplicates are not merged).
  void CacheFullBlock(int32_t block, const BlockHash& hash);
  // Drops one reference of each block, in order; blocks that reach zero join the free
  // queue, so free the blocks that should be evicted first first.
  void FreeBlocks(std::span<const int32_t> blocks);
  // Evicts every cached hash (blocks stay where they are). For tests and resets.
  void ResetPrefixCache();

  // Introspection for tests and metrics.
  int32_t ref_count(int32_t block) const { return blocks_[block].ref_count; }
  bool is_cached(int32_t block) const { return blocks_[block].cached; }
  // The free queue front to back.
  std::vector<int32_t> FreeQueueForTest() const;

 private:
  struct Block {
    int32_t ref_count = 0;
    bool cached = false;
    BlockHash hash;
    // Free-queue links (block ids; kHead / kTail are the sentinels).
    int32_t prev = -1;
    int32_t next = -1;
  };

  explicit BlockPool(const BlockPoolConfig& config);
  void PushBack(int32_t block);
  void PushFront(int32_t block);
  void Unlink(int32_t block);
  void Evict(int32_t block);

  BlockPoolConfig config_;
  // blocks_[0 .. n) are the real blocks; two more at the end are the queue sentinels.
  std::vector<Block> blocks_;
  int32_t head_, tail_;
  int64_t num_free_ = 0;
  absl::flat_hash_map<BlockHash, int32_t> cached_;
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_BLOCK_POOL_H_
