// ForwardEngine: device names, the KV budget's arithmetic, the CPU engine being the
// Decoder over its own cache, and CUDA devices refused clearly on a machine (or a
// build) without them, never a crash.
#include "worker/forward/forward_engine.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"
#include "tests/worker/forward/forward_runner.h"

namespace shoal::worker {
namespace {

using ::shoal::testing::ForwardRunner;
using ::shoal::testing::StatusIs;
using ::testing::AnyOf;
using ::testing::HasSubstr;

TEST(ParseDevice, AcceptsCpuCudaAndCudaWithAnOrdinal) {
  ASSERT_OK_AND_ASSIGN(Device cpu, ParseDevice("cpu"));
  EXPECT_EQ(cpu.kind, DeviceKind::kCpu);
  EXPECT_EQ(cpu.ToString(), "cpu");
  ASSERT_OK_AND_ASSIGN(Device cuda, ParseDevice("cuda"));
  EXPECT_EQ(cuda.kind, DeviceKind::kCuda);
  EXPECT_EQ(cuda.index, 0);
  ASSERT_OK_AND_ASSIGN(Device third, ParseDevice("cuda:3"));
  EXPECT_EQ(third.kind, DeviceKind::kCuda);
  EXPECT_EQ(third.index, 3);
  EXPECT_EQ(third.ToString(), "cuda:3");
}

TEST(ParseDevice, RejectsAnythingElseNamingTheText) {
  for (const char* bad : {"", "gpu", "CPU", "cuda:", "cuda:-1", "cuda:1x", "cuda:0:1", "cuda:99999999999"}) {
    EXPECT_THAT(ParseDevice(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(std::string("'") + bad + "'")))
        << bad;
  }
}

TEST(KvBlocksInBudget, BlocksFitTheFractionLeftAfterWhatIsUsed) {
  const KvBudget budget{.memory_fraction = 0.5};
  // Half of 1000 is 500; 100 used leaves 400: 13 blocks of 30 bytes.
  ASSERT_OK_AND_ASSIGN(int64_t blocks, KvBlocksInBudget(budget, 30, 1000, 100, "CPU"));
  EXPECT_EQ(blocks, 13);
  // Exactly one block's room is one block.
  ASSERT_OK_AND_ASSIGN(blocks, KvBlocksInBudget(budget, 30, 1000, 470, "CPU"));
  EXPECT_EQ(blocks, 1);
}

TEST(KvBlocksInBudget, TheCapApplies) {
  ASSERT_OK_AND_ASSIGN(int64_t blocks,
                       KvBlocksInBudget({.memory_fraction = 1.0, .max_blocks = 7}, 10, 1000, 0, "CPU"));
  EXPECT_EQ(blocks, 7);
}

TEST(KvBlocksInBudget, NoRoomIsResourceExhaustedNamingTheDevice) {
  EXPECT_THAT(KvBlocksInBudget({.memory_fraction = 0.5}, 30, 1000, 480, "cuda:0"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("cuda:0")));
  EXPECT_THAT(KvBlocksInBudget({.memory_fraction = 0.5}, 30, 1000, 900, "CPU"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("CPU")));
}

TEST(KvBlocksInBudget, TheFractionMustBeInZeroToOne) {
  for (double fraction : {0.0, -0.1, 1.5, std::nan("")}) {
    EXPECT_THAT(KvBlocksInBudget({.memory_fraction = fraction}, 30, 1000, 0, "CPU"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("(0, 1]")))
        << fraction;
  }
}

TEST(CpuForwardEngine, GivesTheDecodersLogitsOverItsOwnCache) {
  const std::string path = ::shoal::testing::TestModelPath("qwen3moe", "q8_0");
  ASSERT_OK_AND_ASSIGN(auto model, model::ModelFile::Open(path));
  ASSERT_OK_AND_ASSIGN(auto engine,
                       CreateForwardEngine(*model, {.threads = 2, .kv = {.exact_blocks = 12}}));
  EXPECT_EQ(engine->num_kv_blocks(), 12);
  EXPECT_EQ(engine->kv_block_size(), 16);
  EXPECT_THAT(engine->description(), HasSubstr("cpu (2 threads"));
  ASSERT_OK_AND_ASSIGN(auto runner, ForwardRunner::Create(path, kernels::KvType::kF16, 2, 12));

  std::vector<int32_t> tokens;
  for (int i = 0; i < 37; ++i) tokens.push_back((i * 131 + 7) % runner->n_vocab());
  const std::vector<int32_t> blocks = ForwardRunner::BlockTable(0, 3);
  ASSERT_OK_AND_ASSIGN(std::vector<float> expected,
                       runner->Run(tokens, 0, blocks, LogitsWanted::kAll));
  ForwardBatch batch;
  batch.tokens = tokens;
  batch.sequences.push_back({.first_token = 0,
                             .n_tokens = static_cast<int64_t>(tokens.size()),
                             .block_table = blocks,
                             .logits = LogitsWanted::kAll});
  std::vector<float> logits(expected.size());
  ASSERT_OK(engine->Forward(batch, logits));
  EXPECT_EQ(logits, expected);
  // Routed tokens are counted as the Decoder counts them.
  EXPECT_EQ(std::vector<int64_t>(engine->expert_token_counts().begin(),
                                 engine->expert_token_counts().end()),
            std::vector<int64_t>(runner->decoder().expert_token_counts().begin(),
                                 runner->decoder().expert_token_counts().end()));
}

TEST(CpuForwardEngine, SizesTheCacheFromTheMemoryBudget) {
  ASSERT_OK_AND_ASSIGN(auto model,
                       model::ModelFile::Open(::shoal::testing::TestModelPath("llama", "q8_0")));
  // 1 GiB of "RAM" at 50% less the file and the activation reserve.
  ASSERT_OK_AND_ASSIGN(
      auto engine,
      CreateForwardEngine(*model, {.kv = {.memory_fraction = 0.5, .total_memory_bytes = 1ll << 30}}));
  EXPECT_GT(engine->num_kv_blocks(), 1);
  ASSERT_OK_AND_ASSIGN(
      auto capped, CreateForwardEngine(*model, {.kv = {.memory_fraction = 0.5,
                                                       .max_blocks = 5,
                                                       .total_memory_bytes = 1ll << 30}}));
  EXPECT_EQ(capped->num_kv_blocks(), 5);
  EXPECT_THAT(CreateForwardEngine(*model, {.kv = {.memory_fraction = 0.01,
                                                  .total_memory_bytes = 1ll << 20}}),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("KV cache")));
}

TEST(CpuForwardEngine, RejectsAnInvalidBatchBeforeTouchingTheCache) {
  ASSERT_OK_AND_ASSIGN(auto model,
                       model::ModelFile::Open(::shoal::testing::TestModelPath("llama", "q8_0")));
  ASSERT_OK_AND_ASSIGN(auto engine, CreateForwardEngine(*model, {.kv = {.exact_blocks = 2}}));
  const std::vector<int32_t> tokens = {1, 2};
  const std::vector<int32_t> table = {5};  // beyond the 2 blocks
  ForwardBatch batch;
  batch.tokens = tokens;
  batch.sequences.push_back({.first_token = 0, .n_tokens = 2, .block_table = table});
  std::vector<float> logits(model->config().n_vocab);
  EXPECT_THAT(engine->Forward(batch, logits), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("block")));
}

// CI has no GPU: asking for one is a clear error (no device, or no CUDA in the build),
// naming the device, and never a crash.
TEST(CudaForwardEngine, WithoutTheDeviceIsUnavailableOrUnimplemented) {
  ASSERT_OK_AND_ASSIGN(auto model,
                       model::ModelFile::Open(::shoal::testing::TestModelPath("llama", "q8_0")));
  auto engine =
      CreateForwardEngine(*model, {.device = {.kind = DeviceKind::kCuda, .index = 0}});
  if (engine.ok()) GTEST_SKIP() << "this machine has a GPU: " << (*engine)->description();
  EXPECT_THAT(engine.status(),
              AnyOf(StatusIs(absl::StatusCode::kUnavailable, HasSubstr("CUDA")),
                    StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("cuda:0"))));
}

}  // namespace
}  // namespace shoal::worker
