#include "scheduler/engine_metrics.h"

#include <vector>

namespace shoal::scheduler {
namespace {

using prometheus::Histogram;

// Latency buckets from 1 ms to 5 minutes; vLLM's TTFT/ITL buckets span the same range.
Histogram::BucketBoundaries LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25, 0.5,
          0.75,  1.0,    2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160., 320.};
}

Histogram::BucketBoundaries TokenBuckets() {
  return {1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
}

prometheus::Gauge& MakeGauge(prometheus::Registry& r, const std::string& name,
                             const std::string& help, const prometheus::Labels& labels) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add(labels);
}

prometheus::Counter& MakeCounter(prometheus::Registry& r, const std::string& name,
                                 const std::string& help, const prometheus::Labels& labels) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add(labels);
}

Histogram& MakeHistogram(prometheus::Registry& r, const std::string& name, const std::string& help,
                         const prometheus::Labels& labels, Histogram::BucketBoundaries buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add(labels, buckets);
}

}  // namespace

EngineMetrics::EngineMetrics(prometheus::Registry& r, const std::string& model_name)
    : num_requests_running(MakeGauge(r, "vllm:num_requests_running",
                                     "Requests in the running batch.", {{"model_name", model_name}})),
      num_requests_waiting(MakeGauge(r, "vllm:num_requests_waiting",
                                     "Requests waiting to be scheduled.",
                                     {{"model_name", model_name}})),
      num_requests_preempted(MakeGauge(r, "shoal_scheduler_preempted_requests",
                                       "Waiting requests that were preempted and will be recomputed.",
                                       {{"model_name", model_name}})),
      kv_cache_usage(MakeGauge(r, "vllm:kv_cache_usage_perc",
                               "Fraction of KV cache blocks in use (1 = full).",
                               {{"model_name", model_name}})),
      prefix_cache_queries(MakeCounter(r, "vllm:prefix_cache_queries_total",
                                       "Prompt tokens looked up in the prefix cache.",
                                       {{"model_name", model_name}})),
      prefix_cache_hits(MakeCounter(r, "vllm:prefix_cache_hits_total",
                                    "Prompt tokens found in the prefix cache.",
                                    {{"model_name", model_name}})),
      prompt_tokens(MakeCounter(r, "vllm:prompt_tokens_total", "Prompt tokens admitted.",
                                {{"model_name", model_name}})),
      generation_tokens(MakeCounter(r, "vllm:generation_tokens_total", "Tokens generated.",
                                    {{"model_name", model_name}})),
      preemptions(MakeCounter(r, "vllm:num_preemptions_total", "Preemptions (recompute).",
                              {{"model_name", model_name}})),
      admissions(MakeCounter(r, "shoal_scheduler_admissions_total",
                             "Requests moved from waiting to running (first or resumed).",
                             {{"model_name", model_name}})),
      steps(MakeCounter(r, "shoal_scheduler_steps_total", "Engine steps run.", {{"model_name", model_name}})),
      overload_rejections(MakeCounter(r, "shoal_scheduler_overload_rejections_total",
                                      "Requests refused at submission because the waiting "
                                      "queue was full (RESOURCE_EXHAUSTED with retry-after).",
                                      {{"model_name", model_name}})),
      kv_cache_bytes(MakeGauge(r, "shoal_scheduler_kv_cache_bytes",
                               "Bytes of KV cache the replica's workers hold, committed at start.",
                               {{"model_name", model_name}})),
      time_to_first_token(MakeHistogram(r, "vllm:time_to_first_token_seconds",
                                        "Arrival to first token.", {{"model_name", model_name}},
                                        LatencyBuckets())),
      inter_token_latency(MakeHistogram(r, "vllm:inter_token_latency_seconds",
                                        "Time between consecutive tokens of a request.",
                                        {{"model_name", model_name}}, LatencyBuckets())),
      queue_time(MakeHistogram(r, "vllm:request_queue_time_seconds",
                               "Arrival to first scheduled.", {{"model_name", model_name}},
                               LatencyBuckets())),
      prefill_time(MakeHistogram(r, "vllm:request_prefill_time_seconds",
                                 "First scheduled to first token.", {{"model_name", model_name}},
                                 LatencyBuckets())),
      decode_time(MakeHistogram(r, "vllm:request_decode_time_seconds",
                                "First token to last token.", {{"model_name", model_name}},
                                LatencyBuckets())),
      e2e_latency(MakeHistogram(r, "vllm:e2e_request_latency_seconds", "Arrival to finish.",
                                {{"model_name", model_name}}, LatencyBuckets())),
      iteration_tokens(MakeHistogram(r, "vllm:iteration_tokens_total", "Tokens per engine step.",
                                     {{"model_name", model_name}}, TokenBuckets())),
      step_time(MakeHistogram(r, "shoal_scheduler_step_seconds", "Wall time of one engine step.",
                              {{"model_name", model_name}}, LatencyBuckets())),
      step_overhead(MakeHistogram(r, "shoal_scheduler_step_overhead_seconds",
                                  "Step time outside the workers' forward pass and sampling.",
                                  {{"model_name", model_name}}, LatencyBuckets())),
      finished_family_(prometheus::BuildCounter()
                           .Name("vllm:request_success_total")
                           .Help("Finished requests by reason.")
                           .Register(r)),
      finished_stop_(finished_family_.Add({{"model_name", model_name}, {"finished_reason", "stop"}})),
      finished_length_(
          finished_family_.Add({{"model_name", model_name}, {"finished_reason", "length"}})),
      finished_abort_(
          finished_family_.Add({{"model_name", model_name}, {"finished_reason", "abort"}})),
      finished_error_(
          finished_family_.Add({{"model_name", model_name}, {"finished_reason", "error"}})) {}

prometheus::Counter& EngineMetrics::Finished(RequestStatus status) {
  switch (status) {
    case RequestStatus::kFinishedStopped: return finished_stop_;
    case RequestStatus::kFinishedLength: return finished_length_;
    case RequestStatus::kFinishedCancelled:
    case RequestStatus::kFinishedAborted: return finished_abort_;
    default: return finished_error_;
  }
}

}  // namespace shoal::scheduler
