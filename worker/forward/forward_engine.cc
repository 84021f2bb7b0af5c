#include "worker/forward/forward_engine.h"

#include <charconv>
#include <cmath>

#include "fmt/format.h"
#include "worker/cuda/cuda_engine.h"
#include "worker/forward/cpu_engine.h"

namespace shoal::worker {

std::string Device::ToString() const {
  return kind == DeviceKind::kCpu ? "cpu" : fmt::format("cuda:{}", index);
}

absl::StatusOr<Device> ParseDevice(std::string_view text) {
  if (text == "cpu") return Device{};
  if (text == "cuda") return Device{.kind = DeviceKind::kCuda};
  constexpr std::string_view kCudaPrefix = "cuda:";
  if (text.starts_with(kCudaPrefix)) {
    const std::string_view digits = text.substr(kCudaPrefix.size());
    int index = -1;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (!digits.empty() && error == std::errc() && end == digits.data() + digits.size() &&
        index >= 0) {
      return Device{.kind = DeviceKind::kCuda, .index = index};
    }
  }
  return absl::InvalidArgumentError(
      fmt::format("--device must be cpu, cuda or cuda:K (K a device number), not '{}'", text));
}

int64_t KvBlocksForReplica(int64_t max_num_seqs, int64_t context_length, int64_t block_size) {
  const int64_t per_sequence = (context_length + block_size - 1) / block_size;
  return static_cast<int64_t>(
      std::ceil(static_cast<double>(max_num_seqs * per_sequence) * (1.0 + kPrefixCacheShare)));
}

absl::StatusOr<int64_t> KvBlocksInBudget(const KvBudget& budget, int64_t block_bytes,
                                         int64_t total_bytes, int64_t used_bytes,
                                         std::string_view device) {
  if (!(budget.memory_fraction > 0.0 && budget.memory_fraction <= 1.0)) {
    return absl::InvalidArgumentError(
        fmt::format("the memory fraction must be in (0, 1], not {}", budget.memory_fraction));
  }
  const int64_t allowed =
      static_cast<int64_t>(budget.memory_fraction * static_cast<double>(total_bytes));
  const int64_t left = allowed - used_bytes;
  int64_t blocks = left > 0 && block_bytes > 0 ? left / block_bytes : 0;
  if (budget.wanted_blocks > 0) blocks = std::min(blocks, budget.wanted_blocks);
  if (budget.max_blocks > 0) blocks = std::min(blocks, budget.max_blocks);
  if (blocks < 1) {
    return absl::ResourceExhaustedError(fmt::format(
        "{:.0f}% of {} MiB of {} memory leaves no room for a KV cache after {} MiB of weights "
        "and activations",
        100 * budget.memory_fraction, total_bytes >> 20, device, used_bytes >> 20));
  }
  return blocks;
}

absl::StatusOr<std::unique_ptr<ForwardEngine>> CreateForwardEngine(const model::ModelFile& model,
                                                                   const EngineOptions& options) {
  if (options.device.kind == DeviceKind::kCuda) return CreateCudaForwardEngine(model, options);
  return CreateCpuForwardEngine(model, options);
}

}  // namespace shoal::worker
