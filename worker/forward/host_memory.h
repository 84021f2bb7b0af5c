// How much RAM a CPU worker may plan with: the machine's physical memory, lowered to
// its cgroup's memory limit when there is one (a container's limit is what gets it
// killed, not the host's RAM), and how much of it is available now.
#ifndef SHOAL_WORKER_FORWARD_HOST_MEMORY_H_
#define SHOAL_WORKER_FORWARD_HOST_MEMORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shoal::worker {

struct HostMemory {
  int64_t total_bytes = 0;      // min(physical RAM, cgroup limit)
  int64_t available_bytes = 0;  // min(MemAvailable, cgroup limit - cgroup usage)
};

// Reads /proc/meminfo and this process's cgroup: v2 (the lowest memory.max on its path
// from /proc/self/cgroup up, usage = memory.current less inactive file cache), else v1
// (memory.limit_in_bytes, usage_in_bytes less total_inactive_file).
HostMemory ReadHostMemory();

// Parsers, for tests: MemAvailable in bytes from /proc/meminfo's text; a cgroup limit
// or usage file's value in bytes (nullopt for "max" or an unlimited v1 value).
std::optional<int64_t> ParseMemAvailable(std::string_view meminfo);
std::optional<int64_t> ParseCgroupBytes(std::string_view text);
// This process's path, relative, from /proc/self/cgroup's text: in the v2 hierarchy
// ("0::/a/b" → "a/b") or the v1 memory controller's ("4:memory:/a/b"); nullopt when
// there is no such line.
std::optional<std::string> ParseCgroupPath(std::string_view proc_self_cgroup, bool v2);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_HOST_MEMORY_H_
