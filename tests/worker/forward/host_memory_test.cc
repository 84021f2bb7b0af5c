// How a CPU worker sizes its KV cache (worker/forward/host_memory.h and
// KvBlocksForReplica / KvBlocksInBudget in forward_engine.h): /proc/meminfo and cgroup
// files parsed exactly, the replica's need (sequences × context plus the prefix-cache
// share) capping what the memory fraction allows, and a cache committed at creation.
#include "worker/forward/host_memory.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"
#include "worker/forward/forward_engine.h"

namespace shoal::worker {
namespace {

TEST(HostMemoryTest, ParsesMemAvailableInKibibytes) {
  EXPECT_EQ(ParseMemAvailable("MemTotal:       24576000 kB\nMemFree:  100 kB\n"
                              "MemAvailable:   20000000 kB\nBuffers: 1 kB\n"),
            int64_t{20000000} * 1024);
  EXPECT_EQ(ParseMemAvailable("MemTotal: 5 kB\n"), std::nullopt);
  EXPECT_EQ(ParseMemAvailable("MemAvailable: lots\n"), std::nullopt);
}

TEST(HostMemoryTest, ParsesCgroupLimitsAndTreatsMaxAsNoLimit) {
  EXPECT_EQ(ParseCgroupBytes("4294967296\n"), int64_t{4294967296});
  EXPECT_EQ(ParseCgroupBytes("max\n"), std::nullopt);
  EXPECT_EQ(ParseCgroupBytes("9223372036854771712\n"), std::nullopt) << "cgroup v1's no limit";
  EXPECT_EQ(ParseCgroupBytes("12abc"), std::nullopt);
  EXPECT_EQ(ParseCgroupBytes(""), std::nullopt);
}

TEST(HostMemoryTest, FindsThisProcesssCgroupPath) {
  const std::string hybrid =
      "9:name=systemd:/\n4:memory:/process_api/d6bb\n1:cpu,cpuacct:/\n0::/\n";
  EXPECT_EQ(ParseCgroupPath(hybrid, /*v2=*/false), "process_api/d6bb");
  EXPECT_EQ(ParseCgroupPath(hybrid, /*v2=*/true), "");
  EXPECT_EQ(ParseCgroupPath("0::/kubepods/pod1/c2\n", /*v2=*/true), "kubepods/pod1/c2");
  EXPECT_EQ(ParseCgroupPath("0::/kubepods/pod1/c2\n", /*v2=*/false), std::nullopt);
  EXPECT_EQ(ParseCgroupPath("5:cpu,memory:/a\n", /*v2=*/false), "a");
  EXPECT_EQ(ParseCgroupPath("5:memoryx:/a\n", /*v2=*/false), std::nullopt);
}

TEST(HostMemoryTest, ReadsThisMachine) {
  const HostMemory memory = ReadHostMemory();
  EXPECT_GT(memory.total_bytes, int64_t{64} << 20);
  EXPECT_GT(memory.available_bytes, 0);
  EXPECT_LE(memory.available_bytes, memory.total_bytes);
}

TEST(KvSizingTest, AReplicaWantsItsSequencesFullContextsPlusThePrefixCacheShare) {
  // 8 sequences of 2048 tokens in blocks of 16: 1024 blocks, and half as much again.
  EXPECT_EQ(KvBlocksForReplica(8, 2048, 16), 1536);
  EXPECT_EQ(KvBlocksForReplica(1, 17, 16), 3) << "2 blocks per sequence, 3 with the share";
}

// Blocks of 1 MiB in 16 GiB of memory of which 1 GiB is used: 7 GiB at a fraction of 0.5.
int64_t Blocks(const KvBudget& budget) {
  const int64_t gib = int64_t{1} << 30;
  absl::StatusOr<int64_t> blocks = KvBlocksInBudget(budget, 1 << 20, 16 * gib, gib, "CPU");
  EXPECT_TRUE(blocks.ok()) << blocks.status();
  return blocks.value_or(-1);
}

TEST(KvSizingTest, TheReplicasNeedCapsWhatTheMemoryFractionAllows) {
  KvBudget budget{.memory_fraction = 0.5, .wanted_blocks = 1000};
  EXPECT_EQ(Blocks(budget), 1000);
  budget.wanted_blocks = 0;  // no need stated: all the fraction allows
  EXPECT_EQ(Blocks(budget), 7 * 1024);
  budget.wanted_blocks = 100000;  // more than memory allows: memory wins
  EXPECT_EQ(Blocks(budget), 7 * 1024);
  budget.max_blocks = 10;
  EXPECT_EQ(Blocks(budget), 10);
}

// The process's current resident size (VmRSS), not its peak.
int64_t ResidentKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoll(line.substr(6));
  }
  ADD_FAILURE() << "no VmRSS in /proc/self/status";
  return 0;
}

// The engine's KV cache is resident as soon as the engine exists, so the process does
// not grow as requests first write its blocks.
TEST(KvSizingTest, TheKvCacheIsCommittedWhenTheEngineIsCreated) {
  auto model = model::ModelFile::Open(::shoal::testing::TestModelPath("llama", "f32"));
  ASSERT_TRUE(model.ok()) << model.status();
  const int64_t before = ResidentKib();
  auto engine = CreateForwardEngine(
      **model, {.threads = 1, .kv = {.exact_blocks = 4096, .max_blocks = 0}});
  ASSERT_TRUE(engine.ok()) << engine.status();
  const int64_t kv_bytes = (*engine)->kv_cache_bytes();
  ASSERT_GT(kv_bytes, int64_t{16} << 20) << "large enough to see in the resident size";
  EXPECT_GE(ResidentKib() - before, kv_bytes / 1024 * 9 / 10)
      << "the KV cache's pages were not committed at creation";
}

}  // namespace
}  // namespace shoal::worker
