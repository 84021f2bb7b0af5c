// The key file of `--api-keys FILE` (YAML, or the same structure as JSON): the tenants
// that share an endpoint, the API keys that identify them, and each one's share and
// limits.
//
//   tenants:
//     search-team:
//       keys: ["sk-..."]          # or key_sha256: ["<64 hex digits>"]
//       weight: 2                 # share under contention (default 1)
//       max_concurrent: 16        # requests in flight (default 0: no limit)
//       max_queued: 64            # waiting at the router beyond that (default 64;
//                                 # 0: refuse at once)
//       requests_per_minute: 600  # default 0: no limit
//       tokens_per_minute: 400000 # prompt + max_tokens of each request; 0: no limit
//       max_tokens: 8192          # a request's output tokens at most; 0: no limit
//       priority: 0               # the default priority (lower is served first)
//       best_priority: -5         # the most urgent a request may ask for (default:
//                                 # priority)
//       cache_group: search-team  # tenants in one group share cached prefixes
//                                 # (default: the tenant's own name)
//
// Keys are kept only as SHA-256 digests, never logged. Unknown fields are errors, so a
// misspelt limit cannot silently be no limit.
#ifndef SHOAL_ROUTER_TENANT_CONFIG_H_
#define SHOAL_ROUTER_TENANT_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace shoal::router {

inline constexpr int64_t kDefaultMaxQueued = 64;
inline constexpr size_t kMaxTenants = 10000;
inline constexpr size_t kMaxKeysPerTenant = 1000;
inline constexpr int64_t kMaxKeyFileBytes = 16 << 20;

// Why the router refused a tenant's request.
enum class Rejection {
  kUnauthenticated,
  kPriority,
  kMaxTokens,
  kMaxQueued,
  kRequestsPerMinute,
  kTokensPerMinute,
};

struct TenantPolicy {
  std::string name;  // 1-64 of [A-Za-z0-9._-]: it becomes a metric label
  double weight = 1;
  int64_t max_concurrent = 0;
  int64_t max_queued = kDefaultMaxQueued;
  int64_t requests_per_minute = 0;
  int64_t tokens_per_minute = 0;
  int64_t max_tokens = 0;
  int32_t priority = 0;
  int32_t best_priority = 0;
  std::string cache_group;
};

// A parsed key file. Immutable once built; a reload builds a new one.
struct TenantTable {
  std::vector<TenantPolicy> tenants;
  // SHA-256 of a key (32 raw bytes) -> index into tenants.
  absl::flat_hash_map<std::string, size_t> tenant_of_key;

  // The tenant whose key this is; null for an unknown key.
  const TenantPolicy* FindByKey(std::string_view api_key) const;
};

// SHA-256 of `key`, 32 raw bytes.
std::string KeyDigest(std::string_view key);

// InvalidArgument naming the tenant and field at fault.
absl::StatusOr<TenantTable> ParseTenantTable(std::string_view text);
// ParseTenantTable of a file (at most kMaxKeyFileBytes); errors name the file.
absl::StatusOr<TenantTable> LoadTenantTable(const std::string& path);

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_TENANT_CONFIG_H_
