// Per-tenant Prometheus metrics of the router: requests admitted, rejections by
// reason, tokens in and out, requests in flight, time waited in the admission queue. Label values
// are bounded: tenant names come from the key file only ("default" when the endpoint is open, and
// "unauthenticated" for requests without a valid key), reasons from a fixed list.
//
// Threads: thread-safe (prometheus-cpp's metrics are).
#ifndef SHOAL_ROUTER_TENANT_METRICS_H_
#define SHOAL_ROUTER_TENANT_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "router/tenant_config.h"

namespace shoal::router {

inline constexpr std::string_view kUnauthenticatedTenant = "unauthenticated";

// The `reason` label of a rejection.
const char* RejectionName(Rejection reason);

class TenantMetrics {
 public:
  explicit TenantMetrics(prometheus::Registry& registry);

  void Admitted(const std::string& tenant, int64_t prompt_tokens);
  void Rejected(const std::string& tenant, Rejection reason);
  void Generated(const std::string& tenant, int64_t tokens);
  void AddInflight(const std::string& tenant, int delta);
  // Time a request waited in the router's admission queue.
  void QueueTime(const std::string& tenant, double seconds);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& rejections_;
  prometheus::Family<prometheus::Counter>& prompt_tokens_;
  prometheus::Family<prometheus::Counter>& generation_tokens_;
  prometheus::Family<prometheus::Gauge>& inflight_;
  prometheus::Family<prometheus::Histogram>& queue_time_;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_TENANT_METRICS_H_
