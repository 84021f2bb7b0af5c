// How a CPU worker sizes its KV cache at registration: from kv_cache_sequences full
// contexts when the scheduler sets it (many short sequences admitted, a few full
// contexts of memory), else from max_num_seqs.
#include <cstdint>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/status_macros.h"
#include "model/model_file.h"
#include "shoal/v1/worker.pb.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"
#include "worker/forward/forward_engine.h"
#include "worker/step/step_executor.h"

namespace shoal::worker {
namespace {

using ::shoal::testing::StatusIs;

constexpr int kBlockSize = 16;

v1::RegisterRequest Request(int32_t max_num_seqs, int32_t kv_cache_sequences) {
  v1::RegisterRequest request;
  request.set_rank(0);
  request.set_world_size(1);
  request.set_model_path(::shoal::testing::TestModelPath("llama", "f32"));
  request.set_kv_block_size(kBlockSize);
  request.set_max_num_seqs(max_num_seqs);
  request.set_kv_cache_sequences(kv_cache_sequences);
  return request;
}

absl::StatusOr<int64_t> KvBlocks(int32_t max_num_seqs, int32_t kv_cache_sequences) {
  EngineOptions options;
  options.threads = 1;
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<StepExecutor> executor,
                         StepExecutor::Create(Request(max_num_seqs, kv_cache_sequences), options));
  return executor->registration().num_kv_blocks();
}

int64_t ContextLength() {
  auto model = model::ModelFile::Open(::shoal::testing::TestModelPath("llama", "f32"));
  EXPECT_OK(model);
  return model.ok() ? (*model)->config().context_length : 0;
}

TEST(KvSizingTest, KvCacheSequencesSizesTheCacheWhenSet) {
  ASSERT_OK_AND_ASSIGN(const int64_t blocks, KvBlocks(256, 2));
  EXPECT_EQ(blocks, KvBlocksForReplica(2, ContextLength(), kBlockSize));
}

TEST(KvSizingTest, MaxNumSeqsSizesTheCacheOtherwise) {
  ASSERT_OK_AND_ASSIGN(const int64_t blocks, KvBlocks(3, 0));
  EXPECT_EQ(blocks, KvBlocksForReplica(3, ContextLength(), kBlockSize));
}

TEST(KvSizingTest, NegativeKvCacheSequencesIsRefused) {
  EXPECT_THAT(KvBlocks(8, -1), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("kv_cache_sequences")));
}

}  // namespace
}  // namespace shoal::worker
