// vLLM's `bench serve` draws every gap from gamma(shape = burstiness, scale = 1 / (rate *
// burstiness)), whose mean is 1 / rate for any shape; shape 1 is the exponential, so
// the default is a Poisson process. We do the same.
#include "bench/load/arrivals.h"

#include <cmath>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace shoal::bench {

absl::StatusOr<ArrivalSchedule> ArrivalSchedule::Create(const ArrivalOptions& options) {
  // Written as !(x > 0) so that NaN is refused too.
  if (!(options.rate > 0)) {
    return absl::InvalidArgumentError(
        fmt::format("request rate must be positive (or inf), got {}", options.rate));
  }
  if (!(options.burstiness > 0) || std::isinf(options.burstiness)) {
    return absl::InvalidArgumentError(
        fmt::format("burstiness must be positive and finite, got {}", options.burstiness));
  }
  if (options.constant && options.burstiness != 1.0) {
    return absl::InvalidArgumentError(
        fmt::format("constant arrivals have no burstiness, got {}", options.burstiness));
  }
  return ArrivalSchedule(options);
}

// An infinite rate never draws; the gamma gets a valid placeholder scale rather than 0.
ArrivalSchedule::ArrivalSchedule(const ArrivalOptions& options)
    : options_(options),
      rng_(options.seed),
      gamma_(options.burstiness,
             std::isinf(options.rate) ? 1.0 : 1.0 / (options.rate * options.burstiness)) {}

double ArrivalSchedule::NextGap() {
  if (std::isinf(options_.rate)) return 0;
  if (options_.constant) return 1.0 / options_.rate;
  return gamma_(rng_);
}

}  // namespace shoal::bench
