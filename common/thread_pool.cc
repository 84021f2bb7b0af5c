#include "common/thread_pool.h"

#include "absl/memory/memory.h"
#include "fmt/format.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace shoal {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// How a thread waits for the next loop (worker) or for the workers (caller): first a
// few microseconds of pause instructions, enough for the gap between two ops of one
// forward pass; then yields, which cost ~0.2 µs when the core has nothing else to run
// but hand it over at once when it has, so a pool with more threads than the CPUs it
// may use (a container's CPU limit, a busy laptop) does not wait a whole scheduler
// time slice per op (measured: 27x slower decode on one CPU with two threads before);
// then, after a few hundred microseconds, sleep on a futex so an idle pool burns nothing.
class Backoff {
 public:
  // False once the thread should stop spinning and sleep.
  bool Wait() {
    if (step_ >= kPauseSteps + kYieldSteps) return false;
    if (step_ < kPauseSteps) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
    ++step_;
    return true;
  }

 private:
  static constexpr int kPauseSteps = 1000;  // ~10 µs at ~10 ns per pause
  static constexpr int kYieldSteps = 1000;
  int step_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ThreadPool>> ThreadPool::Create(int num_threads) {
  if (num_threads < 1 || num_threads > 1024) {
    return absl::InvalidArgumentError(
        fmt::format("thread count must be between 1 and 1024, not {}", num_threads));
  }
  auto pool = absl::WrapUnique(new ThreadPool(num_threads));
  pool->workers_.reserve(num_threads - 1);
  for (int t = 1; t < num_threads; ++t) {
    pool->workers_.emplace_back([p = pool.get(), t] { p->WorkerLoop(t); });
  }
  return pool;
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::RunErased(Invoke invoke, void* fn) {
  if (num_threads_ == 1) {
    invoke(fn, 0, 1);
    return;
  }
  invoke_ = invoke;
  fn_ = fn;
  pending_.store(num_threads_ - 1, std::memory_order_relaxed);
  // Sequentially consistent with the sleepers' count (WorkerLoop): either a worker about
  // to sleep sees the new generation, or this sees it counted and wakes it. Spinning
  // workers need no futex call, which would cost a system call per op.
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
  invoke(fn, 0, num_threads_);
  Backoff backoff;
  while (pending_.load(std::memory_order_acquire) != 0) {
    if (backoff.Wait()) continue;
    // Same handshake as the workers' sleep: either the last worker sees the caller
    // waiting and wakes it, or the caller sees pending_ at zero and does not sleep.
    caller_sleeping_.store(true, std::memory_order_seq_cst);
    for (int left = pending_.load(std::memory_order_seq_cst); left != 0;
         left = pending_.load(std::memory_order_seq_cst)) {
      pending_.wait(left, std::memory_order_seq_cst);
    }
    caller_sleeping_.store(false, std::memory_order_relaxed);
    break;
  }
}

void ThreadPool::WorkerLoop(int thread) {
  uint32_t seen = 0;
  while (true) {
    uint32_t current = generation_.load(std::memory_order_acquire);
    for (Backoff backoff; current == seen && backoff.Wait();) {
      current = generation_.load(std::memory_order_acquire);
    }
    if (current == seen) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      if (generation_.load(std::memory_order_seq_cst) == seen) generation_.wait(seen);
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      continue;
    }
    seen = current;
    if (stop_.load(std::memory_order_relaxed)) return;
    invoke_(fn_, thread, num_threads_);
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_sleeping_.load(std::memory_order_seq_cst)) {
      pending_.notify_one();
    }
  }
}

}  // namespace shoal
