// Test helper: a model loaded with its decoder, a KV cache and a trivial block
// allocator, running one sequence (or several) the way the worker will, without a
// scheduler.
#ifndef SHOAL_TESTS_WORKER_FORWARD_FORWARD_RUNNER_H_
#define SHOAL_TESTS_WORKER_FORWARD_FORWARD_RUNNER_H_

#include <memory>
#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "model/model_file.h"
#include "worker/forward/decoder.h"
#include "worker/kv/kv_cache.h"

namespace shoal::testing {

class ForwardRunner {
 public:
  static absl::StatusOr<std::unique_ptr<ForwardRunner>> Create(const std::string& path,
                                                               kernels::KvType kv_type,
                                                               int threads = 2,
                                                               int64_t num_blocks = 256,
                                                               bool interleave = true) {
    auto runner = std::unique_ptr<ForwardRunner>(new ForwardRunner());
    SHOAL_ASSIGN_OR_RETURN(runner->model_, model::ModelFile::Open(path));
    SHOAL_ASSIGN_OR_RETURN(runner->pool_, ThreadPool::Create(threads));
    SHOAL_ASSIGN_OR_RETURN(runner->decoder_,
                           worker::Decoder::Create(*runner->model_, *runner->pool_,
                                                   {.interleave = interleave}));
    SHOAL_ASSIGN_OR_RETURN(runner->kv_,
                           worker::KvCache::Create(runner->model_->config(),
                                                   {.num_blocks = num_blocks, .type = kv_type}));
    return runner;
  }

  const model::ModelFile& model() const { return *model_; }
  worker::Decoder& decoder() { return *decoder_; }
  worker::KvCache& kv() { return *kv_; }
  int64_t n_vocab() const { return model_->config().n_vocab; }

  // A block table of the `n` blocks [first, first + n) in a fixed shuffled order, so
  // nothing depends on a sequence's blocks being contiguous.
  static std::vector<int32_t> BlockTable(int32_t first, int32_t n) {
    std::vector<int32_t> table(n);
    std::iota(table.begin(), table.end(), first);
    std::shuffle(table.begin(), table.end(), std::mt19937(first * 31 + n));
    return table;
  }

  // Runs `tokens` as one chunk at positions [start, start + n) and returns the logits
  // rows `wanted` asks for.
  absl::StatusOr<std::vector<float>> Run(std::span<const int32_t> tokens, int64_t start,
                                         std::span<const int32_t> block_table,
                                         worker::LogitsWanted wanted) {
    worker::ForwardBatch batch;
    batch.tokens = tokens;
    batch.sequences.push_back({.first_token = 0,
                               .n_tokens = static_cast<int64_t>(tokens.size()),
                               .start_position = start,
                               .block_table = block_table,
                               .logits = wanted});
    std::vector<float> logits(batch.num_logit_rows() * n_vocab());
    SHOAL_RETURN_IF_ERROR(decoder_->Forward(batch, *kv_, logits));
    return logits;
  }

 private:
  ForwardRunner() = default;
  std::unique_ptr<model::ModelFile> model_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<worker::Decoder> decoder_;
  std::unique_ptr<worker::KvCache> kv_;
};

inline int32_t ArgMax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_WORKER_FORWARD_FORWARD_RUNNER_H_
