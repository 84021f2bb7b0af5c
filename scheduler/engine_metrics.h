// The engine's Prometheus metrics, named like vLLM's where the meaning is the same so
// dashboards carry over (vllm:num_requests_running, vllm:time_to_first_token_seconds,
// ...), Shoal's own as shoal_scheduler_<noun>_<unit>. Families are created once, at
// start-up, in the process's registry; every metric carries the model name. Counter
// names carry their _total suffix themselves (prometheus-cpp does not add it).
#ifndef SHOAL_SCHEDULER_ENGINE_METRICS_H_
#define SHOAL_SCHEDULER_ENGINE_METRICS_H_

#include <string>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "scheduler/request.h"

namespace shoal::scheduler {

struct EngineMetrics {
  EngineMetrics(prometheus::Registry& registry, const std::string& model_name);

  // Gauges, set after every step.
  prometheus::Gauge& num_requests_running;
  prometheus::Gauge& num_requests_waiting;
  prometheus::Gauge& num_requests_preempted;  // waiting to be recomputed
  prometheus::Gauge& kv_cache_usage;          // 0..1
  // Counters.
  prometheus::Counter& prefix_cache_queries;  // tokens looked up
  prometheus::Counter& prefix_cache_hits;     // tokens found
  prometheus::Counter& prompt_tokens;
  prometheus::Counter& generation_tokens;
  prometheus::Counter& preemptions;
  prometheus::Counter& admissions;  // waiting → running (first time or resumed)
  prometheus::Counter& steps;
  prometheus::Counter& overload_rejections;  // refused at Submit, queue full
  prometheus::Gauge& kv_cache_bytes;          // set once at start
  // Histograms (seconds unless noted).
  prometheus::Histogram& time_to_first_token;
  prometheus::Histogram& inter_token_latency;
  prometheus::Histogram& queue_time;
  prometheus::Histogram& prefill_time;
  prometheus::Histogram& decode_time;
  prometheus::Histogram& e2e_latency;
  prometheus::Histogram& iteration_tokens;  // tokens per step
  prometheus::Histogram& step_time;
  prometheus::Histogram& step_overhead;  // step time outside the workers' forward pass

  // Finished requests by reason (vllm:request_success_total{finished_reason}).
  prometheus::Counter& Finished(RequestStatus status);

 private:
  prometheus::Family<prometheus::Counter>& finished_family_;
  prometheus::Counter& finished_stop_;
  prometheus::Counter& finished_length_;
  prometheus::Counter& finished_abort_;
  prometheus::Counter& finished_error_;
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_ENGINE_METRICS_H_
