#include "common/thread_pool.h"

#include "absl/memory/memory.h"
#include "fmt/format.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace shoal {
namespace {

// About 50 µs of spinning before sleeping: long enough to span the gap between the
// ops of one forward pass, short enough not to burn a core between requests.
constexpr int kSpinIterations = 20000;

inline void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

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
  while (pending_.load(std::memory_order_acquire) != 0) CpuRelax();
}

void ThreadPool::WorkerLoop(int thread) {
  uint32_t seen = 0;
  while (true) {
    uint32_t current = generation_.load(std::memory_order_acquire);
    for (int spin = 0; current == seen && spin < kSpinIterations; ++spin) {
      CpuRelax();
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
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace shoal
