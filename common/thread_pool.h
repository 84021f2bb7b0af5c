// Data-parallel loops on a fixed set of threads, for the compute path (matmuls,
// attention): one Run() per op, hundreds per decoded token, so starting a loop must
// cost microseconds. Waiting threads spin briefly, then yield, then sleep on a futex
// (see Backoff in the .cc).
//
// Owned by one compute thread: Run() must not be called concurrently or from inside a
// running loop. The calling thread takes part as thread 0.
#ifndef SHOAL_COMMON_THREAD_POOL_H_
#define SHOAL_COMMON_THREAD_POOL_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"

namespace shoal {

class ThreadPool {
 public:
  // num_threads counts the caller; 1 runs everything inline.
  static absl::StatusOr<std::unique_ptr<ThreadPool>> Create(int num_threads);
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls fn(thread, num_threads) once on every thread and returns when all are done.
  template <typename Fn>
  void Run(Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    RunErased([](void* f, int thread, int n) { (*static_cast<F*>(f))(thread, n); },
              const_cast<void*>(static_cast<const void*>(&fn)));
  }

  // Splits [0, n) into contiguous ranges of at least `grain` items, one per thread (or
  // fewer threads when n is small), and calls fn(begin, end) for each.
  template <typename Fn>
  void ParallelFor(int64_t n, int64_t grain, Fn&& fn) {
    if (n <= 0) return;
    const int64_t max_parts = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
    const int parts = static_cast<int>(std::min<int64_t>(num_threads_, max_parts));
    if (parts == 1) {
      fn(int64_t{0}, n);
      return;
    }
    Run([&](int thread, int) {
      if (thread >= parts) return;
      fn(n * thread / parts, n * (thread + 1) / parts);
    });
  }

 private:
  using Invoke = void (*)(void*, int, int);

  explicit ThreadPool(int num_threads) : num_threads_(num_threads) {}
  void RunErased(Invoke invoke, void* fn);
  void WorkerLoop(int thread);

  const int num_threads_;
  std::vector<std::thread> workers_;
  // A new loop is published by bumping generation_ after setting the task.
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};  // workers blocked (or about to block) in wait()
  std::atomic<bool> caller_sleeping_{false};  // Run() blocked (or about to) on pending_
  std::atomic<bool> stop_{false};
  Invoke invoke_ = nullptr;
  void* fn_ = nullptr;
};

}  // namespace shoal

#endif  // SHOAL_COMMON_THREAD_POOL_H_
