#include "router/tenant_config.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::router {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// The issue's example, with a second tenant left at the defaults.
constexpr char kExample[] = R"(
tenants:
  search-team:
    keys: ["sk-search-1", "sk-search-2"]
    weight: 2
    max_concurrent: 16
    max_queued: 64
    requests_per_minute: 600
    tokens_per_minute: 400000
    max_tokens: 8192
    priority: 0
    best_priority: -5
    cache_group: search-team
  interns:
    key_sha256: ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]
)";

TEST(TenantConfigTest, ParsesTheDocumentedShape) {
  ASSERT_OK_AND_ASSIGN(const TenantTable table, ParseTenantTable(kExample));
  ASSERT_EQ(table.tenants.size(), 2u);
  const TenantPolicy* search = table.FindByKey("sk-search-2");
  ASSERT_NE(search, nullptr);
  EXPECT_EQ(search->name, "search-team");
  EXPECT_EQ(search->weight, 2);
  EXPECT_EQ(search->max_concurrent, 16);
  EXPECT_EQ(search->max_queued, 64);
  EXPECT_EQ(search->requests_per_minute, 600);
  EXPECT_EQ(search->tokens_per_minute, 400000);
  EXPECT_EQ(search->max_tokens, 8192);
  EXPECT_EQ(search->priority, 0);
  EXPECT_EQ(search->best_priority, -5);
  EXPECT_EQ(search->cache_group, "search-team");
  EXPECT_EQ(table.FindByKey("sk-search-1"), search);
}

TEST(TenantConfigTest, DefaultsAndDigestKeys) {
  ASSERT_OK_AND_ASSIGN(const TenantTable table, ParseTenantTable(kExample));
  // The listed digest is SHA-256("abc") (FIPS 180-2's first example).
  const TenantPolicy* interns = table.FindByKey("abc");
  ASSERT_NE(interns, nullptr);
  EXPECT_EQ(interns->name, "interns");
  EXPECT_EQ(interns->weight, 1);
  EXPECT_EQ(interns->max_concurrent, 0);
  EXPECT_EQ(interns->max_queued, kDefaultMaxQueued);
  EXPECT_EQ(interns->requests_per_minute, 0);
  EXPECT_EQ(interns->best_priority, interns->priority);
  EXPECT_EQ(interns->cache_group, "interns");
  EXPECT_EQ(table.FindByKey("abd"), nullptr);
  EXPECT_EQ(table.FindByKey(""), nullptr);
}

TEST(TenantConfigTest, KeyDigestIsSha256) {
  EXPECT_EQ(absl::BytesToHexString(KeyDigest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TenantConfigTest, TheSameStructureAsJson) {
  ASSERT_OK_AND_ASSIGN(
      const TenantTable table,
      ParseTenantTable(R"({"tenants": {"a": {"keys": ["k1"], "weight": 0.5, "priority": 3}}})"));
  const TenantPolicy* a = table.FindByKey("k1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->weight, 0.5);
  EXPECT_EQ(a->best_priority, 3);
}

TEST(TenantConfigTest, RefusesWhatWouldSilentlyMeanSomethingElse) {
  const std::pair<const char*, const char*> cases[] = {
      {"tenants:\n  a:\n    max_concurent: 4\n", "unknown field"},
      {"tenants:\n  a:\n    max_concurrent: -1\n", "must be >= 0"},
      {"tenants:\n  a:\n    max_concurrent: four\n", "'four' is not a valid value"},
      {"tenants:\n  a:\n    weight: 0\n", "weight"},
      {"tenants:\n  a:\n    priority: 0\n    best_priority: 2\n", "best_priority"},
      {"tenants:\n  a:\n    keys: sk-1\n", "list of strings"},
      {"tenants:\n  a:\n    keys: ['']\n", "non-empty"},
      {"tenants:\n  a:\n    key_sha256: ['abc']\n", "64 hex digits"},
      {"tenants:\n  a:\n    keys: [k]\n  b:\n    keys: [k]\n", "also tenant 'a'"},
      {"tenants:\n  'bad name':\n    keys: [k]\n", "tenant name"},
      {"tenants:\n  a:\n    cache_group: 'x y'\n", "cache_group"},
      {"tenants: [a, b]\n", "map of tenant names"},
      {"keys: [a]\n", "'tenants' map"},
      {"tenants: {}\nextra: 1\n", "unknown top-level field 'extra'"},
      {"tenants:\n  a: [1\n", "not valid YAML"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_THAT(ParseTenantTable(text), StatusIs(kInvalid, HasSubstr(message))) << text;
  }
}

TEST(TenantConfigTest, ErrorsNeverRepeatAKey) {
  const absl::StatusOr<TenantTable> table =
      ParseTenantTable("tenants:\n  a:\n    keys: [sk-secret-value]\n    bogus: 1\n");
  EXPECT_THAT(table, StatusIs(kInvalid, Not(HasSubstr("sk-secret-value"))));
}

TEST(TenantConfigTest, LoadNamesTheFile) {
  EXPECT_THAT(LoadTenantTable("/nonexistent/keys.yaml"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/keys.yaml")));
}

}  // namespace
}  // namespace shoal::router
