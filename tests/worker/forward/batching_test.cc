// A batch of different sequences, with prompts split into prefill chunks at arbitrary
// boundaries and mixed with decode-sized chunks, gives the same logits as running each
// sequence alone in one piece; and invalid batches are rejected before anything runs.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"
#include "tests/worker/forward/forward_runner.h"

namespace shoal::worker {
namespace {

using ::shoal::testing::ForwardRunner;
using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

struct Sequence {
  std::vector<int32_t> tokens;
  std::vector<int32_t> blocks;
  std::vector<float> reference;  // logits at every position, run alone
};

std::vector<int32_t> RandomTokens(std::mt19937& rng, int n, int64_t vocab) {
  std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> tokens(n);
  for (int32_t& t : tokens) t = dist(rng);
  return tokens;
}

// Each step lists, per sequence, how many of its tokens to run next (0 = not in this
// step); sequences advance independently.
using Schedule = std::vector<std::vector<int>>;

void ExpectBatchedEqualsAlone(const std::string& arch, const Schedule& schedule,
                              const std::vector<int>& lengths) {
  SCOPED_TRACE(arch);
  const std::string path = ::shoal::testing::TestModelPath(arch, "f32");
  ASSERT_OK_AND_ASSIGN(auto runner, ForwardRunner::Create(path, kernels::KvType::kF32));
  const int64_t V = runner->n_vocab();
  std::mt19937 rng(7);
  std::vector<Sequence> seqs(lengths.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    seqs[i].tokens = RandomTokens(rng, lengths[i], V);
    seqs[i].blocks = ForwardRunner::BlockTable(static_cast<int32_t>(i * 8), 8);
    ASSERT_OK_AND_ASSIGN(seqs[i].reference,
                         runner->Run(seqs[i].tokens, 0, seqs[i].blocks, LogitsWanted::kAll));
  }
  std::vector<int64_t> done(seqs.size(), 0);
  for (const std::vector<int>& step : schedule) {
    ForwardBatch batch;
    std::vector<int32_t> tokens;
    for (size_t i = 0; i < seqs.size(); ++i) {
      if (step[i] == 0) continue;
      batch.sequences.push_back({.first_token = static_cast<int64_t>(tokens.size()),
                                 .n_tokens = step[i],
                                 .start_position = done[i],
                                 .block_table = seqs[i].blocks,
                                 .logits = LogitsWanted::kAll});
      tokens.insert(tokens.end(), seqs[i].tokens.begin() + done[i],
                    seqs[i].tokens.begin() + done[i] + step[i]);
    }
    batch.tokens = tokens;
    std::vector<float> logits(batch.num_logit_rows() * V);
    ASSERT_OK(runner->decoder().Forward(batch, runner->kv(), logits));
    int64_t row = 0;
    for (size_t i = 0; i < seqs.size(); ++i) {
      for (int j = 0; j < step[i]; ++j, ++row) {
        const float* expected = seqs[i].reference.data() + (done[i] + j) * V;
        const float* actual = logits.data() + row * V;
        double diff = 0, norm = 0;
        for (int64_t v = 0; v < V; ++v) {
          diff += (actual[v] - expected[v]) * double{actual[v] - expected[v]};
          norm += double{expected[v]} * expected[v];
        }
        // Rows never mix in any op, so only a different summation order inside a kernel
        // (chosen by batch size) can change the result.
        ASSERT_LT(std::sqrt(diff / norm), 1e-5) << "sequence " << i << " position " << done[i] + j;
      }
      done[i] += step[i];
    }
  }
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(done[i], lengths[i]);
}

TEST(BatchingTest, MixedChunksMatchEachSequenceAlone) {
  // Three sequences of 30, 17 and 45 tokens: chunked prefill at odd boundaries, decode
  // steps of one token, and sequences entering and leaving the batch.
  const Schedule schedule = {{10, 17, 5}, {7, 0, 28}, {1, 0, 1}, {12, 0, 11}};
  for (const char* arch : {"llama", "qwen3", "qwen3moe", "gemma3"}) {
    ExpectBatchedEqualsAlone(arch, schedule, {30, 17, 45});
  }
}

TEST(ExpertCountsTest, EveryTokenIsCountedOncePerChosenExpertAndLayer) {
  // The placement planner's input: per (layer, expert) the tokens routed there. Running
  // a prompt alone or split into chunks must count the same tokens, k per layer each.
  const std::string path = ::shoal::testing::TestModelPath("qwen3moe", "f32");
  ASSERT_OK_AND_ASSIGN(auto whole, ForwardRunner::Create(path, kernels::KvType::kF32));
  ASSERT_OK_AND_ASSIGN(auto chunked, ForwardRunner::Create(path, kernels::KvType::kF32));
  const model::ModelConfig& c = whole->model().config();
  std::mt19937 rng(11);
  const std::vector<int32_t> tokens = RandomTokens(rng, 37, c.n_vocab);
  const std::vector<int32_t> blocks = ForwardRunner::BlockTable(0, 4);
  ASSERT_OK(whole->Run(tokens, 0, blocks, LogitsWanted::kLast).status());
  ASSERT_OK(chunked->Run(std::span(tokens).first(20), 0, blocks, LogitsWanted::kLast).status());
  ASSERT_OK(chunked->Run(std::span(tokens).subspan(20), 20, blocks, LogitsWanted::kLast).status());
  const auto counts = whole->decoder().expert_token_counts();
  ASSERT_EQ(counts.size(), static_cast<size_t>(c.n_layer * c.n_expert));
  for (int64_t layer = 0; layer < c.n_layer; ++layer) {
    int64_t total = 0, used = 0;
    for (int64_t e = 0; e < c.n_expert; ++e) {
      const int64_t n = counts[layer * c.n_expert + e];
      EXPECT_LE(n, 37) << "an expert sees a token at most once";
      total += n;
      used += n > 0;
    }
    EXPECT_EQ(total, 37 * c.n_expert_used) << "layer " << layer;
    EXPECT_GT(used, c.n_expert_used) << "37 random tokens should not all pick the same experts";
  }
  EXPECT_THAT(chunked->decoder().expert_token_counts(), ::testing::ElementsAreArray(counts));
}

class InvalidBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(
        runner_, ForwardRunner::Create(::shoal::testing::TestModelPath("llama", "f32"),
                                       kernels::KvType::kF16, /*threads=*/1, /*num_blocks=*/8));
  }
  absl::Status Run(std::vector<int32_t> tokens, int64_t start, std::vector<int32_t> blocks) {
    return runner_->Run(tokens, start, blocks, LogitsWanted::kLast).status();
  }
  std::unique_ptr<ForwardRunner> runner_;
};

TEST_F(InvalidBatchTest, TokenOutsideTheVocabulary) {
  EXPECT_THAT(Run({1, 4000}, 0, {0}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("token id 4000 is outside the vocabulary")));
  EXPECT_THAT(Run({-1}, 0, {0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token id -1")));
}

TEST_F(InvalidBatchTest, PositionsBeyondTheContext) {
  EXPECT_THAT(Run({1}, 2048, {0}), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("exceed the model's context length 2048")));
}

TEST_F(InvalidBatchTest, BadBlockTables) {
  EXPECT_THAT(Run(std::vector<int32_t>(17, 1), 0, {0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot hold 17 positions")));
  EXPECT_THAT(Run({1}, 0, {8}), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("KV block id 8 is outside [0, 8)")));
}

TEST_F(InvalidBatchTest, ChunksMustCoverTheTokensAndLogitsMustFit) {
  const std::vector<int32_t> tokens = {1, 2, 3};
  const std::vector<int32_t> blocks = {0};
  ForwardBatch batch;
  batch.tokens = tokens;
  batch.sequences.push_back({.first_token = 0, .n_tokens = 2, .block_table = blocks});
  std::vector<float> logits(runner_->n_vocab());
  EXPECT_THAT(runner_->decoder().Forward(batch, runner_->kv(), logits),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cover every token")));
  batch.sequences[0].n_tokens = 3;
  std::vector<float> too_small(10);
  EXPECT_THAT(runner_->decoder().Forward(batch, runner_->kv(), too_small),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("logits buffer holds 10")));
}

}  // namespace
}  // namespace shoal::worker
