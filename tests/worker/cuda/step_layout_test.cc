// The CUDA engine's host-side step layout, checked on the CPU against the batch's own
// meaning: every token's slot is where its block table puts its position, the tables
// the attention kernel reads hold each key's block, logits rows are the ones asked for,
// the RoPE angles are the CPU's for each layer kind, and attention groups cover the
// tokens in order within the scores budget.
#include "worker/cuda/step_layout.h"

#include <vector>

#include "gtest/gtest.h"
#include "kernels/attention/paged_attention.h"
#include "kernels/ops/rope.h"
#include "model/model_file.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"
#include "worker/forward/layer_rope.h"

namespace shoal::worker::cuda {
namespace {

constexpr int64_t kBlockSize = 16;

// Three sequences: a 21-token chunk at position 30 wanting every row, a decode at
// position 70 wanting its last, and a 5-token chunk at 0 wanting none, over tables
// that are not in order.
struct MixedBatch {
  std::vector<int32_t> tokens;
  std::vector<std::vector<int32_t>> tables = {{9, 3, 7, 1, 12}, {2, 8, 0, 5, 11, 6}, {4, 10}};
  ForwardBatch batch;

  MixedBatch() {
    const int64_t starts[] = {30, 70, 0}, lengths[] = {21, 1, 5};
    const LogitsWanted wanted[] = {LogitsWanted::kAll, LogitsWanted::kLast, LogitsWanted::kNone};
    for (int i = 0; i < 3; ++i) {
      batch.sequences.push_back({.first_token = static_cast<int64_t>(tokens.size()),
                                 .n_tokens = lengths[i],
                                 .start_position = starts[i],
                                 .block_table = tables[i],
                                 .logits = wanted[i]});
      for (int64_t j = 0; j < lengths[i]; ++j) tokens.push_back(static_cast<int32_t>(100 * i + j));
    }
    batch.tokens = tokens;
  }
};

model::ModelConfig Config(const std::string& arch) {
  auto model = model::ModelFile::Open(::shoal::testing::TestModelPath(arch, "q8_0"));
  EXPECT_OK(model.status());
  return (*model)->config();
}

TEST(StepLayout, SlotsTablesAndLogitRowsFollowTheBatch) {
  const model::ModelConfig c = Config("llama");
  MixedBatch m;
  StepLayout layout;
  BuildStepLayout(c, m.batch, kBlockSize, nullptr, int64_t{1} << 30, layout);
  EXPECT_EQ(layout.tokens, m.tokens);
  ASSERT_EQ(layout.positions.size(), m.tokens.size());
  for (const SequenceChunk& s : m.batch.sequences) {
    for (int64_t j = 0; j < s.n_tokens; ++j) {
      const int64_t t = s.first_token + j, position = s.start_position + j;
      EXPECT_EQ(layout.positions[t], position);
      EXPECT_EQ(layout.slots[t], s.block_table[position / kBlockSize] * kBlockSize + position % kBlockSize);
      // Every key the token sees is found through its table offset.
      for (int64_t p = 0; p <= position; p += 1) {
        EXPECT_EQ(layout.tables[layout.table_offsets[t] + p / kBlockSize], s.block_table[p / kBlockSize])
            << "token " << t << " key " << p;
      }
    }
  }
  // Only the blocks up to each sequence's last position: 4 + 5 + 1.
  EXPECT_EQ(layout.tables.size(), 10u);
  std::vector<int32_t> rows;
  for (int32_t t = 0; t < 21; ++t) rows.push_back(t);
  rows.push_back(21);
  EXPECT_EQ(layout.logit_rows, rows);
  EXPECT_EQ(static_cast<int64_t>(layout.logit_rows.size()), m.batch.num_logit_rows());
}

TEST(StepLayout, RopeAnglesAreTheCpusForEachLayerKind) {
  const model::ModelConfig c = Config("gemma3");
  ASSERT_GT(c.sliding_window, 0);
  MixedBatch m;
  StepLayout layout;
  BuildStepLayout(c, m.batch, kBlockSize, nullptr, int64_t{1} << 30, layout);
  ASSERT_TRUE(layout.any_sliding);
  for (bool sliding : {false, true}) {
    const kernels::RopeParams rope = LayerRope(c, sliding, nullptr);
    const std::vector<float>& angles = sliding ? layout.rope_sliding : layout.rope_global;
    ASSERT_EQ(angles.size(), m.tokens.size() * rope.n_rot);
    std::vector<float> expected(rope.n_rot);
    for (size_t t = 0; t < m.tokens.size(); ++t) {
      kernels::RopeAngles(rope, layout.positions[t], expected.data());
      EXPECT_EQ(std::vector<float>(angles.begin() + t * rope.n_rot, angles.begin() + (t + 1) * rope.n_rot),
                expected)
          << (sliding ? "sliding" : "global") << " token " << t;
    }
  }
  // A model without sliding layers gets no sliding angles or groups.
  BuildStepLayout(Config("qwen3"), m.batch, kBlockSize, nullptr, int64_t{1} << 30, layout);
  EXPECT_FALSE(layout.any_sliding);
  EXPECT_TRUE(layout.rope_sliding.empty());
  EXPECT_TRUE(layout.groups_sliding.empty());
}

TEST(StepLayout, AttentionGroupsCoverTheTokensWithinTheBudget) {
  const model::ModelConfig c = Config("gemma3");
  MixedBatch m;
  StepLayout layout;
  // Unbounded, about four decode tokens' scores, and less than one token's.
  const int64_t some = 4 * 71 * c.n_head;
  for (int64_t budget : {int64_t{1} << 30, some, int64_t{1}}) {
    SCOPED_TRACE(budget);
    BuildStepLayout(c, m.batch, kBlockSize, nullptr, budget, layout);
    for (bool sliding : {false, true}) {
      const auto& groups = sliding ? layout.groups_sliding : layout.groups_global;
      const kernels::AttentionShape shape{.sliding_window = sliding ? c.sliding_window : 0};
      int64_t next = 0;
      for (const AttentionGroup& g : groups) {
        EXPECT_EQ(g.first, next);
        ASSERT_GT(g.n, 0);
        int64_t most = 0;
        for (int64_t t = g.first; t < g.first + g.n; ++t) {
          most = std::max(most, layout.positions[t] - kernels::FirstVisiblePosition(shape, layout.positions[t]) + 1);
        }
        EXPECT_EQ(g.max_keys, most);
        if (g.n > 1) {
          EXPECT_LE(g.n * c.n_head * g.max_keys, budget);
        }
        EXPECT_LE(g.n * c.n_head * g.max_keys, layout.most_scores);
        next += g.n;
      }
      EXPECT_EQ(next, static_cast<int64_t>(m.tokens.size()));
      if (budget == 1) {
        EXPECT_EQ(groups.size(), m.tokens.size());  // one token a group
      } else if (budget == some) {
        if (!sliding) {  // sliding layers see few keys: they may fit one group
          EXPECT_GT(groups.size(), 1u);
        }
        EXPECT_LT(groups.size(), m.tokens.size());
      } else {
        EXPECT_EQ(groups.size(), 1u);
      }
    }
  }
}

}  // namespace
}  // namespace shoal::worker::cuda
