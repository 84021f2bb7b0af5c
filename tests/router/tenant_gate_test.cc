#include "router/tenant_gate.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/support/status_matchers.h"

namespace shoal::router {
namespace {

using ::shoal::testing::IsOk;
using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kKeys[] = R"(
tenants:
  alpha:
    keys: [sk-alpha]
    priority: 2
    best_priority: 1
    max_tokens: 100
    cache_group: shared
  beta:
    keys: [sk-beta]
    cache_group: shared
  gamma:
    keys: [sk-gamma]
)";

class TenantGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("shoal-gate-" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(path_) << kKeys;
    auto directory = TenantDirectory::Load(path_.string());
    ASSERT_OK(directory);
    directory_ = std::move(*directory);
  }
  void TearDown() override { std::filesystem::remove(path_); }

  TenantGate Gate(const TenantDirectory& directory, std::string secret = "0123456789abcdef") {
    return TenantGate(directory, limiter_, metrics_, std::move(secret));
  }
  std::string Salt(TenantGate& gate, const std::string& key, const std::string& client_salt) {
    auto tenant = gate.Authenticate(key);
    EXPECT_OK(tenant);
    auto admitted = gate.Admit(*tenant, {.client_cache_salt = client_salt});
    EXPECT_OK(admitted);
    return admitted.ok() ? admitted->cache_salt : "";
  }

  std::filesystem::path path_;
  std::unique_ptr<TenantDirectory> directory_;
  prometheus::Registry registry_;
  TenantMetrics metrics_{registry_};
  TenantLimiter limiter_;
};

TEST_F(TenantGateTest, PriorityDefaultsToTheKeysAndStaysWithinItsAllowance) {
  TenantGate gate = Gate(*directory_);
  ASSERT_OK_AND_ASSIGN(const TenantRef alpha, gate.Authenticate("sk-alpha"));
  ASSERT_OK_AND_ASSIGN(const TenantAdmission by_default, gate.Admit(alpha, {}));
  EXPECT_EQ(by_default.priority, 2);
  EXPECT_EQ(by_default.tenant->name, "alpha");
  ASSERT_OK_AND_ASSIGN(const TenantAdmission urgent, gate.Admit(alpha, {.priority = 1}));
  EXPECT_EQ(urgent.priority, 1);
  ASSERT_OK_AND_ASSIGN(const TenantAdmission relaxed, gate.Admit(alpha, {.priority = 9}));
  EXPECT_EQ(relaxed.priority, 9);
  EXPECT_THAT(gate.Admit(alpha, {.priority = 0}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("at most 1")));
}

TEST_F(TenantGateTest, MaxTokensIsCappedOrRefused) {
  TenantGate gate = Gate(*directory_);
  ASSERT_OK_AND_ASSIGN(const TenantRef alpha, gate.Authenticate("sk-alpha"));
  v1::SamplingParams sampling;
  sampling.set_max_tokens(4000);  // filled in from the context: the request gave none
  ASSERT_THAT(gate.CapMaxTokens(*alpha, /*asked=*/false, sampling), IsOk());
  EXPECT_EQ(sampling.max_tokens(), 100);
  sampling.set_max_tokens(100);
  EXPECT_THAT(gate.CapMaxTokens(*alpha, true, sampling), IsOk());
  sampling.set_max_tokens(101);
  EXPECT_THAT(gate.CapMaxTokens(*alpha, true, sampling),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit of 100")));
  ASSERT_OK_AND_ASSIGN(const TenantRef beta, gate.Authenticate("sk-beta"));
  sampling.set_max_tokens(100000);
  EXPECT_THAT(gate.CapMaxTokens(*beta, true, sampling), IsOk());
  EXPECT_EQ(sampling.max_tokens(), 100000);
}

TEST_F(TenantGateTest, CacheSaltsSeparateGroupsAndJoinTenantsOfOneGroup) {
  TenantGate gate = Gate(*directory_);
  const std::string alpha = Salt(gate, "sk-alpha", "");
  EXPECT_EQ(alpha.size(), 32u);
  EXPECT_EQ(Salt(gate, "sk-beta", ""), alpha);       // the same cache_group
  EXPECT_NE(Salt(gate, "sk-gamma", ""), alpha);      // its own group
  EXPECT_NE(Salt(gate, "sk-alpha", "mine"), alpha);  // a client salt splits further
  EXPECT_EQ(Salt(gate, "sk-alpha", "mine"), Salt(gate, "sk-beta", "mine"));
  // Another secret (another router deployment) gives other salts.
  TenantGate other = Gate(*directory_, "another-secret-16");
  EXPECT_NE(Salt(other, "sk-alpha", ""), alpha);
}

TEST_F(TenantGateTest, AnOpenEndpointPassesTheClientsSaltAndPriority) {
  TenantDirectory open;
  TenantGate gate = Gate(open);
  EXPECT_TRUE(gate.open());
  EXPECT_EQ(Salt(gate, "", "client-salt"), "client-salt");
  ASSERT_OK_AND_ASSIGN(const TenantRef anyone, gate.Authenticate(""));
  ASSERT_OK_AND_ASSIGN(const TenantAdmission admitted, gate.Admit(anyone, {.priority = -100}));
  EXPECT_EQ(admitted.priority, -100);
}

TEST(ApiKeyFromTest, BearerThenXApiKey) {
  EXPECT_EQ(ApiKeyFrom("Bearer sk-1", ""), "sk-1");
  EXPECT_EQ(ApiKeyFrom("bearer  sk-1 ", "sk-2"), "sk-1");
  EXPECT_EQ(ApiKeyFrom("", "sk-2"), "sk-2");
  EXPECT_EQ(ApiKeyFrom("Basic dXNlcg==", "sk-2"), "sk-2");
  EXPECT_EQ(ApiKeyFrom("Bearer", ""), "");
  EXPECT_EQ(ApiKeyFrom("", ""), "");
}

}  // namespace
}  // namespace shoal::router
