// The run loop of `shoal bench`: sends a workload's requests to a target in a closed
// loop (a fixed number in flight: --concurrency) or an open loop (arrivals at
// --request-rate, Poisson, gamma or constant, optionally also capped at --concurrency,
// like vLLM's --max-concurrency), until every request has ended or --duration is over
// (the ones in flight are then given up). Single-threaded: it runs the io_context the
// targets use on the calling thread. Prints a progress line while it runs.
//
// Sessions: a spec whose `after` names an earlier spec is sent only once that one has
// ended (however it ended), on top of the concurrency cap and, in an open loop, its own
// arrival. Ready specs go out in order; a spec that waits does not hold up later ones
// that are ready.
#ifndef SHOAL_BENCH_LOAD_RUNNER_H_
#define SHOAL_BENCH_LOAD_RUNNER_H_

#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/load/arrivals.h"
#include "bench/load/request_record.h"
#include "bench/load/target.h"
#include "boost/asio/io_context.hpp"

namespace shoal::bench {

struct RunOptions {
  // Requests in flight at most; 0: no cap (an open loop must then have a finite rate).
  int64_t concurrency = 0;
  // Open loop when finite: arrivals per second.
  double request_rate = std::numeric_limits<double>::infinity();
  double burstiness = 1.0;
  bool constant_arrivals = false;
  uint64_t seed = 0;
  absl::Duration duration = absl::InfiniteDuration();  // then in-flight requests are cancelled
  // Progress: a line every `progress_interval` to `progress` (null: none); rewritten in
  // place (carriage return) when `progress_is_terminal`.
  FILE* progress = nullptr;
  bool progress_is_terminal = false;
  absl::Duration progress_interval = absl::Seconds(1);
  absl::Status Validate() const;
};

struct RunResult {
  std::vector<RequestRecord> records;  // in the order they ended
  double wall_seconds = 0;
  double loop_cpu_seconds = 0;  // CPU time of the thread that ran the loop
};

// Sends `specs` (all of them, in order as they become ready, unless the duration ends the
// run first). InvalidArgument for bad options or a spec whose `after` is not the
// position of an earlier spec in `specs`.
absl::StatusOr<RunResult> Run(boost::asio::io_context& io, Target& target,
                              const std::vector<RequestSpec>& specs, const RunOptions& options,
                              const RunClock& clock);

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_RUNNER_H_
