#include "router/tenant_metrics.h"

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace shoal::router {

const char* RejectionName(Rejection reason) {
  switch (reason) {
    case Rejection::kUnauthenticated:
      return "unauthenticated";
    case Rejection::kPriority:
      return "priority";
    case Rejection::kMaxTokens:
      return "max_tokens";
    case Rejection::kMaxQueued:
      return "max_queued";
    case Rejection::kRequestsPerMinute:
      return "requests_per_minute";
    case Rejection::kTokensPerMinute:
      return "tokens_per_minute";
  }
  return "other";
}

TenantMetrics::TenantMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("shoal_router_tenant_requests_total")
                    .Help("Generation requests admitted, per tenant")
                    .Register(registry)),
      rejections_(prometheus::BuildCounter()
                      .Name("shoal_router_tenant_rejections_total")
                      .Help("Generation requests refused at the router, per tenant and reason")
                      .Register(registry)),
      prompt_tokens_(prometheus::BuildCounter()
                         .Name("shoal_router_tenant_prompt_tokens_total")
                         .Help("Prompt tokens of admitted requests, per tenant")
                         .Register(registry)),
      generation_tokens_(prometheus::BuildCounter()
                             .Name("shoal_router_tenant_generation_tokens_total")
                             .Help("Output tokens streamed back, per tenant")
                             .Register(registry)),
      inflight_(prometheus::BuildGauge()
                    .Name("shoal_router_tenant_requests_inflight")
                    .Help("Generation requests in flight (waiting or running), per tenant")
                    .Register(registry)),
      queue_time_(prometheus::BuildHistogram()
                      .Name("shoal_router_tenant_queue_time_seconds")
                      .Help("Time a request waited in the router's admission queue, per tenant")
                      .Register(registry)) {}

void TenantMetrics::Admitted(const std::string& tenant, int64_t prompt_tokens) {
  requests_.Add({{"tenant", tenant}}).Increment();
  prompt_tokens_.Add({{"tenant", tenant}}).Increment(static_cast<double>(prompt_tokens));
}

void TenantMetrics::Rejected(const std::string& tenant, Rejection reason) {
  rejections_.Add({{"tenant", tenant}, {"reason", RejectionName(reason)}}).Increment();
}

void TenantMetrics::Generated(const std::string& tenant, int64_t tokens) {
  generation_tokens_.Add({{"tenant", tenant}}).Increment(static_cast<double>(tokens));
}

void TenantMetrics::AddInflight(const std::string& tenant, int delta) {
  inflight_.Add({{"tenant", tenant}}).Increment(delta);
}

void TenantMetrics::QueueTime(const std::string& tenant, double seconds) {
  // vLLM's queue-time buckets (seconds).
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.005, 0.01, 0.05, 0.1, 0.3, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 120};
  queue_time_.Add({{"tenant", tenant}}, kBuckets).Observe(seconds);
}

}  // namespace shoal::router
