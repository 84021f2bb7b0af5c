// Which tenant a request belongs to. With a key file (--api-keys) a request's API key
// names its tenant; the file's table is swapped whole when it is reloaded (SIGHUP, or a
// change of the file seen by ReloadIfChanged), so requests in flight keep the policy
// they were admitted under and nothing is dropped. Without a key file the endpoint is
// open: every request is the tenant "default", with no limits.
//
// Threads: thread-safe.
#ifndef SHOAL_ROUTER_TENANT_DIRECTORY_H_
#define SHOAL_ROUTER_TENANT_DIRECTORY_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "router/tenant_config.h"

namespace shoal::router {

inline constexpr std::string_view kOpenTenantName = "default";

class TenantDirectory {
 public:
  // Open: no key file.
  TenantDirectory();
  // From a key file; its errors name the file and the field at fault.
  static absl::StatusOr<std::unique_ptr<TenantDirectory>> Load(const std::string& path);

  bool open() const { return path_.empty(); }
  const std::string& path() const { return path_; }

  // The tenant of an API key. Unauthenticated when the key is missing or unknown (the
  // message never repeats the key); open: the default tenant, whatever the key.
  absl::StatusOr<std::shared_ptr<const TenantPolicy>> Authenticate(std::string_view api_key) const;

  // Reads the file again. On an error the current table stays and the error is
  // returned (a broken edit never locks everyone out).
  absl::Status Reload();
  // Reload() when the file's modification time, size or inode changed since the last
  // load (a Kubernetes ConfigMap update swaps a symlink); OK when it did not change.
  absl::Status ReloadIfChanged();

  std::shared_ptr<const TenantTable> table() const;

 private:
  struct FileStamp {
    ino_t inode = 0;
    off_t size = -1;
    int64_t modified_nanos = 0;
    bool operator==(const FileStamp&) const = default;
  };
  explicit TenantDirectory(std::string path);
  FileStamp Stamp() const;

  const std::string path_;
  const std::shared_ptr<const TenantPolicy> open_tenant_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TenantTable> table_ ABSL_GUARDED_BY(mu_);
  FileStamp stamp_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_TENANT_DIRECTORY_H_
