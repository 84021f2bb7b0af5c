#include "router/tenant_directory.h"

#include <sys/stat.h>

#include <limits>

#include "common/status_macros.h"

namespace shoal::router {

TenantDirectory::TenantDirectory()
    : open_tenant_(std::make_shared<const TenantPolicy>(
          TenantPolicy{.name = std::string(kOpenTenantName),
                       // Beyond the replicas' capacity requests wait at the router, as many as the
                       // scheduler's default --max-waiting.
                       .max_queued = 4096,
                       // Open: a request may ask for any priority.
                       .best_priority = std::numeric_limits<int32_t>::min(),
                       .cache_group = std::string(kOpenTenantName)})),
      table_(std::make_shared<const TenantTable>()) {}

TenantDirectory::TenantDirectory(std::string path)
    : path_(std::move(path)), table_(std::make_shared<const TenantTable>()) {}

absl::StatusOr<std::unique_ptr<TenantDirectory>> TenantDirectory::Load(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("--api-keys: an empty path");
  std::unique_ptr<TenantDirectory> directory(new TenantDirectory(path));
  SHOAL_RETURN_IF_ERROR(directory->Reload());
  return directory;
}

absl::StatusOr<std::shared_ptr<const TenantPolicy>> TenantDirectory::Authenticate(
    std::string_view api_key) const {
  if (open()) return open_tenant_;
  if (api_key.empty()) {
    return absl::UnauthenticatedError(
        "no API key: send one as 'Authorization: Bearer KEY' (or 'x-api-key: KEY')");
  }
  const std::shared_ptr<const TenantTable> current = table();
  const TenantPolicy* tenant = current->FindByKey(api_key);
  if (tenant == nullptr) return absl::UnauthenticatedError("the API key is not valid");
  // Shares ownership of the whole table: the policy outlives a reload.
  return std::shared_ptr<const TenantPolicy>(current, tenant);
}

absl::Status TenantDirectory::Reload() {
  if (open()) return absl::OkStatus();
  const FileStamp stamp = Stamp();
  absl::StatusOr<TenantTable> loaded = LoadTenantTable(path_);
  absl::MutexLock lock(&mu_);
  stamp_ = stamp;  // a broken edit is reported once, not at every check
  if (!loaded.ok()) return loaded.status();
  table_ = std::make_shared<const TenantTable>(std::move(*loaded));
  return absl::OkStatus();
}

absl::Status TenantDirectory::ReloadIfChanged() {
  if (open()) return absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    if (Stamp() == stamp_) return absl::OkStatus();
  }
  return Reload();
}

std::shared_ptr<const TenantTable> TenantDirectory::table() const {
  absl::MutexLock lock(&mu_);
  return table_;
}

TenantDirectory::FileStamp TenantDirectory::Stamp() const {
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) return {};
  return {.inode = st.st_ino,
          .size = st.st_size,
          .modified_nanos = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

}  // namespace shoal::router
