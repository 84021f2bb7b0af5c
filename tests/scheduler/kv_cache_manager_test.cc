// KvCacheManager (scheduler/kv_cache_manager.h): prefix hits only for identical
// prefixes (and salts), the last prompt token always recomputed, allocation that fails
// without side effects, and blocks freed tail first.
#include "scheduler/kv_cache_manager.h"

#include <numeric>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shoal::scheduler {
namespace {

using ::testing::ElementsAre;

std::unique_ptr<KvCacheManager> MakeManager(int64_t num_blocks, int64_t block_size = 4) {
  auto kv = KvCacheManager::Create(
      {.num_blocks = num_blocks, .block_size = block_size, .model_key = "test"});
  EXPECT_TRUE(kv.ok());
  return std::move(*kv);
}

Request MakeRequest(std::vector<int32_t> prompt, std::string salt = "") {
  Request r;
  r.prompt_token_ids = prompt;
  r.all_token_ids = std::move(prompt);
  r.cache_salt = std::move(salt);
  return r;
}

std::vector<int32_t> Range(int32_t first, int32_t n) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

// Runs a request's whole prompt in one step, then frees it (its blocks stay cached).
void RunAndFree(KvCacheManager& kv, Request& r) {
  ASSERT_TRUE(kv.AllocateSlots(r, r.num_tokens()));
  r.num_computed_tokens = r.num_tokens();
  kv.CacheComputedBlocks(r);
  kv.Free(r);
}

TEST(KvCacheManagerTest, SecondRequestReusesTheCachedPrefix) {
  auto kv = MakeManager(11);
  Request a = MakeRequest(Range(100, 3 * 4 + 3));  // 3 full blocks + 3 tokens
  ASSERT_TRUE(kv->AllocateSlots(a, a.num_tokens()));
  EXPECT_THAT(a.block_ids, ElementsAre(0, 1, 2, 3));
  EXPECT_EQ(a.num_cached_blocks, 0) << "nothing is cached before the step ran";
  a.num_computed_tokens = a.num_tokens();
  kv->CacheComputedBlocks(a);
  EXPECT_EQ(a.num_cached_blocks, 3);
  kv->Free(a);

  std::vector<int32_t> prompt = Range(100, 3 * 4);
  prompt.push_back(7);
  prompt.push_back(8);
  Request b = MakeRequest(prompt);
  const PrefixHit hit = kv->FindCachedPrefix(b);
  EXPECT_THAT(hit.blocks, ElementsAre(0, 1, 2));
  EXPECT_EQ(hit.num_tokens, 12);
  ASSERT_TRUE(kv->AllocateSlots(b, b.num_tokens() - hit.num_tokens, &hit));
  EXPECT_EQ(b.num_computed_tokens, 12);
  EXPECT_EQ(b.block_ids.size(), 4u);
  EXPECT_EQ(kv->pool().ref_count(0), 1);
}

TEST(KvCacheManagerTest, BlocksAreCachedOnlyOnceTheirTokensAreComputed) {
  auto kv = MakeManager(8);
  Request a = MakeRequest(Range(0, 16));
  ASSERT_TRUE(kv->AllocateSlots(a, 16));
  a.num_computed_tokens = 6;  // the step computed one full block and part of another
  kv->CacheComputedBlocks(a);
  EXPECT_EQ(a.num_cached_blocks, 1);
  // Given back before the rest ran (preempted in the same step): only block 0 is a hit.
  a.num_computed_tokens = 0;
  kv->Free(a);
  Request b = MakeRequest(Range(0, 16));
  EXPECT_EQ(kv->FindCachedPrefix(b).num_tokens, 4);
}

TEST(KvCacheManagerTest, HitsStopAtTheFirstDifferentBlock) {
  auto kv = MakeManager(16);
  Request a = MakeRequest(Range(0, 16));
  RunAndFree(*kv, a);
  std::vector<int32_t> prompt = Range(0, 16);
  prompt[5] = 999;  // block 1 differs, so blocks 2 and 3 (whose parents differ) too
  Request b = MakeRequest(prompt);
  EXPECT_EQ(kv->FindCachedPrefix(b).num_tokens, 4);
  prompt = Range(0, 16);
  prompt[0] = 999;
  Request c = MakeRequest(prompt);
  EXPECT_EQ(kv->FindCachedPrefix(c).num_tokens, 0);
}

TEST(KvCacheManagerTest, TheLastTokenIsAlwaysComputed) {
  auto kv = MakeManager(8);
  Request a = MakeRequest(Range(0, 8));
  RunAndFree(*kv, a);
  Request b = MakeRequest(Range(0, 8));  // identical: 2 full blocks cached
  EXPECT_EQ(kv->FindCachedPrefix(b).num_tokens, 4) << "block 2 would leave nothing to run";
}

TEST(KvCacheManagerTest, SaltsAndModelsSeparateCaches) {
  auto kv = MakeManager(8);
  Request a = MakeRequest(Range(0, 9), "tenant-a");
  RunAndFree(*kv, a);
  Request same = MakeRequest(Range(0, 9), "tenant-a");
  EXPECT_EQ(kv->FindCachedPrefix(same).num_tokens, 8);
  Request other = MakeRequest(Range(0, 9), "tenant-b");
  EXPECT_EQ(kv->FindCachedPrefix(other).num_tokens, 0);
  auto other_model = KvCacheManager::Create({.num_blocks = 8, .block_size = 4, .model_key = "x"});
  ASSERT_TRUE(other_model.ok());
  Request c = MakeRequest(Range(0, 9), "tenant-a");
  std::vector<BlockHash> mine, theirs;
  ExtendBlockHashes(c.all_token_ids, 4, "test", "tenant-a", mine);
  ExtendBlockHashes(c.all_token_ids, 4, "x", "tenant-a", theirs);
  EXPECT_FALSE(mine[1] == theirs[1]) << "the model key is in every block's hash";
}

TEST(KvCacheManagerTest, FailedAllocationChangesNothing) {
  auto kv = MakeManager(3);
  Request a = MakeRequest(Range(0, 8));
  ASSERT_TRUE(kv->AllocateSlots(a, 8));
  Request b = MakeRequest(Range(50, 8));
  EXPECT_FALSE(kv->AllocateSlots(b, 8));
  EXPECT_TRUE(b.block_ids.empty());
  EXPECT_EQ(kv->num_free_blocks(), 1);
  // Growing a request one decode token at a time takes a block only at block ends.
  a.num_computed_tokens = 8;
  a.all_token_ids.push_back(1);
  ASSERT_TRUE(kv->AllocateSlots(a, 1));
  EXPECT_EQ(a.block_ids.size(), 3u);
  a.num_computed_tokens = 9;
  a.all_token_ids.push_back(2);
  ASSERT_TRUE(kv->AllocateSlots(a, 1));
  EXPECT_EQ(a.block_ids.size(), 3u);
}

TEST(KvCacheManagerTest, HitBlocksInTheFreeQueueCountAgainstFreeBlocks) {
  auto kv = MakeManager(3);
  Request a = MakeRequest(Range(0, 9));  // 3 blocks, 2 full
  RunAndFree(*kv, a);
  Request b = MakeRequest(Range(0, 12));
  const PrefixHit hit = kv->FindCachedPrefix(b);
  ASSERT_EQ(hit.num_tokens, 8);
  EXPECT_FALSE(kv->AllocateSlots(b, 4 + 4, &hit)) << "2 hit + 2 new blocks > 3";
  EXPECT_TRUE(kv->AllocateSlots(b, 4, &hit));
}

TEST(KvCacheManagerTest, FreeingPutsTheTailFirstInLine) {
  auto kv = MakeManager(4);
  Request a = MakeRequest(Range(0, 16));
  ASSERT_TRUE(kv->AllocateSlots(a, 16));
  a.num_computed_tokens = 16;
  kv->CacheComputedBlocks(a);
  kv->Free(a);
  EXPECT_THAT(kv->pool().FreeQueueForTest(), ElementsAre(3, 2, 1, 0))
      << "the longest prefixes are evicted first";
}

}  // namespace
}  // namespace shoal::scheduler
