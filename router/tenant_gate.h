// The tenant checks every generation passes at the router, in the order a client
// should see them: who it is (401), then, once its prompts are known, what it may ask
// for (max_tokens 400, priority 403) and whether its limits let it in now (429 with a
// retry-after); and what the scheduler gets from it: the priority, the tenant, and the
// prefix-cache salt that keeps tenants apart.
//
// The salt: with a key file, HMAC-SHA-256 under the router's secret of the tenant's
// cache_group and the client's own cache_salt, so no tenant can hit (or time) another
// group's cached prefixes, and tenants of one group share theirs. Open (no key file),
// the client's cache_salt as it is.
//
// Threads: thread-safe.
#ifndef SHOAL_ROUTER_TENANT_GATE_H_
#define SHOAL_ROUTER_TENANT_GATE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "router/tenant_config.h"
#include "router/tenant_directory.h"
#include "router/tenant_limiter.h"
#include "router/tenant_metrics.h"
#include "shoal/v1/inference.pb.h"

namespace shoal::router {

using TenantRef = std::shared_ptr<const TenantPolicy>;

// What a request asks for, as the gate needs it.
struct TenantDemand {
  std::optional<int32_t> priority;  // the request's own, when it gave one
  std::string client_cache_salt;
  int64_t prompt_tokens = 0;  // over all its prompts
  int64_t max_tokens = 0;     // output tokens it may make, over all its choices
};

// A request let in: what the scheduler gets, and its hold on the tenant's limits.
struct TenantAdmission {
  TenantRef tenant;
  int32_t priority = 0;
  std::string cache_salt;
  TenantLease lease;
  // Counts the request in its tenant's in-flight gauge until the last copy is gone.
  std::shared_ptr<void> inflight_mark;
};

class TenantGate {
 public:
  // `secret` keys the cache salts; several routers in front of the same schedulers
  // should share one. `directory`, `limiter` and `metrics` must outlive the gate.
  TenantGate(const TenantDirectory& directory, TenantLimiter& limiter, TenantMetrics& metrics,
             std::string secret);

  bool open() const { return directory_.open(); }

  // The tenant of an API key (Unauthenticated: 401).
  absl::StatusOr<TenantRef> Authenticate(std::string_view api_key);

  // Holds a prepared prompt's max_tokens to the tenant's max_tokens: InvalidArgument
  // (param max_tokens) when the request `asked` for more, lowered to the cap when it
  // asked for none (and the room left in the context was filled in).
  absl::Status CapMaxTokens(const TenantPolicy& tenant, bool asked,
                            v1::SamplingParams& sampling) const;

  // Priority within the tenant's allowance (PermissionDenied: 403) and its rate and
  // in-flight limits (ResourceExhausted with a retry-after: 429).
  absl::StatusOr<TenantAdmission> Admit(TenantRef tenant, const TenantDemand& demand);

  TenantMetrics& metrics() { return metrics_; }

 private:
  std::string CacheSalt(const TenantPolicy& tenant, std::string_view client_salt) const;

  const TenantDirectory& directory_;
  TenantLimiter& limiter_;
  TenantMetrics& metrics_;
  const std::string secret_;
};

// The API key a request carries: `Authorization: Bearer KEY` (the scheme in any case),
// else `x-api-key: KEY`; empty when neither has one. The same for gRPC metadata.
std::string_view ApiKeyFrom(std::string_view authorization, std::string_view x_api_key);

// 32 random bytes, for a router without --cache-salt-secret-file.
std::string RandomCacheSaltSecret();

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_TENANT_GATE_H_
