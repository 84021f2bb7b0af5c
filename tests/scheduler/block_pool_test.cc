// BlockPool (scheduler/block_pool.h): exact block ids and eviction order on tiny pools,
// and invariants under long random operation sequences (seed printed on failure).
#include "scheduler/block_pool.h"

#include <algorithm>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::scheduler {
namespace {

using ::testing::ElementsAre;

BlockHash HashOf(int32_t token) {
  const int32_t tokens[] = {token};
  return HashBlock(RootBlockHash(), tokens, "");
}

std::unique_ptr<BlockPool> MakePool(int64_t n) {
  auto pool = BlockPool::Create({.num_blocks = n});
  EXPECT_TRUE(pool.ok());
  return std::move(*pool);
}

TEST(BlockPoolTest, HandsOutBlocksInIdOrderAndCountsReferences) {
  auto pool = MakePool(5);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool->GetNewBlocks(3, got));
  EXPECT_THAT(got, ElementsAre(0, 1, 2));
  EXPECT_EQ(pool->num_free_blocks(), 2);
  EXPECT_DOUBLE_EQ(pool->usage(), 0.6);
  EXPECT_FALSE(pool->GetNewBlocks(3, got)) << "only 2 are free";
  EXPECT_EQ(got.size(), 3u) << "a failed request takes nothing";
  pool->Touch(std::vector<int32_t>{1});
  EXPECT_EQ(pool->ref_count(1), 2);
  pool->FreeBlocks(got);
  EXPECT_EQ(pool->ref_count(1), 1);
  EXPECT_EQ(pool->num_free_blocks(), 4);
}

TEST(BlockPoolTest, CachedBlocksAreEvictedLeastRecentlyFreedFirstAfterUncachedOnes) {
  auto pool = MakePool(4);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool->GetNewBlocks(4, got));
  pool->CacheFullBlock(0, HashOf(10));
  pool->CacheFullBlock(1, HashOf(11));
  // Freed in the order 1, 0, 2, 3: the cached ones queue at the back in that order, the
  // uncached ones go to the front (nothing is lost by reusing them).
  pool->FreeBlocks(std::vector<int32_t>{1, 0, 2, 3});
  EXPECT_THAT(pool->FreeQueueForTest(), ElementsAre(3, 2, 1, 0));
  EXPECT_EQ(pool->GetCachedBlock(HashOf(11)), 1);
  std::vector<int32_t> next;
  ASSERT_TRUE(pool->GetNewBlocks(3, next));
  EXPECT_THAT(next, ElementsAre(3, 2, 1));
  EXPECT_EQ(pool->GetCachedBlock(HashOf(11)), std::nullopt) << "1 was evicted";
  EXPECT_EQ(pool->GetCachedBlock(HashOf(10)), 0) << "0 is still cached";
}

TEST(BlockPoolTest, TouchTakesACachedBlockBackOutOfTheFreeQueue) {
  auto pool = MakePool(3);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool->GetNewBlocks(1, got));
  pool->CacheFullBlock(0, HashOf(5));
  pool->FreeBlocks(got);
  EXPECT_EQ(pool->num_free_blocks(), 3);
  pool->Touch(std::vector<int32_t>{0});
  EXPECT_EQ(pool->num_free_blocks(), 2);
  EXPECT_THAT(pool->FreeQueueForTest(), ElementsAre(1, 2));
  EXPECT_TRUE(pool->is_cached(0));
}

TEST(BlockPoolTest, DuplicateHashKeepsTheFirstBlock) {
  auto pool = MakePool(2);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool->GetNewBlocks(2, got));
  pool->CacheFullBlock(0, HashOf(1));
  pool->CacheFullBlock(1, HashOf(1));
  EXPECT_EQ(pool->GetCachedBlock(HashOf(1)), 0);
  EXPECT_FALSE(pool->is_cached(1));
}

TEST(BlockPoolTest, DisabledPrefixCachingCachesNothing) {
  auto pool = BlockPool::Create({.num_blocks = 2, .enable_prefix_caching = false});
  ASSERT_TRUE(pool.ok());
  std::vector<int32_t> got;
  ASSERT_TRUE((*pool)->GetNewBlocks(1, got));
  (*pool)->CacheFullBlock(0, HashOf(1));
  EXPECT_EQ((*pool)->GetCachedBlock(HashOf(1)), std::nullopt);
}

TEST(BlockPoolTest, RejectsBadSizes) {
  EXPECT_FALSE(BlockPool::Create({.num_blocks = 0}).ok());
  EXPECT_FALSE(BlockPool::Create({.num_blocks = -3}).ok());
}

// Random holders take new blocks, take cached blocks by hash, cache and free; after
// every operation the pool's counts equal the holders' and every lookup returns a
// block that really carries the hash.
TEST(BlockPoolPropertyTest, InvariantsHoldUnderRandomOperations) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const int64_t n = 1 + rng() % 40;
    auto pool = MakePool(n);
    std::vector<std::vector<int32_t>> holders(6);
    std::vector<int32_t> hash_of(n, -1);  // the token a cached block's hash was made from
    for (int op = 0; op < 2000; ++op) {
      auto& holder = holders[rng() % holders.size()];
      switch (rng() % 4) {
        case 0: {
          const int64_t want = rng() % 5;
          const int64_t free_before = pool->num_free_blocks();
          std::vector<int32_t> got;
          const bool ok = pool->GetNewBlocks(want, got);
          ASSERT_EQ(ok, want <= free_before);
          for (int32_t b : got) hash_of[b] = -1;  // evicted on reuse
          holder.insert(holder.end(), got.begin(), got.end());
          break;
        }
        case 1: {
          const int32_t token = rng() % 8;
          if (auto b = pool->GetCachedBlock(HashOf(token))) {
            ASSERT_EQ(hash_of[*b], token) << "a lookup returned a block with another hash";
            pool->Touch(std::vector<int32_t>{*b});
            holder.push_back(*b);
          }
          break;
        }
        case 2:
          if (!holder.empty()) {
            const int32_t b = holder[rng() % holder.size()];
            const int32_t token = rng() % 8;
            const bool was_cached = pool->is_cached(b);
            const bool taken = pool->GetCachedBlock(HashOf(token)).has_value();
            pool->CacheFullBlock(b, HashOf(token));
            if (!was_cached && !taken) hash_of[b] = token;
          }
          break;
        case 3:
          if (!holder.empty()) {
            std::shuffle(holder.begin(), holder.end(), rng);
            const size_t k = rng() % (holder.size() + 1);
            pool->FreeBlocks(std::span(holder).first(k));
            holder.erase(holder.begin(), holder.begin() + k);
          }
          break;
      }
      std::vector<int32_t> refs(n, 0);
      for (const auto& h : holders) for (int32_t b : h) ++refs[b];
      int64_t free = 0;
      for (int32_t b = 0; b < n; ++b) {
        ASSERT_EQ(pool->ref_count(b), refs[b]) << "block " << b;
        free += refs[b] == 0;
      }
      ASSERT_EQ(pool->num_free_blocks(), free);
      std::vector<int32_t> queue = pool->FreeQueueForTest();
      ASSERT_EQ(static_cast<int64_t>(queue.size()), free);
      std::sort(queue.begin(), queue.end());
      ASSERT_TRUE(std::adjacent_find(queue.begin(), queue.end()) == queue.end());
    }
    for (auto& h : holders) pool->FreeBlocks(h);
    EXPECT_EQ(pool->num_free_blocks(), n) << "every block comes back";
  }
}

}  // namespace
}  // namespace shoal::scheduler
