#include "common/thread_pool.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <thread>
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

// Every loop's work lands whichever way the threads wait: a worker slower than the
// caller's spin and yield budget sends the caller to sleep on the futex, and a worker
// woken from its own sleep must see the next loop.
TEST(ThreadPoolTest, LoopsLongerThanTheSpinBudgetWakeTheSleepingCaller) {
  ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(3));
  std::vector<int> done(3, 0);
  for (int round = 0; round < 20; ++round) {
    pool->Run([&](int thread, int) {
      if (thread == 2) std::this_thread::sleep_for(std::chrono::milliseconds(3));
      ++done[thread];
    });
    // Long enough between loops for the workers to fall asleep too.
    if (round % 2 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_THAT(done, ::testing::ElementsAre(20, 20, 20));
}

// More threads than CPUs (a container's CPU limit): the threads must hand the one CPU
// to each other rather than spin against each other; the results must still be right.
TEST(ThreadPoolTest, MoreThreadsThanCpusStillSeeEachOthersWrites) {
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof(original), &original), 0);
  cpu_set_t one_cpu;
  CPU_ZERO(&one_cpu);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &original)) {
      CPU_SET(cpu, &one_cpu);
      break;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(one_cpu), &one_cpu), 0);
  {
    // Created after pinning, so the workers inherit the single CPU.
    ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(4));
    std::vector<int64_t> a(64, 0), b(64, 0);
    for (int round = 0; round < 2000; ++round) {
      pool->ParallelFor(64, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) b[i] = a[63 - i] + 1;
      });
      std::swap(a, b);
    }
    for (int64_t v : a) EXPECT_EQ(v, 2000);
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(original), &original), 0);
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
