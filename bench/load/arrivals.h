// When an open-loop run sends its requests, as vLLM's `bench serve` does: a Poisson
// process at `rate` requests per second (exponential gaps), or gamma-distributed gaps
// with shape `burstiness` and the same mean (below 1 burstier, above 1 more regular; 1
// is Poisson), or constant gaps; an infinite rate sends everything at once. Seeded, so
// a run's schedule is reproducible.
#ifndef SHOAL_BENCH_LOAD_ARRIVALS_H_
#define SHOAL_BENCH_LOAD_ARRIVALS_H_

#include <cstdint>
#include <random>

#include "absl/status/statusor.h"

namespace shoal::bench {

struct ArrivalOptions {
  double rate = 1.0;  // requests per second; infinity: no gaps
  double burstiness = 1.0;  // gamma shape (> 0)
  bool constant = false;    // fixed gaps of 1/rate instead of random ones
  uint64_t seed = 0;
};

class ArrivalSchedule {
 public:
  // InvalidArgument for a rate <= 0 or NaN, or burstiness <= 0.
  static absl::StatusOr<ArrivalSchedule> Create(const ArrivalOptions& options);

  // Seconds from the previous arrival to the next (0 for an infinite rate).
  double NextGap();

 private:
  explicit ArrivalSchedule(const ArrivalOptions& options);

  ArrivalOptions options_;
  std::mt19937_64 rng_;
  std::gamma_distribution<double> gamma_;
};

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_ARRIVALS_H_
