#include "router/router_context.h"

#include <random>

#include "common/status_macros.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "router/openai_error.h"

namespace shoal::router {
namespace {

std::string RandomHex(int digits) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::string out;
  while (static_cast<int>(out.size()) < digits) out += fmt::format("{:016x}", rng());
  out.resize(digits);
  return out;
}

}  // namespace

RouterContext::RouterContext(const ServedModel& model, ReplicaSet& replicas, RouterMetrics& metrics,
                             TenantGate& tenants, AdmissionQueue& admission,
                             prometheus::Registry& registry, std::function<bool()> healthy,
                             std::function<void(int)> on_inflight_change)
    : model_(model),
      replicas_(replicas),
      metrics_(metrics),
      tenants_(tenants),
      admission_(admission),
      registry_(registry),
      healthy_(std::move(healthy)),
      on_inflight_change_(std::move(on_inflight_change)),
      instance_("rt" + RandomHex(8)) {}

absl::Status RouterContext::CheckModel(const std::string& name) const {
  if (model_.Serves(name)) return absl::OkStatus();
  absl::Status status =
      absl::NotFoundError(fmt::format("The model `{}` does not exist. This server serves: {}", name,
                                      fmt::join(model_.names(), ", ")));
  // The same `param` as a request field error names (openai_error.h).
  InvalidParam("model", "").ForEachPayload([&status](auto url, const absl::Cord& value) {
    status.SetPayload(url, value);
  });
  return status;
}

absl::Status RouterContext::CheckAccepting() const {
  if (draining()) {
    return WithRetryAfter(absl::UnavailableError("the server is shutting down"), 5);
  }
  if (replicas_.num_ready() == 0) {
    return WithRetryAfter(absl::UnavailableError("no scheduler replica is ready"), 2);
  }
  return absl::OkStatus();
}

absl::StatusOr<ReplicaLease> RouterContext::AcquireReplica() {
  SHOAL_RETURN_IF_ERROR(CheckAccepting());
  std::optional<ReplicaLease> lease = replicas_.Acquire();
  if (!lease) {
    return WithRetryAfter(absl::UnavailableError("no scheduler replica is ready"), 2);
  }
  return std::move(*lease);
}

int64_t RouterContext::max_model_len() const {
  const int64_t len = replicas_.max_model_len();
  return len > 0 ? len : model_.context_length();
}

std::string RouterContext::NewPublicId(const std::string& prefix) { return prefix + RandomHex(24); }

std::string RouterContext::NewInternalPrefix() {
  return fmt::format("{}-{}", instance_, next_request_.fetch_add(1));
}

}  // namespace shoal::router
