#include "scheduler/block_pool.h"

#include "absl/memory/memory.h"
#include "common/check.h"
#include "fmt/format.h"

namespace shoal::scheduler {

absl::Status BlockPoolConfig::Validate() const {
  if (num_blocks < 1 || num_blocks > (int64_t{1} << 30)) {
    return absl::InvalidArgumentError(
        fmt::format("the KV block pool needs between 1 and 2^30 blocks, not {}", num_blocks));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BlockPool>> BlockPool::Create(const BlockPoolConfig& config) {
  if (absl::Status status = config.Validate(); !status.ok()) return status;
  return absl::WrapUnique(new BlockPool(config));
}

BlockPool::BlockPool(const BlockPoolConfig& config) : config_(config) {
  const int32_t n = static_cast<int32_t>(config.num_blocks);
  blocks_.resize(n + 2);
  head_ = n;
  tail_ = n + 1;
  blocks_[head_].next = tail_;
  blocks_[tail_].prev = head_;
  for (int32_t b = 0; b < n; ++b) PushBack(b);
}

double BlockPool::usage() const {
  return 1.0 - static_cast<double>(num_free_) / static_cast<double>(num_blocks());
}

void BlockPool::PushBack(int32_t block) {
  Block& b = blocks_[block];
  b.prev = blocks_[tail_].prev;
  b.next = tail_;
  blocks_[b.prev].next = block;
  blocks_[tail_].prev = block;
  ++num_free_;
}

void BlockPool::PushFront(int32_t block) {
  Block& b = blocks_[block];
  b.next = blocks_[head_].next;
  b.prev = head_;
  blocks_[b.next].prev = block;
  blocks_[head_].next = block;
  ++num_free_;
}

void BlockPool::Unlink(int32_t block) {
  Block& b = blocks_[block];
  SHOAL_CHECK(b.prev >= 0 && b.next >= 0);
  blocks_[b.prev].next = b.next;
  blocks_[b.next].prev = b.prev;
  b.prev = b.next = -1;
  --num_free_;
}

void BlockPool::Evict(int32_t block) {
  Block& b = blocks_[block];
  if (!b.cached) return;
  auto it = cached_.find(b.hash);
  if (it != cached_.end() && it->second == block) cached_.erase(it);
  b.cached = false;
}

std::optional<int32_t> BlockPool::GetCachedBlock(const BlockHash& hash) const {
  if (!config_.enable_prefix_caching) return std::nullopt;
  auto it = cached_.find(hash);
  if (it == cached_.end()) return std::nullopt;
  return it->second;
}

void BlockPool::Touch(std::span<const int32_t> blocks) {
  for (int32_t block : blocks) {
    Block& b = blocks_[block];
    if (b.ref_count == 0) Unlink(block);
    ++b.ref_count;
  }
}

bool BlockPool::GetNewBlocks(int64_t n, std::vector<int32_t>& out) {
  if (n > num_free_) return false;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t block = blocks_[head_].next;
    SHOAL_CHECK(block != tail_ && blocks_[block].ref_count == 0);
    Unlink(block);
    Evict(block);
    blocks_[block].ref_count = 1;
    out.push_back(block);
  }
  return true;
}

void BlockPool::CacheFullBlock(int32_t block, const BlockHash& hash) {
  if (!config_.enable_prefix_caching) return;
  Block& b = blocks_[block];
  SHOAL_CHECK(b.ref_count > 0);
  if (b.cached) return;
  if (cached_.try_emplace(hash, block).second) {
    b.cached = true;
    b.hash = hash;
  }
}

void BlockPool::FreeBlocks(std::span<const int32_t> blocks) {
  for (int32_t block : blocks) {
    Block& b = blocks_[block];
    SHOAL_CHECK(b.ref_count > 0);
    if (--b.ref_count == 0) {
      if (b.cached) {
        PushBack(block);
      } else {
        PushFront(block);
      }
    }
  }
}

void BlockPool::ResetPrefixCache() {
  for (int32_t b = 0; b < static_cast<int32_t>(config_.num_blocks); ++b) blocks_[b].cached = false;
  cached_.clear();
}

std::vector<int32_t> BlockPool::FreeQueueForTest() const {
  std::vector<int32_t> order;
  for (int32_t b = blocks_[head_].next; b != tail_; b = blocks_[b].next) order.push_back(b);
  return order;
}

}  // namespace shoal::scheduler
