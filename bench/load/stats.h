// The statistics of a `shoal bench` run, as vLLM's `bench serve` reports them: request
// and token throughput, time to first token (TTFT), time per output token after the
// first (TPOT), inter-token latency (ITL: the gaps between a stream's successive
// chunks), end-to-end latency, their percentiles, goodput under an SLO, errors by kind,
// and the same per tenant. Pure functions over finished RequestRecords.
#ifndef SHOAL_BENCH_LOAD_STATS_H_
#define SHOAL_BENCH_LOAD_STATS_H_

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/load/request_record.h"
#include "nlohmann/json.hpp"

namespace shoal::bench {

// A request is "good" when it succeeded and met every bound (seconds).
struct Slo {
  double ttft = std::numeric_limits<double>::infinity();
  double tpot = std::numeric_limits<double>::infinity();
  double e2e = std::numeric_limits<double>::infinity();
  bool empty() const;
};

// "ttft=2,tpot=150ms,e2e=30s": seconds, or with an "ms" or "s" suffix. InvalidArgument
// for an unknown key, a bad number or a non-positive bound.
absl::StatusOr<Slo> ParseSlo(std::string_view text);

struct Distribution {
  int64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};
// Percentiles by linear interpolation between closest ranks (numpy's default, which
// vLLM's report uses). All zero for no values.
Distribution Distribute(std::vector<double> values);

struct Summary {
  int64_t requests = 0;   // sent
  int64_t completed = 0;  // Outcome::kOk
  int64_t failed = 0;
  // "http 429", "grpc 14", "timeout", "disconnect": counts.
  std::map<std::string, int64_t> errors;
  double duration = 0;  // seconds: as given to Summarize, else first send to last end
  int64_t prompt_tokens = 0, output_tokens = 0, cached_prompt_tokens = 0;
  double requests_per_s = 0, output_tokens_per_s = 0, total_tokens_per_s = 0;
  // Seconds, of completed requests. As vLLM counts them: TTFT of those that produced a
  // token; TPOT of those with more than one output token; ITL pooled over every gap
  // between successive token chunks of every completed request.
  Distribution ttft, tpot, itl, e2e;
  // Completed within every SLO bound (inclusive). As in vLLM's goodput, a one-token
  // request's TPOT counts as 0; a request with no token meets no finite TTFT bound.
  int64_t good = 0;
  double goodput = 0;  // good requests per second
  // When any record has a tenant: one summary per tenant (records without one under
  // ""), over the whole run's duration so the tenants' rates add up.
  std::map<std::string, Summary> tenants;
  // When any record has a turn (multi-turn workloads): one summary per turn number, so a
  // cold first turn and the warm turns after it can be told apart.
  std::map<int32_t, Summary> turns;
};

// `duration`: the run's wall time (seconds); 0: from the records (first start to last
// end).
Summary Summarize(const std::vector<RequestRecord>& records, const Slo& slo, double duration = 0);

// The report's JSON, the documented fields of `shoal bench --json`, in this order (times
// in seconds, rates per second):
//   "requests", "completed", "failed", "errors": {"http 429": n, ...}, "duration_s",
//   "prompt_tokens", "output_tokens", "cached_prompt_tokens", "requests_per_s",
//   "output_tokens_per_s", "total_tokens_per_s", "ttft_s", "tpot_s", "itl_s", "e2e_s"
//   (each {"mean", "p50", "p90", "p95", "p99", "max", "count"}), "good",
//   "goodput_requests_per_s", "tenants": {name: {the same fields but "tenants" and
//   "turns"}} ({} when no record has a tenant; records without one are under ""), and
//   "turns": {"1": {the same}, ...} ({} when no record has a turn).
nlohmann::ordered_json ToJson(const Summary& summary);
// The final table, for a terminal (times in milliseconds).
std::string FormatTable(const Summary& summary, const Slo& slo);

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_STATS_H_
