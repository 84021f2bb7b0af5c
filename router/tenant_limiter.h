// Each tenant's rate limits at the router: requests and tokens per minute (token
// buckets that hold one minute's allowance and refill continuously, so a tenant may
// burst up to its minute). A request is charged its prompt plus its max_tokens when it
// arrives, and the output it did not use is refunded when it ends. (Requests in flight,
// max_concurrent, are the admission queue's: a request over it waits there.)
//
// Threads: thread-safe.
#ifndef SHOAL_ROUTER_TENANT_LIMITER_H_
#define SHOAL_ROUTER_TENANT_LIMITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "router/tenant_config.h"

namespace shoal::router {

class TenantLimiter;

// One request's charge to its tenant's tokens-per-minute bucket, settled when it ends.
// Move-only; the limiter must outlive it.
class TenantLease {
 public:
  TenantLease() = default;
  TenantLease(TenantLease&& other) noexcept { *this = std::move(other); }
  TenantLease& operator=(TenantLease&& other) noexcept;

  // The request used `tokens` (prompt + output): what it was charged beyond that goes
  // back to the tenant's tokens-per-minute bucket. Once; later calls change nothing.
  void Settle(int64_t tokens);

 private:
  friend class TenantLimiter;
  TenantLease(TenantLimiter* limiter, std::string tenant, int64_t charged)
      : limiter_(limiter), tenant_(std::move(tenant)), charged_(charged) {}
  TenantLimiter* limiter_ = nullptr;
  std::string tenant_;
  int64_t charged_ = 0;
};

class TenantLimiter {
 public:
  explicit TenantLimiter(std::function<absl::Time()> clock = [] { return absl::Now(); })
      : clock_(std::move(clock)) {}

  // Charges one request of `tokens` (prompt + max_tokens) to the rate buckets.
  // ResourceExhausted with a retry-after (common/status_util.h) when a limit is reached,
  // naming it; InvalidArgument when `tokens` alone is more than tokens_per_minute (no
  // wait would let it pass). `why` (if set) gets the limit that refused it.
  absl::StatusOr<TenantLease> Admit(const TenantPolicy& tenant, int64_t tokens,
                                    Rejection* why = nullptr);

 private:
  friend class TenantLease;
  struct Bucket {
    double level = -1;    // < 0: not yet filled (a new tenant starts with a full minute)
    double capacity = 0;  // the per-minute allowance at the last refill
    absl::Time refilled;
  };
  struct State {
    Bucket requests, tokens;
  };
  // Tops `bucket` up at `per_minute` to now; its level afterwards.
  static double Refill(Bucket& bucket, int64_t per_minute, absl::Time now);
  void Refund(const std::string& tenant, int64_t tokens);  // into the tokens bucket

  const std::function<absl::Time()> clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, State> states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_TENANT_LIMITER_H_
