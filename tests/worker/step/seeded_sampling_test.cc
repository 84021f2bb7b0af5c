// Seeded non-greedy sampling through the StepExecutor: a sequence with a seed gives the
// same tokens whether it runs alone or batched with other sequences (which join at
// other steps, prefill in other chunk sizes and sample with their own seeds), on the
// random-weight f32 llama model (tests/data_gen/models.py).
//
// Batching changes only the summation order inside some kernels (logits agree to ~1e-6
// relative, batching_test.cc), so a seeded draw could in principle land on the other
// side of a cumulative-probability boundary; with temperature 0.8 over a 4000-token
// vocabulary that needs a uniform draw within ~1e-6 of a boundary, far rarer than
// anything these 24 tokens x 2 runs could hit.
#include <cstdint>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "shoal/v1/worker.pb.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"
#include "worker/step/step_executor.h"

namespace shoal::worker {
namespace {

constexpr int kBlockSize = 16;
constexpr int kNewTokens = 24;

struct SequenceSpec {
  uint64_t id;
  std::vector<int32_t> prompt;
  uint64_t seed;
  float temperature;
  float top_p;
  int first_step;       // the step at which it joins the batch
  int prefill_chunk;    // prompt tokens per step while prefilling
  int32_t first_block;  // its blocks are [first_block, first_block + kBlocksEach)
};

constexpr int32_t kBlocksEach = 4;  // 64 positions: prompt + kNewTokens fit

std::unique_ptr<StepExecutor> MakeExecutor() {
  v1::RegisterRequest request;
  request.set_rank(0);
  request.set_world_size(1);
  request.set_model_path(::shoal::testing::TestModelPath("llama", "f32"));
  request.set_kv_block_size(kBlockSize);
  request.set_max_kv_blocks(16);
  EngineOptions options;
  options.threads = 2;
  options.kv.type = kernels::KvType::kF32;
  auto executor = StepExecutor::Create(request, options);
  EXPECT_OK(executor);
  return executor.ok() ? std::move(*executor) : nullptr;
}

// Runs `specs` together, each from its first_step on, until every one has sampled
// kNewTokens; returns each sequence's sampled tokens, in the order of `specs`.
std::vector<std::vector<int32_t>> Generate(const std::vector<SequenceSpec>& specs) {
  std::unique_ptr<StepExecutor> executor = MakeExecutor();
  if (executor == nullptr) return {};
  const size_t n = specs.size();
  std::vector<std::vector<int32_t>> sampled(n);
  std::vector<int64_t> position(n, 0);  // tokens already run
  for (int step = 0; step < 200; ++step) {
    v1::StepRequest request;
    request.set_step_id(step);
    std::vector<size_t> sampling;  // the specs that sample this step, in request order
    for (size_t i = 0; i < n; ++i) {
      const SequenceSpec& s = specs[i];
      if (step < s.first_step || static_cast<int>(sampled[i].size()) == kNewTokens) continue;
      v1::ScheduledSequence* scheduled = request.add_sequences();
      scheduled->set_sequence_id(s.id);
      scheduled->set_position(static_cast<int32_t>(position[i]));
      const int64_t prompt_len = static_cast<int64_t>(s.prompt.size());
      if (position[i] == 0) {
        v1::NewSequence* added = request.add_new_sequences();
        added->set_sequence_id(s.id);
        added->mutable_sampling()->set_temperature(s.temperature);
        added->mutable_sampling()->set_top_p(s.top_p);
        added->mutable_sampling()->set_seed(s.seed);
        for (int32_t t : s.prompt) added->add_prompt_token_ids(t);
        scheduled->set_block_table_offset(0);
        for (int32_t b = 0; b < kBlocksEach; ++b) scheduled->add_block_ids(s.first_block + b);
      } else {
        scheduled->set_block_table_offset(kBlocksEach);
      }
      if (position[i] < prompt_len) {  // a prefill chunk
        const int64_t end = std::min<int64_t>(prompt_len, position[i] + s.prefill_chunk);
        for (int64_t p = position[i]; p < end; ++p) scheduled->add_token_ids(s.prompt[p]);
        scheduled->set_sample(end == prompt_len);
        position[i] = end;
      } else {  // a decode step on the last sampled token
        scheduled->add_token_ids(sampled[i].back());
        scheduled->set_sample(true);
        position[i] += 1;
      }
      if (scheduled->sample()) sampling.push_back(i);
    }
    if (request.sequences_size() == 0) break;
    v1::StepResult result;
    executor->Step(request, result);
    EXPECT_EQ(result.error_message(), "") << "step " << step;
    EXPECT_EQ(result.tokens_size(), static_cast<int>(sampling.size()));
    if (!result.error_message().empty() ||
        result.tokens_size() != static_cast<int>(sampling.size())) {
      return {};
    }
    for (size_t k = 0; k < sampling.size(); ++k) {
      EXPECT_EQ(result.tokens(k).sequence_id(), specs[sampling[k]].id);
      sampled[sampling[k]].push_back(result.tokens(k).token_id());
    }
  }
  return sampled;
}

std::vector<int32_t> Prompt(int n, int32_t first, int32_t stride) {
  std::vector<int32_t> tokens(n);
  for (int i = 0; i < n; ++i) tokens[i] = (first + i * stride) % 3000 + 10;
  return tokens;
}

// The sequence under test: 21 prompt tokens, temperature 0.8, top_p 0.9, seed 1234.
SequenceSpec Subject(int first_step, int prefill_chunk, int32_t first_block) {
  return {.id = 7,
          .prompt = Prompt(21, 101, 37),
          .seed = 1234,
          .temperature = 0.8f,
          .top_p = 0.9f,
          .first_step = first_step,
          .prefill_chunk = prefill_chunk,
          .first_block = first_block};
}

TEST(SeededSamplingTest, BatchedWithOthersGivesTheSameTokensAsAlone) {
  const std::vector<std::vector<int32_t>> alone = Generate({Subject(0, 64, 0)});
  ASSERT_EQ(alone.size(), 1u);
  ASSERT_EQ(alone[0].size(), static_cast<size_t>(kNewTokens));

  // Two other seeded sequences, one already decoding when the subject joins at step 2
  // (and prefills in chunks of 8), one joining later; all with their own blocks.
  const std::vector<SequenceSpec> batch = {
      {.id = 3,
       .prompt = Prompt(30, 7, 11),
       .seed = 99,
       .temperature = 1.0f,
       .top_p = 1.0f,
       .first_step = 0,
       .prefill_chunk = 16,
       .first_block = 0},
      Subject(2, 8, 4),
      {.id = 11,
       .prompt = Prompt(5, 900, 3),
       .seed = 1234,
       .temperature = 0.8f,
       .top_p = 0.9f,
       .first_step = 4,
       .prefill_chunk = 64,
       .first_block = 8},
  };
  const std::vector<std::vector<int32_t>> batched = Generate(batch);
  ASSERT_EQ(batched.size(), 3u);
  EXPECT_EQ(batched[1], alone[0]);

  // The draws are not trivially deterministic: the sampled tokens vary, and another
  // seed gives another sequence.
  EXPECT_GE(std::set<int32_t>(alone[0].begin(), alone[0].end()).size(), 4u);
  SequenceSpec reseeded = Subject(0, 64, 0);
  reseeded.seed = 4321;
  const std::vector<std::vector<int32_t>> other_seed = Generate({reseeded});
  ASSERT_EQ(other_seed.size(), 1u);
  EXPECT_NE(other_seed[0], alone[0]);
}

}  // namespace
}  // namespace shoal::worker
