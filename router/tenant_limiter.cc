#include "router/tenant_limiter.h"

#include <algorithm>
#include <cmath>

#include "common/status_util.h"
#include "fmt/format.h"

namespace shoal::router {
namespace {

// Whole seconds until a bucket at `level` refills to `need` at `per_minute`, 1 to 60.
int SecondsUntil(double level, double need, int64_t per_minute) {
  const double seconds = (need - level) * 60.0 / static_cast<double>(per_minute);
  return static_cast<int>(std::clamp(std::ceil(seconds), 1.0, 60.0));
}

}  // namespace

TenantLease& TenantLease::operator=(TenantLease&& other) noexcept {
  if (this != &other) {
    limiter_ = std::exchange(other.limiter_, nullptr);
    tenant_ = std::move(other.tenant_);
    charged_ = std::exchange(other.charged_, 0);
  }
  return *this;
}

void TenantLease::Settle(int64_t tokens) {
  if (limiter_ == nullptr || charged_ <= 0) return;
  const int64_t refund = charged_ - std::clamp<int64_t>(tokens, 0, charged_);
  charged_ = 0;
  if (refund > 0) limiter_->Refund(tenant_, refund);
}

double TenantLimiter::Refill(Bucket& bucket, int64_t per_minute, absl::Time now) {
  const double capacity = static_cast<double>(per_minute);
  if (bucket.level < 0) {
    bucket.level = capacity;
  } else {
    const double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - bucket.refilled));
    bucket.level = std::min(capacity, bucket.level + elapsed * capacity / 60.0);
  }
  bucket.capacity = capacity;
  bucket.refilled = now;
  return bucket.level;
}

absl::StatusOr<TenantLease> TenantLimiter::Admit(const TenantPolicy& tenant, int64_t tokens,
                                                 Rejection* why) {
  Rejection ignored;
  if (why == nullptr) why = &ignored;
  if (tenant.tokens_per_minute > 0 && tokens > tenant.tokens_per_minute) {
    *why = Rejection::kTokensPerMinute;
    return absl::InvalidArgumentError(fmt::format(
        "the request needs {} tokens (prompt + max_tokens), more than this key's {} tokens per "
        "minute; lower max_tokens",
        tokens, tenant.tokens_per_minute));
  }
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  State& state = states_[tenant.name];
  if (tenant.requests_per_minute > 0) {
    const double level = Refill(state.requests, tenant.requests_per_minute, now);
    if (level < 1) {
      *why = Rejection::kRequestsPerMinute;
      return WithRetryAfter(
          absl::ResourceExhaustedError(fmt::format(
              "this key's limit of {} requests per minute is reached", tenant.requests_per_minute)),
          SecondsUntil(level, 1, tenant.requests_per_minute));
    }
  }
  if (tenant.tokens_per_minute > 0) {
    const double level = Refill(state.tokens, tenant.tokens_per_minute, now);
    if (level < static_cast<double>(tokens)) {
      *why = Rejection::kTokensPerMinute;
      return WithRetryAfter(
          absl::ResourceExhaustedError(fmt::format(
              "this key's limit of {} tokens per minute is reached", tenant.tokens_per_minute)),
          SecondsUntil(level, static_cast<double>(tokens), tenant.tokens_per_minute));
    }
  }
  if (tenant.requests_per_minute > 0) state.requests.level -= 1;
  if (tenant.tokens_per_minute > 0) state.tokens.level -= static_cast<double>(tokens);
  return TenantLease(this, tenant.name, tenant.tokens_per_minute > 0 ? tokens : 0);
}

void TenantLimiter::Refund(const std::string& tenant, int64_t tokens) {
  absl::MutexLock lock(&mu_);
  Bucket& bucket = states_[tenant].tokens;
  if (bucket.level < 0) return;
  bucket.level = std::min(bucket.capacity, bucket.level + static_cast<double>(tokens));
}

}  // namespace shoal::router
