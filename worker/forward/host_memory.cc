#include "worker/forward/host_memory.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace shoal::worker {
namespace {

// cgroup v1 reports "no limit" as a huge page-aligned number; anything past 2^60 bytes
// is that.
constexpr int64_t kUnlimited = int64_t{1} << 60;

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<int64_t> CgroupFile(const std::string& v2, const std::string& v1) {
  std::optional<std::string> text = ReadFile(v2);
  if (!text) text = ReadFile(v1);
  if (!text) return std::nullopt;
  return ParseCgroupBytes(*text);
}

}  // namespace

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
  const std::optional<int64_t> limit = CgroupFile("/sys/fs/cgroup/memory.max",
                                                  "/sys/fs/cgroup/memory/memory.limit_in_bytes");
  if (limit) {
    memory.total_bytes = std::min(memory.total_bytes, *limit);
    const int64_t usage = CgroupFile("/sys/fs/cgroup/memory.current",
                                     "/sys/fs/cgroup/memory/memory.usage_in_bytes")
                              .value_or(0);
    memory.available_bytes = std::min(memory.available_bytes, std::max<int64_t>(0, *limit - usage));
  }
  return memory;
}

}  // namespace shoal::worker
