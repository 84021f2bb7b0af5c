#include "router/tenant_gate.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/status_macros.h"
#include "fmt/format.h"
#include "router/openai_error.h"

namespace shoal::router {

TenantGate::TenantGate(const TenantDirectory& directory, TenantLimiter& limiter,
                       TenantMetrics& metrics, std::string secret)
    : directory_(directory), limiter_(limiter), metrics_(metrics), secret_(std::move(secret)) {}

absl::StatusOr<TenantRef> TenantGate::Authenticate(std::string_view api_key) {
  absl::StatusOr<TenantRef> tenant = directory_.Authenticate(api_key);
  if (!tenant.ok()) {
    metrics_.Rejected(std::string(kUnauthenticatedTenant), Rejection::kUnauthenticated);
  }
  return tenant;
}

absl::Status TenantGate::CapMaxTokens(const TenantPolicy& tenant, bool asked,
                                      v1::SamplingParams& sampling) const {
  if (tenant.max_tokens <= 0 || sampling.max_tokens() <= tenant.max_tokens) {
    return absl::OkStatus();
  }
  if (asked) {
    metrics_.Rejected(tenant.name, Rejection::kMaxTokens);
    return InvalidParam("max_tokens", fmt::format("max_tokens is {}, above this key's limit of {}",
                                                  sampling.max_tokens(), tenant.max_tokens));
  }
  sampling.set_max_tokens(static_cast<int32_t>(tenant.max_tokens));
  return absl::OkStatus();
}

absl::StatusOr<TenantAdmission> TenantGate::Admit(TenantRef tenant, const TenantDemand& demand) {
  const int32_t priority = demand.priority.value_or(tenant->priority);
  if (priority < tenant->best_priority) {
    metrics_.Rejected(tenant->name, Rejection::kPriority);
    return absl::PermissionDeniedError(fmt::format(
        "priority {} is more urgent than this key may ask for (at most {}; lower is more urgent)",
        priority, tenant->best_priority));
  }
  Rejection why = Rejection::kRequestsPerMinute;
  absl::StatusOr<TenantLease> lease =
      limiter_.Admit(*tenant, demand.prompt_tokens + demand.max_tokens, &why);
  if (!lease.ok()) {
    metrics_.Rejected(tenant->name, why);
    return lease.status();
  }
  metrics_.Admitted(tenant->name, demand.prompt_tokens);
  TenantAdmission admission{.priority = priority,
                            .cache_salt = CacheSalt(*tenant, demand.client_cache_salt),
                            .lease = std::move(*lease)};
  metrics_.AddInflight(tenant->name, +1);
  // A deleter without an object: runs once, when the last holder lets go.
  admission.inflight_mark = std::shared_ptr<void>(
      nullptr,
      [metrics = &metrics_, name = tenant->name](void*) { metrics->AddInflight(name, -1); });
  admission.tenant = std::move(tenant);
  return admission;
}

std::string TenantGate::CacheSalt(const TenantPolicy& tenant, std::string_view client_salt) const {
  if (directory_.open()) return std::string(client_salt);
  // The group and the client's salt, each length-prefixed so no two pairs collide.
  const std::string message = fmt::format("{}:{}{}:{}", tenant.cache_group.size(),
                                          tenant.cache_group, client_salt.size(), client_salt);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

namespace {

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool StartsWithBearer(std::string_view header) {
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size()) return false;
  for (size_t i = 0; i < kBearer.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kBearer[i]) return false;
  }
  return true;
}

}  // namespace

std::string_view ApiKeyFrom(std::string_view authorization, std::string_view x_api_key) {
  if (StartsWithBearer(authorization)) return Trimmed(authorization.substr(7));
  return Trimmed(x_api_key);
}

std::string RandomCacheSaltSecret() {
  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), 32) != 1) {
    // No entropy from OpenSSL: the salts still separate groups, they are just guessable.
    secret = "shoal-cache-salt-fallback";
  }
  return secret;
}

}  // namespace shoal::router
