// What the router's front ends (the OpenAI HTTP routes and the public gRPC service)
// share: the served model, the replicas, the tenants, the metrics, the drain state, and
// request ids.
// Owned by the Router; the front ends hold a reference.
//
// Threads: thread-safe.
#ifndef SHOAL_ROUTER_ROUTER_CONTEXT_H_
#define SHOAL_ROUTER_ROUTER_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"
#include "router/admission_queue.h"
#include "router/replica_set.h"
#include "router/router_metrics.h"
#include "router/served_model.h"
#include "router/tenant_gate.h"

namespace shoal::router {

class RouterContext {
 public:
  RouterContext(const ServedModel& model, ReplicaSet& replicas, RouterMetrics& metrics,
                TenantGate& tenants, AdmissionQueue& admission, prometheus::Registry& registry,
                std::function<bool()> healthy, std::function<void(int)> on_inflight_change);

  const ServedModel& model() const { return model_; }
  ReplicaSet& replicas() { return replicas_; }
  RouterMetrics& metrics() { return metrics_; }
  TenantGate& tenants() { return tenants_; }
  prometheus::Registry& registry() { return registry_; }

  // NotFound (param "model") when `name` is not a served name.
  absl::Status CheckModel(const std::string& name) const;
  // Whether a new generation may enter: Unavailable while draining or when no replica
  // is ready (with a retry-after).
  absl::Status CheckAccepting() const;
  // An admitted generation's replica (ReplicaSet::Acquire): Unavailable as
  // CheckAccepting.
  absl::StatusOr<ReplicaLease> AcquireReplica();
  AdmissionQueue& admission() { return admission_; }
  // The longest prompt + output the replicas take (the model's context when unknown).
  int64_t max_model_len() const;

  // A new request's public id ("chatcmpl-<hex>") and the prefix of its scheduler
  // request ids, unique to this router process ("<router>-<n>").
  std::string NewPublicId(const std::string& prefix);
  std::string NewInternalPrefix();

  void BeginDrain() { draining_ = true; }
  bool draining() const { return draining_.load(); }
  bool healthy() const { return healthy_ ? healthy_() : true; }
  bool ready() const { return !draining() && replicas_.num_ready() > 0; }
  void InflightChanged(int delta) const { on_inflight_change_(delta); }
  const std::function<void(int)>& on_inflight_change() const { return on_inflight_change_; }

 private:
  const ServedModel& model_;
  ReplicaSet& replicas_;
  RouterMetrics& metrics_;
  TenantGate& tenants_;
  AdmissionQueue& admission_;
  prometheus::Registry& registry_;
  const std::function<bool()> healthy_;
  const std::function<void(int)> on_inflight_change_;
  const std::string instance_;  // random, so that routers sharing a scheduler never collide
  std::atomic<uint64_t> next_request_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_ROUTER_CONTEXT_H_
