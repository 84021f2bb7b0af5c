#include "router/tenant_limiter.h"

#include <optional>

#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::router {
namespace {

using ::shoal::testing::IsOk;
using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::StatusCode kExhausted = absl::StatusCode::kResourceExhausted;

// A limiter on a clock the test moves.
struct Harness {
  absl::Time now = absl::FromUnixSeconds(1'000'000);
  TenantLimiter limiter{[this] { return now; }};
};

TEST(TenantLimiterTest, RequestsPerMinuteBurstThenRefill) {
  Harness h;
  const TenantPolicy tenant{.name = "a", .requests_per_minute = 2};
  ASSERT_OK_AND_ASSIGN(TenantLease first, h.limiter.Admit(tenant, 10));
  ASSERT_OK_AND_ASSIGN(TenantLease second, h.limiter.Admit(tenant, 10));
  Rejection why = Rejection::kPriority;
  const absl::StatusOr<TenantLease> third = h.limiter.Admit(tenant, 10, &why);
  EXPECT_THAT(third, StatusIs(kExhausted, HasSubstr("2 requests per minute")));
  EXPECT_EQ(why, Rejection::kRequestsPerMinute);
  EXPECT_EQ(RetryAfterSeconds(third.status()), 30);  // one request refills in 30 s
  h.now += absl::Seconds(29);
  EXPECT_THAT(h.limiter.Admit(tenant, 10), StatusIs(kExhausted, ::testing::_));
  h.now += absl::Seconds(1);
  EXPECT_THAT(h.limiter.Admit(tenant, 10), IsOk());
}

TEST(TenantLimiterTest, TokensPerMinuteChargeTheWholeRequestAndRefundTheUnused) {
  Harness h;
  const TenantPolicy tenant{.name = "a", .tokens_per_minute = 600};
  std::optional<TenantLease> lease;
  {
    ASSERT_OK_AND_ASSIGN(TenantLease admitted, h.limiter.Admit(tenant, 500));
    lease.emplace(std::move(admitted));
  }
  Rejection why = Rejection::kPriority;
  const absl::StatusOr<TenantLease> refused = h.limiter.Admit(tenant, 200, &why);
  EXPECT_THAT(refused, StatusIs(kExhausted, HasSubstr("600 tokens per minute")));
  EXPECT_EQ(why, Rejection::kTokensPerMinute);
  EXPECT_EQ(RetryAfterSeconds(refused.status()), 10);  // 100 tokens at 10 per second
  // It used 150 of its 500: 350 come back, and settling twice changes nothing.
  lease->Settle(150);
  lease->Settle(0);
  EXPECT_THAT(h.limiter.Admit(tenant, 450), IsOk());
  EXPECT_THAT(h.limiter.Admit(tenant, 1), StatusIs(kExhausted, ::testing::_));
}

TEST(TenantLimiterTest, ARequestLargerThanTheMinuteCanNeverPass) {
  Harness h;
  const TenantPolicy tenant{.name = "a", .tokens_per_minute = 100};
  EXPECT_THAT(h.limiter.Admit(tenant, 101),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_tokens")));
}

TEST(TenantLimiterTest, TenantsAreIndependentAndNoLimitsMeansNone) {
  Harness h;
  const TenantPolicy limited{.name = "a", .requests_per_minute = 1};
  const TenantPolicy other{.name = "b", .requests_per_minute = 1};
  const TenantPolicy unlimited{.name = "c"};
  EXPECT_THAT(h.limiter.Admit(limited, 1), IsOk());
  EXPECT_THAT(h.limiter.Admit(limited, 1), StatusIs(kExhausted, ::testing::_));
  EXPECT_THAT(h.limiter.Admit(other, 1), IsOk());
  for (int i = 0; i < 1000; ++i) ASSERT_THAT(h.limiter.Admit(unlimited, 1'000'000), IsOk());
}

}  // namespace
}  // namespace shoal::router
