// The target's Prometheus metrics around a `shoal bench` run: scraped once before and
// once after (never on the hot path), parsed from the text exposition format, and
// compared into what matters for a serving run: the prefix-cache hit rate over the run,
// preemptions, mean queue / prefill / decode time, requests finished by reason and the
// router's request count. Names are Shoal's (scheduler/engine_metrics.cc,
// router/router_metrics.cc), which are vLLM v1's where vLLM has one; llama.cpp's
// llama-server exports other names (`llamacpp:*`), so most fields are absent there, and
// an absent field is reported as absent, never as zero.
#ifndef SHOAL_BENCH_LOAD_METRICS_SCRAPE_H_
#define SHOAL_BENCH_LOAD_METRICS_SCRAPE_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace shoal::bench {

// GETs http://host:port/path synchronously (its own io_context, on the calling thread)
// and returns the body of a 200 response. Errors: DeadlineExceeded when the whole
// exchange (resolve, connect, request, response) takes longer than `timeout`;
// NotFound for a 404 (the server exports no metrics there); Unavailable for a refused
// connection, another non-200 status or a broken response.
absl::StatusOr<std::string> FetchMetrics(const std::string& host, int port,
                                         const std::string& path = "/metrics",
                                         absl::Duration timeout = absl::Seconds(10));

// A scrape: series key -> value. The key is the metric name and, when it has labels,
// its labels sorted by name and re-escaped: `name{a="x",b="y\"z"}`, so the same series
// has the same key whatever order the server wrote its labels in. Comments (`# HELP`,
// `# TYPE`, `# EOF`, others) and blank lines are skipped; values may be floats, +Inf,
// -Inf or NaN; an optional timestamp after the value is ignored; CRLF line ends are
// accepted. A line that does not parse is skipped (a scrape is a report's extra, not a
// reason to fail a run); a repeated key keeps its last value.
using MetricsSnapshot = std::map<std::string, double>;
MetricsSnapshot ParsePrometheusText(std::string_view text);

// The mean of a histogram's observations over the run: delta(_sum) / delta(_count).
struct MeanDelta {
  double count = 0;            // observations during the run
  std::optional<double> mean;  // seconds; absent when nothing was observed
};

// What changed between two scrapes, each counter summed over its label sets (a series
// whose value went down, a server restart, counts from zero: its delta is its value
// after, and `counter_reset` is set). Every std::optional is absent when the server
// does not export that metric.
struct MetricsDelta {
  // Prompt tokens looked up in / found in the prefix cache (Shoal's and vLLM's
  // `vllm:prefix_cache_queries_total` / `vllm:prefix_cache_hits_total`), and hits /
  // queries (absent when there were no queries).
  std::optional<double> prefix_cache_queries, prefix_cache_hits, prefix_cache_hit_rate;
  std::optional<double> preemptions;  // vllm:num_preemptions_total
  // vllm:prompt_tokens_total and vllm:generation_tokens_total, or llama-server's
  // llamacpp:prompt_tokens_total and llamacpp:tokens_predicted_total.
  std::optional<double> prompt_tokens, generation_tokens;
  std::optional<MeanDelta> queue_time;    // vllm:request_queue_time_seconds
  std::optional<MeanDelta> prefill_time;  // vllm:request_prefill_time_seconds
  std::optional<MeanDelta> decode_time;   // vllm:request_decode_time_seconds
  // vllm:request_success_total by its finished_reason label ("stop", "length",
  // "abort", "error").
  std::optional<std::map<std::string, double>> finished_by_reason;
  // shoal_router_requests_total: in all, and by its code label ("200", "429", ...);
  // API requests only (the /metrics, /health and /ready routes are left out, so the
  // scrapes around a run do not count).
  std::optional<double> router_requests;
  std::optional<std::map<std::string, double>> router_requests_by_code;
  bool counter_reset = false;
};

MetricsDelta Compare(const MetricsSnapshot& before, const MetricsSnapshot& after);

// The report's "server_metrics" object, fields in this order (absent ones null):
//   "prefix_cache_queries", "prefix_cache_hits", "prefix_cache_hit_rate", "preemptions",
//   "prompt_tokens", "generation_tokens", "queue_time_s", "prefill_time_s",
//   "decode_time_s" (each {"count", "mean"}), "finished_by_reason": {reason: n},
//   "router_requests", "router_requests_by_code": {code: n}, "counter_reset".
nlohmann::ordered_json ToJson(const MetricsDelta& delta);
// A few lines for the terminal ("-" for what the server does not export; times in ms).
std::string FormatMetricsTable(const MetricsDelta& delta);

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_METRICS_SCRAPE_H_
