#include "worker/forward/host_memory.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace shoal::worker {
namespace {

// cgroup v1 reports "no limit" as a huge page-aligned number; anything past 2^60 bytes
// is that.
constexpr int64_t kUnlimited = int64_t{1} << 60;

std::optional<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<int64_t> ReadBytes(const std::filesystem::path& path) {
  std::optional<std::string> text = ReadFile(path);
  if (!text) return std::nullopt;
  return ParseCgroupBytes(*text);
}

// A "key value" line's value in a cgroup stat file (memory.stat).
std::optional<int64_t> StatValue(std::string_view stat, std::string_view key) {
  size_t at = 0;
  while (at < stat.size()) {
    const size_t end = std::min(stat.find('\n', at), stat.size());
    std::string_view line = stat.substr(at, end - at);
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ' ') {
      return ParseCgroupBytes(line.substr(key.size() + 1));
    }
    at = end + 1;
  }
  return std::nullopt;
}

// The tightest memory limit on this process's cgroup path (a limit may sit on any
// ancestor) and that cgroup's usage less its reclaimable file cache.
struct CgroupMemory {
  std::optional<int64_t> limit;
  int64_t usage = 0;
};

struct CgroupFiles {
  std::filesystem::path root;  // where the hierarchy is mounted
  const char* limit;
  const char* usage;
  const char* inactive_file;  // the key in memory.stat
};

const CgroupFiles kCgroupV2{.root = "/sys/fs/cgroup", .limit = "memory.max",
                                .usage = "memory.current", .inactive_file = "inactive_file"};
const CgroupFiles kCgroupV1{.root = "/sys/fs/cgroup/memory", .limit = "memory.limit_in_bytes",
                            .usage = "memory.usage_in_bytes",
                            .inactive_file = "total_inactive_file"};

CgroupMemory ReadCgroup(const CgroupFiles& files, const std::string& relative) {
  CgroupMemory memory;
  std::filesystem::path dir = files.root;
  if (!relative.empty()) dir /= relative;
  while (true) {
    const std::optional<int64_t> limit = ReadBytes(dir / files.limit);
    if (limit && (!memory.limit || *limit < *memory.limit)) {
      memory.limit = limit;
      int64_t usage = ReadBytes(dir / files.usage).value_or(0);
      if (const std::optional<std::string> stat = ReadFile(dir / "memory.stat")) {
        usage -= StatValue(*stat, files.inactive_file).value_or(0);
      }
      memory.usage = std::max<int64_t>(0, usage);
    }
    if (dir == files.root || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  return memory;
}

}  // namespace

std::optional<std::string> ParseCgroupPath(std::string_view self, bool v2) {
  size_t at = 0;
  while (at < self.size()) {
    const size_t end = std::min(self.find('\n', at), self.size());
    const std::string_view line = self.substr(at, end - at);
    at = end + 1;
    const size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const bool match = v2 ? line.substr(0, first) == "0" && controllers.empty()
                          : ("," + std::string(controllers) + ",").find(",memory,") !=
                                std::string::npos;
    if (!match) continue;
    std::string_view path = line.substr(second + 1);
    while (path.starts_with('/')) path.remove_prefix(1);
    return std::string(path);
  }
  return std::nullopt;
}

std::optional<int64_t> ParseMemAvailable(std::string_view meminfo) {
  constexpr std::string_view kKey = "MemAvailable:";
  const size_t at = meminfo.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = meminfo.substr(at + kKey.size());
  rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
  int64_t kib = 0;
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
  if (error != std::errc() || kib < 0) return std::nullopt;
  return kib * 1024;  // meminfo counts kB (KiB)
}

std::optional<int64_t> ParseCgroupBytes(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  int64_t bytes = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  if (error != std::errc() || end != text.data() + text.size() || bytes < 0 ||
      bytes >= kUnlimited) {
    return std::nullopt;  // "max", or no limit
  }
  return bytes;
}

HostMemory ReadHostMemory() {
  HostMemory memory;
  memory.total_bytes = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
  memory.available_bytes = memory.total_bytes;
  if (std::optional<std::string> meminfo = ReadFile("/proc/meminfo")) {
    if (std::optional<int64_t> available = ParseMemAvailable(*meminfo)) {
      memory.available_bytes = *available;
    }
  }
  CgroupMemory cgroup;
  if (const std::optional<std::string> self = ReadFile("/proc/self/cgroup")) {
    if (std::optional<std::string> path = ParseCgroupPath(*self, /*v2=*/true)) {
      cgroup = ReadCgroup(kCgroupV2, *path);
    }
    if (!cgroup.limit) {
      if (std::optional<std::string> path = ParseCgroupPath(*self, /*v2=*/false)) {
        cgroup = ReadCgroup(kCgroupV1, *path);
      }
    }
  }
  if (cgroup.limit) {
    memory.total_bytes = std::min(memory.total_bytes, *cgroup.limit);
    memory.available_bytes =
        std::min(memory.available_bytes, std::max<int64_t>(0, *cgroup.limit - cgroup.usage));
  }
  return memory;
}

}  // namespace shoal::worker
