// A rate ramp for `shoal bench`: one open-loop stage per request rate, in ascending
// order, each a bench::Run (runner.h) summarized by bench::Summarize (stats.h), until a
// stage breaks the SLO; it reports every stage run and the highest rate that held.
//
// A stage at rate r sends `stage_requests` requests (or, when that is 0, r times
// `stage_duration` of them, at least one), arriving at r per second, and waits for them
// to end; whatever is still in flight `drain_timeout` after the last arrival is due is
// given up (a failure), and what the concurrency cap kept from being sent by then counts
// as failed too (error "not sent" in the stage's summary). A stage breaks when fewer
// than `min_good_fraction` of its completed requests met the SLO (none completed counts
// as breaking), or when more than `max_error_fraction` of the requests it sent failed.
//
// Single-threaded like Run: it runs `io` on the calling thread, stage after stage.
#ifndef SHOAL_BENCH_LOAD_RAMP_H_
#define SHOAL_BENCH_LOAD_RAMP_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/load/request_record.h"
#include "bench/load/stats.h"
#include "bench/load/target.h"
#include "boost/asio/io_context.hpp"
#include "nlohmann/json.hpp"

namespace shoal::bench {

struct RampOptions {
  std::vector<double> rates;  // requests per second, finite, > 0, strictly ascending
  absl::Duration stage_duration = absl::Seconds(30);  // arrivals per stage: rate * this
  int64_t stage_requests = 0;                         // when > 0, requests per stage instead
  absl::Duration drain_timeout = absl::Seconds(60);   // after the last arrival is due
  Slo slo;
  double min_good_fraction = 0.9;   // of completed requests within the SLO; (0, 1]
  double max_error_fraction = 0.0;  // of sent requests failed; [0, 1)
  int64_t concurrency = 0;          // a cap on requests in flight (0: none)
  double burstiness = 1.0;          // gamma arrivals (1: Poisson)
  bool constant_arrivals = false;
  uint64_t seed = 0;  // stage i's arrivals use seed + i
  // Each stage's progress line (runner.h) and a line with its verdict (null: none).
  FILE* progress = nullptr;
  bool progress_is_terminal = false;
  absl::Status Validate() const;
};

// The requests of stage `stage` (0-based), `num_requests` of them.
using StageSpecsFactory =
    std::function<absl::StatusOr<std::vector<RequestSpec>>(size_t stage, int64_t num_requests)>;

// Stage i's specs taken from `specs` in turn, continuing where the previous stage left
// off and wrapping around; their `index` renumbered from 0 in each stage.
StageSpecsFactory CycleSpecs(std::vector<RequestSpec> specs);

struct RampStage {
  double rate = 0;
  int64_t num_requests = 0;  // sent
  Summary summary;
  double good_fraction = 0;   // good / completed (0 when none completed)
  double error_fraction = 0;  // failed / sent
  bool held = false;
  std::string reason;  // why it broke ("" when it held)
  double wall_seconds = 0;
  double loop_cpu_seconds = 0;
};

struct RampResult {
  std::vector<RampStage> stages;            // those run: up to and including the first broken one
  std::optional<double> highest_rate_held;  // absent when the first stage broke
  bool all_held = false;                    // the ramp ran out of rates before breaking
};

absl::StatusOr<RampResult> RunRamp(boost::asio::io_context& io, Target& target,
                                   const StageSpecsFactory& specs, const RampOptions& options,
                                   const RunClock& clock);

// Whether a stage's summary holds (then "") or why it broke.
std::string JudgeStage(const Summary& summary, const RampOptions& options);

// The ramp's JSON:
//   "rates", "min_good_fraction", "max_error_fraction", "highest_rate_held" (null when
//   none held), "all_held", "stages": [{"rate", "num_requests", "held", "reason",
//   "good_fraction", "error_fraction", "wall_s", "load_generator_cpu_s", "summary": (the
//   run report's summary, stats.h's ToJson)}].
nlohmann::ordered_json ToJson(const RampResult& result, const RampOptions& options);
// One line per stage (rate, requests, goodput, p50/p99 TTFT and TPOT, verdict) and the
// highest rate that held.
std::string FormatRampTable(const RampResult& result);

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_RAMP_H_
