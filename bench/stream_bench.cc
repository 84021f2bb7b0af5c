// STREAM-like triad a[i] = b[i] + s·c[i] over arrays much larger than the caches: the
// machine's sustainable memory bandwidth, the ceiling for decode (which reads every
// weight once per token). Reports the best of several repetitions for 1..N threads.
//
//   build/bench/stream_bench [--mib 1536] [--reps 10] [--threads 2]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/thread_pool.h"

namespace {

struct Options {
  int64_t mib = 1536;  // per array; three arrays
  int reps = 10;
  int threads = 2;
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const long value = std::strtol(argv[i + 1], nullptr, 10);
    if (flag == "--mib") o.mib = value;
    else if (flag == "--reps") o.reps = static_cast<int>(value);
    else if (flag == "--threads") o.threads = static_cast<int>(value);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = Parse(argc, argv);
  const int64_t n = options.mib * (1 << 20) / sizeof(float);
  std::unique_ptr<float[]> a(new float[n]), b(new float[n]), c(new float[n]);
  std::printf("triad over 3 arrays of %lld MiB\n", static_cast<long long>(options.mib));
  std::printf("threads  best GB/s  median GB/s\n");
  for (int threads = 1; threads <= options.threads; ++threads) {
    auto pool = shoal::ThreadPool::Create(threads);
    if (!pool.ok()) return 1;
    // First touch from the threads that will use the memory.
    (*pool)->ParallelFor(n, 1 << 16, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        a[i] = 0.0f;
        b[i] = 1.0f;
        c[i] = 2.0f;
      }
    });
    std::vector<double> rates;
    for (int rep = 0; rep < options.reps; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      (*pool)->ParallelFor(n, 1 << 16, [&](int64_t lo, int64_t hi) {
        float* __restrict pa = a.get();
        const float* __restrict pb = b.get();
        const float* __restrict pc = c.get();
        for (int64_t i = lo; i < hi; ++i) pa[i] = pb[i] + 3.0f * pc[i];
      });
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rates.push_back(3.0 * n * sizeof(float) / seconds / 1e9);  // bytes read + written
    }
    std::sort(rates.begin(), rates.end());
    std::printf("%7d  %9.1f  %11.1f\n", threads, rates.back(), rates[rates.size() / 2]);
  }
  return a[n / 2] == 7.0f ? 0 : 1;  // keeps the stores observable
}
