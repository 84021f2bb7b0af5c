#include "worker/kv/kv_cache.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/memory/memory.h"
#include "common/status_macros.h"
#include "fmt/format.h"

namespace shoal::worker {
namespace {

int64_t ElementBytes(kernels::KvType type) { return type == kernels::KvType::kF32 ? 4 : 2; }

}  // namespace

absl::Status KvCacheConfig::Validate() const {
  if (block_size < 1 || block_size > 1024) {
    return absl::InvalidArgumentError(
        fmt::format("KV block size must be in [1, 1024], not {}", block_size));
  }
  if (num_blocks < 1 || num_blocks > (int64_t{1} << 31)) {
    return absl::InvalidArgumentError(
        fmt::format("KV block count must be in [1, 2^31], not {}", num_blocks));
  }
  return absl::OkStatus();
}

int64_t KvCache::BytesPerBlock(const model::ModelConfig& model, const KvCacheConfig& config) {
  return model.n_layer * config.block_size * model.n_head_kv * (model.head_dim + model.value_dim) *
         ElementBytes(config.type);
}

namespace {

// Commits every page of the cache now: the process's RSS is what it will use, rather
// than growing for hours as requests first touch blocks (with the prefix cache's LRU
// order, nearly every request touches fresh ones) until a memory limit kills it.
// Transparent huge pages, where the kernel offers them on request, make that a fault
// per 2 MiB rather than per 4 KiB page (gigabytes commit in a fraction of the time).
void Commit(void* memory, size_t bytes) {
  (void)::madvise(memory, bytes, MADV_HUGEPAGE);  // a hint: fine if refused
  volatile uint8_t* const bytes_out = static_cast<uint8_t*>(memory);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (size_t at = 0; at < bytes; at += page) bytes_out[at] = 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KvCache>> KvCache::Create(const model::ModelConfig& model,
                                                         const KvCacheConfig& config) {
  SHOAL_RETURN_IF_ERROR(config.Validate());
  const int64_t per_block = BytesPerBlock(model, config);
  if (per_block <= 0 || config.num_blocks > std::numeric_limits<int64_t>::max() / per_block) {
    return absl::InvalidArgumentError("KV cache size overflows");
  }
  auto cache = absl::WrapUnique(new KvCache(config));
  cache->bytes_ = static_cast<size_t>(per_block * config.num_blocks);
  void* memory =
      ::mmap(nullptr, cache->bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    return absl::ResourceExhaustedError(fmt::format("cannot reserve {} bytes for the KV cache: {}",
                                                    cache->bytes_, std::strerror(errno)));
  }
  Commit(memory, cache->bytes_);
  cache->memory_ = memory;
  const int64_t slots = config.num_blocks * config.block_size;
  const int64_t k_bytes = slots * model.n_head_kv * model.head_dim * ElementBytes(config.type);
  const int64_t v_bytes = slots * model.n_head_kv * model.value_dim * ElementBytes(config.type);
  auto* cursor = static_cast<uint8_t*>(memory);
  for (int64_t i = 0; i < model.n_layer; ++i) {
    cache->layers_.push_back(kernels::KvLayer{.type = config.type,
                                              .k = cursor,
                                              .v = cursor + k_bytes,
                                              .num_blocks = config.num_blocks,
                                              .block_size = config.block_size,
                                              .n_kv_heads = model.n_head_kv,
                                              .head_dim = model.head_dim,
                                              .value_dim = model.value_dim});
    cursor += k_bytes + v_bytes;
  }
  return cache;
}

KvCache::~KvCache() {
  if (memory_ != nullptr) ::munmap(memory_, bytes_);
}

}  // namespace shoal::worker
