#include "router/tenant_config.h"

#include <openssl/sha.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "yaml-cpp/yaml.h"

namespace shoal::router {
namespace {

constexpr size_t kMaxKeyBytes = 1024;

absl::Status Invalid(std::string_view tenant, std::string_view field, std::string_view message) {
  if (tenant.empty()) return absl::InvalidArgumentError(fmt::format("key file: {}", message));
  return absl::InvalidArgumentError(
      fmt::format("key file: tenant '{}', {}: {}", tenant, field, message));
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A scalar as T, InvalidArgument naming the field when it is not one.
template <typename T>
absl::StatusOr<T> Scalar(const YAML::Node& node, std::string_view tenant, std::string_view field) {
  if (!node.IsScalar()) return Invalid(tenant, field, "must be a single value");
  T value{};
  if (!YAML::convert<T>::decode(node, value)) {
    return Invalid(tenant, field, fmt::format("'{}' is not a valid value", node.Scalar()));
  }
  return value;
}

absl::StatusOr<int64_t> Count(const YAML::Node& node, std::string_view tenant,
                              std::string_view field) {
  SHOAL_ASSIGN_OR_RETURN(const int64_t value, Scalar<int64_t>(node, tenant, field));
  if (value < 0) return Invalid(tenant, field, "must be >= 0");
  return value;
}

absl::StatusOr<int32_t> Priority(const YAML::Node& node, std::string_view tenant,
                                 std::string_view field) {
  SHOAL_ASSIGN_OR_RETURN(const int64_t value, Scalar<int64_t>(node, tenant, field));
  if (value < std::numeric_limits<int32_t>::min() || value > std::numeric_limits<int32_t>::max()) {
    return Invalid(tenant, field, "is out of range");
  }
  return static_cast<int32_t>(value);
}

absl::StatusOr<std::vector<std::string>> Strings(const YAML::Node& node, std::string_view tenant,
                                                 std::string_view field) {
  if (!node.IsSequence()) return Invalid(tenant, field, "must be a list of strings");
  if (node.size() > kMaxKeysPerTenant) {
    return Invalid(tenant, field, fmt::format("more than {} keys", kMaxKeysPerTenant));
  }
  std::vector<std::string> out;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      return Invalid(tenant, field, "every key must be a non-empty string");
    }
    if (item.Scalar().size() > kMaxKeyBytes) {
      return Invalid(tenant, field, fmt::format("a key is longer than {} bytes", kMaxKeyBytes));
    }
    out.push_back(item.Scalar());
  }
  return out;
}

// The policy of one tenant, and the digests of its keys appended to `digests`.
absl::StatusOr<TenantPolicy> ParseTenant(const std::string& name, const YAML::Node& node,
                                         std::vector<std::string>& digests) {
  if (!ValidName(name)) {
    return Invalid(
        "", "",
        fmt::format("tenant name '{}' must be 1-64 of A-Z a-z 0-9 . _ -", name.substr(0, 80)));
  }
  if (!node.IsMap()) return Invalid(name, "(tenant)", "must be a map of fields");
  TenantPolicy policy{.name = name, .cache_group = name};
  bool best_priority_given = false;
  for (const auto& item : node) {
    const std::string field = item.first.as<std::string>();
    const YAML::Node& value = item.second;
    if (field == "keys") {
      SHOAL_ASSIGN_OR_RETURN(const std::vector<std::string> keys, Strings(value, name, field));
      for (const std::string& key : keys) digests.push_back(KeyDigest(key));
    } else if (field == "key_sha256") {
      SHOAL_ASSIGN_OR_RETURN(const std::vector<std::string> hexes, Strings(value, name, field));
      for (const std::string& hex : hexes) {
        const bool is_hex = hex.size() == 64 &&
                            hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
        if (!is_hex) return Invalid(name, field, "every digest must be 64 hex digits");
        digests.push_back(absl::HexStringToBytes(hex));
      }
    } else if (field == "weight") {
      SHOAL_ASSIGN_OR_RETURN(policy.weight, Scalar<double>(value, name, field));
      if (!(policy.weight > 0) || !std::isfinite(policy.weight) || policy.weight > 1e6) {
        return Invalid(name, field, "must be a number in (0, 1e6]");
      }
    } else if (field == "max_concurrent") {
      SHOAL_ASSIGN_OR_RETURN(policy.max_concurrent, Count(value, name, field));
    } else if (field == "max_queued") {
      SHOAL_ASSIGN_OR_RETURN(policy.max_queued, Count(value, name, field));
    } else if (field == "requests_per_minute") {
      SHOAL_ASSIGN_OR_RETURN(policy.requests_per_minute, Count(value, name, field));
    } else if (field == "tokens_per_minute") {
      SHOAL_ASSIGN_OR_RETURN(policy.tokens_per_minute, Count(value, name, field));
    } else if (field == "max_tokens") {
      SHOAL_ASSIGN_OR_RETURN(policy.max_tokens, Count(value, name, field));
    } else if (field == "priority") {
      SHOAL_ASSIGN_OR_RETURN(policy.priority, Priority(value, name, field));
    } else if (field == "best_priority") {
      SHOAL_ASSIGN_OR_RETURN(policy.best_priority, Priority(value, name, field));
      best_priority_given = true;
    } else if (field == "cache_group") {
      SHOAL_ASSIGN_OR_RETURN(policy.cache_group, Scalar<std::string>(value, name, field));
      if (!ValidName(policy.cache_group)) {
        return Invalid(name, field, "must be 1-64 of A-Z a-z 0-9 . _ -");
      }
    } else {
      return Invalid(name, field, "unknown field");
    }
  }
  if (!best_priority_given) policy.best_priority = policy.priority;
  if (policy.best_priority > policy.priority) {
    return Invalid(name, "best_priority",
                   "must not be above priority (lower is more urgent): a tenant's default must "
                   "be within its allowance");
  }
  return policy;
}

absl::StatusOr<TenantTable> ParseTenantTableOrThrow(std::string_view text) {
  const YAML::Node root = YAML::Load(std::string(text));
  if (!root.IsMap() || !root["tenants"]) {
    return Invalid("", "", "must be a map with a 'tenants' map at the top");
  }
  for (const auto& item : root) {
    if (item.first.as<std::string>() != "tenants") {
      return Invalid("", "",
                     fmt::format("unknown top-level field '{}'", item.first.as<std::string>()));
    }
  }
  const YAML::Node tenants = root["tenants"];
  if (!tenants.IsMap()) return Invalid("", "", "'tenants' must be a map of tenant names");
  if (tenants.size() > kMaxTenants) {
    return Invalid("", "", fmt::format("more than {} tenants", kMaxTenants));
  }
  TenantTable table;
  absl::flat_hash_set<std::string> names;
  for (const auto& item : tenants) {
    const std::string name = item.first.as<std::string>();
    if (!names.insert(name).second) {
      return Invalid("", "", fmt::format("tenant '{}' is defined twice", name));
    }
    std::vector<std::string> digests;
    SHOAL_ASSIGN_OR_RETURN(TenantPolicy policy, ParseTenant(name, item.second, digests));
    for (std::string& digest : digests) {
      const auto [it, added] = table.tenant_of_key.emplace(std::move(digest), table.tenants.size());
      if (!added && it->second != table.tenants.size()) {
        return Invalid(name, "keys",
                       fmt::format("a key is also tenant '{}''s", table.tenants[it->second].name));
      }
    }
    table.tenants.push_back(std::move(policy));
  }
  return table;
}

}  // namespace

std::string KeyDigest(std::string_view key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

const TenantPolicy* TenantTable::FindByKey(std::string_view api_key) const {
  const auto it = tenant_of_key.find(KeyDigest(api_key));
  return it == tenant_of_key.end() ? nullptr : &tenants[it->second];
}

absl::StatusOr<TenantTable> ParseTenantTable(std::string_view text) {
  // yaml-cpp reports errors by throwing; they stop here.
  try {
    return ParseTenantTableOrThrow(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("key file: not valid YAML or JSON: {}", e.what()));
  }
}

absl::StatusOr<TenantTable> LoadTenantTable(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot open the key file {}", path));
  std::string text(static_cast<size_t>(kMaxKeyFileBytes) + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (static_cast<int64_t>(text.size()) > kMaxKeyFileBytes) {
    return absl::InvalidArgumentError(
        fmt::format("the key file {} is larger than {} bytes", path, kMaxKeyFileBytes));
  }
  absl::StatusOr<TenantTable> table = ParseTenantTable(text);
  if (!table.ok()) {
    return absl::Status(table.status().code(),
                        fmt::format("{}: {}", path, std::string(table.status().message())));
  }
  return table;
}

}  // namespace shoal::router
