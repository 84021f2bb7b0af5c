#include "worker/forward/cpu_engine.h"

#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "fmt/format.h"
#include "kernels/cpu_features.h"
#include "worker/forward/decoder.h"
#include "worker/forward/host_memory.h"

namespace shoal::worker {
namespace {

// Room kept for activations, logits and sampler buffers beyond weights and KV.
constexpr int64_t kActivationReserveBytes = int64_t{256} << 20;

class CpuForwardEngine final : public ForwardEngine {
 public:
  CpuForwardEngine(const model::ModelFile& model, std::unique_ptr<ThreadPool> pool,
                   std::unique_ptr<Decoder> decoder, std::unique_ptr<KvCache> kv)
      : model_(model), pool_(std::move(pool)), decoder_(std::move(decoder)), kv_(std::move(kv)) {}

  absl::Status Forward(const ForwardBatch& batch, std::span<float> logits) override {
    return decoder_->Forward(batch, *kv_, logits);
  }
  const model::ModelConfig& config() const override { return decoder_->config(); }
  int64_t num_kv_blocks() const override { return kv_->num_blocks(); }
  int64_t kv_cache_bytes() const override { return kv_->total_bytes(); }
  int64_t kv_block_size() const override { return kv_->block_size(); }
  std::span<const int64_t> expert_token_counts() const override {
    return decoder_->expert_token_counts();
  }
  std::string description() const override {
    return fmt::format("cpu ({} thread{}, {})", pool_->num_threads(),
                       pool_->num_threads() == 1 ? "" : "s",
                       kernels::CpuLevelName(kernels::BestCpuLevel()));
  }
  int64_t weight_bytes() const override {
    return static_cast<int64_t>(model_.gguf().file_size());
  }

 private:
  const model::ModelFile& model_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<KvCache> kv_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ForwardEngine>> CreateCpuForwardEngine(
    const model::ModelFile& model, const EngineOptions& options) {
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<ThreadPool> pool, ThreadPool::Create(options.threads));
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<Decoder> decoder,
                         Decoder::Create(model, *pool, {.interleave = options.interleave_weights}));
  KvCacheConfig kv_config{.block_size = options.kv.block_size, .type = options.kv.type};
  const int64_t block_bytes = KvCache::BytesPerBlock(model.config(), kv_config);
  const HostMemory memory = ReadHostMemory();
  if (options.kv.exact_blocks > 0) {
    kv_config.num_blocks = options.kv.exact_blocks;
  } else {
    const int64_t total =
        options.kv.total_memory_bytes > 0 ? options.kv.total_memory_bytes : memory.total_bytes;
    // The weights count at the file's size: mapped or repacked, that much stays resident.
    const int64_t used = static_cast<int64_t>(model.gguf().file_size()) + kActivationReserveBytes;
    SHOAL_ASSIGN_OR_RETURN(kv_config.num_blocks,
                           KvBlocksInBudget(options.kv, block_bytes, total, used, "CPU"));
  }
  // The cache is committed now (KvCache::Create): refuse a size the machine cannot
  // hold at start rather than be killed by the OOM killer under load hours later.
  if (kv_config.num_blocks > (memory.available_bytes - kActivationReserveBytes) / block_bytes) {
    return absl::ResourceExhaustedError(fmt::format(
        "a KV cache of {} blocks needs {} MiB, but only {} MiB of memory are available; lower "
        "--max-num-seqs, --kv-memory-fraction or --max-kv-blocks",
        kv_config.num_blocks, (kv_config.num_blocks * block_bytes) >> 20,
        memory.available_bytes >> 20));
  }
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> kv, KvCache::Create(model.config(), kv_config));
  return std::make_unique<CpuForwardEngine>(model, std::move(pool), std::move(decoder),
                                            std::move(kv));
}

}  // namespace shoal::worker
