#include "router/tenant_directory.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::router {
namespace {

using ::shoal::testing::IsOk;
using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

class KeyFile {
 public:
  KeyFile() {
    path_ = (std::filesystem::temp_directory_path() / ("shoal-keys-" + std::to_string(getpid()) +
                                                       "-" + std::to_string(counter_++) + ".yaml"))
                .string();
  }
  ~KeyFile() { std::filesystem::remove(path_); }
  // Replaces the file (a new inode, as editors and ConfigMap updates do).
  void Write(const std::string& text) {
    const std::string temp = path_ + ".tmp";
    std::ofstream(temp) << text;
    std::filesystem::rename(temp, path_);
  }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(TenantDirectoryTest, OpenEndpointIsTheDefaultTenantForAnyKey) {
  TenantDirectory open;
  EXPECT_TRUE(open.open());
  for (const char* key : {"", "anything"}) {
    ASSERT_OK_AND_ASSIGN(const auto tenant, open.Authenticate(key));
    EXPECT_EQ(tenant->name, kOpenTenantName);
    EXPECT_EQ(tenant->max_concurrent, 0);
    EXPECT_EQ(tenant->requests_per_minute, 0);
  }
}

TEST(TenantDirectoryTest, KeysNameTheirTenants) {
  KeyFile file;
  file.Write("tenants:\n  a:\n    keys: [sk-a]\n  b:\n    keys: [sk-b]\n");
  ASSERT_OK_AND_ASSIGN(auto directory, TenantDirectory::Load(file.path()));
  EXPECT_FALSE(directory->open());
  ASSERT_OK_AND_ASSIGN(const auto a, directory->Authenticate("sk-a"));
  EXPECT_EQ(a->name, "a");
  EXPECT_THAT(directory->Authenticate(""),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("Bearer")));
  EXPECT_THAT(directory->Authenticate("sk-guess"),
              StatusIs(absl::StatusCode::kUnauthenticated, Not(HasSubstr("sk-guess"))));
}

TEST(TenantDirectoryTest, ReloadAddsAndRemovesKeysAndKeepsHeldPolicies) {
  KeyFile file;
  file.Write("tenants:\n  a:\n    keys: [sk-a]\n    max_concurrent: 3\n");
  ASSERT_OK_AND_ASSIGN(auto directory, TenantDirectory::Load(file.path()));
  ASSERT_OK_AND_ASSIGN(const auto held, directory->Authenticate("sk-a"));

  file.Write("tenants:\n  b:\n    keys: [sk-b]\n");
  ASSERT_THAT(directory->Reload(), IsOk());
  EXPECT_THAT(directory->Authenticate("sk-a"),
              StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
  EXPECT_THAT(directory->Authenticate("sk-b"), IsOk());
  // A request admitted under the old file keeps its policy.
  EXPECT_EQ(held->name, "a");
  EXPECT_EQ(held->max_concurrent, 3);
}

TEST(TenantDirectoryTest, ABrokenEditKeepsTheOldKeys) {
  KeyFile file;
  file.Write("tenants:\n  a:\n    keys: [sk-a]\n");
  ASSERT_OK_AND_ASSIGN(auto directory, TenantDirectory::Load(file.path()));
  file.Write("tenants:\n  a:\n    keys: [sk-a\n");
  EXPECT_THAT(directory->Reload(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(file.path())));
  EXPECT_THAT(directory->Authenticate("sk-a"), IsOk());
  // Reported once per edit, not at every check.
  EXPECT_THAT(directory->ReloadIfChanged(), IsOk());
}

TEST(TenantDirectoryTest, ReloadIfChangedOnlyWhenTheFileChanged) {
  KeyFile file;
  file.Write("tenants:\n  a:\n    keys: [sk-a]\n");
  ASSERT_OK_AND_ASSIGN(auto directory, TenantDirectory::Load(file.path()));
  const auto first = directory->table();
  ASSERT_THAT(directory->ReloadIfChanged(), IsOk());
  EXPECT_EQ(directory->table(), first);  // not read again
  file.Write("tenants:\n  a:\n    keys: [sk-a, sk-a2]\n");
  ASSERT_THAT(directory->ReloadIfChanged(), IsOk());
  EXPECT_NE(directory->table(), first);
  EXPECT_THAT(directory->Authenticate("sk-a2"), IsOk());
}

TEST(TenantDirectoryTest, LoadFailsOnABadFile) {
  KeyFile file;
  file.Write("tenants:\n  a:\n    weight: -1\n");
  EXPECT_THAT(TenantDirectory::Load(file.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("weight")));
}

}  // namespace
}  // namespace shoal::router
