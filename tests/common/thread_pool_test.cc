#include "common/thread_pool.h"

#include <atomic>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal {
namespace {

TEST(ThreadPoolTest, RunCallsEveryThreadOnce) {
  ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(4));
  std::vector<std::atomic<int>> calls(4);
  pool->Run([&](int thread, int n) {
    EXPECT_EQ(n, 4);
    calls[thread].fetch_add(1);
  });
  for (auto& c : calls) EXPECT_EQ(c.load(), 1);
}

TEST(ThreadPoolTest, ParallelForCoversTheRangeExactlyOnce) {
  ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(3));
  for (int64_t n : {0, 1, 2, 3, 7, 100, 1001}) {
    std::vector<std::atomic<int>> hits(n);
    pool->ParallelFor(n, /*grain=*/2, [&](int64_t begin, int64_t end) {
      EXPECT_LE(begin, end);
      for (int64_t i = begin; i < end; ++i) hits[i].fetch_add(1);
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(ThreadPoolTest, ManyBackToBackLoopsSeeEachOthersWrites) {
  ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(2));
  std::vector<int64_t> a(64, 0), b(64, 0);
  for (int round = 0; round < 20000; ++round) {
    // Each loop reads, mirrored, what the previous loop wrote (half of it on the other
    // thread): a missing happens-before edge between loops shows up as a lost increment.
    pool->ParallelFor(64, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) b[i] = a[63 - i] + 1;
    });
    std::swap(a, b);
  }
  for (int64_t v : a) ASSERT_EQ(v, 20000);
}

TEST(ThreadPoolTest, SingleThreadRunsInline) {
  ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(1));
  int calls = 0;
  pool->Run([&](int thread, int n) {
    EXPECT_EQ(thread, 0);
    EXPECT_EQ(n, 1);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPoolTest, RejectsBadThreadCounts) {
  EXPECT_FALSE(ThreadPool::Create(0).ok());
  EXPECT_FALSE(ThreadPool::Create(5000).ok());
}

}  // namespace
}  // namespace shoal
