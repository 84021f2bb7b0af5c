#include "worker/selftest/model_forwards.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "common/status_macros.h"
#include "fmt/format.h"

namespace shoal::worker {
namespace {

// Two sequences: A's 40-token prompt in chunks of 23 and 17 (kAll), B's 9-token prompt
// (kLast) joining with A's first decode, then decode steps of both.
constexpr int64_t kPromptA = 40, kFirstChunkA = 23, kPromptB = 9, kDecodeSteps = 6;
constexpr int64_t kBlocksPerSequence = 8;  // of 16 tokens: 128 positions each

struct Sequence {
  std::vector<int32_t> tokens;  // prompt, then the decoded tokens
  std::vector<int32_t> blocks;
  int64_t done = 0;             // tokens in the cache
};

int32_t ArgMax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

}  // namespace

bool ModelForwardBounds::Admits(const ModelForwardComparison& c) const {
  // Written so that a NaN fails.
  return c.max_nrmse <= max_nrmse && c.median_nrmse <= median_nrmse;
}

std::string ModelForwardBounds::ToString() const {
  if (max_nrmse == median_nrmse) return fmt::format("nrmse {:.2g}", max_nrmse);
  return fmt::format("nrmse max {:.2g}, median {:.2g}", max_nrmse, median_nrmse);
}

ModelForwardBounds ModelForwardBoundsFor(const model::ModelFile& model,
                                         const ModelForwardComparison* cpu_spread,
                                         bool bf16_weights) {
  bool all_f32 = true;
  for (const auto& tensor : model.gguf().tensors()) all_f32 &= tensor.type == GgmlType::kF32;
  ModelForwardBounds bounds{.max_nrmse = 0.25, .median_nrmse = 5e-2};
  if (all_f32 && !bf16_weights) bounds = {.max_nrmse = 1e-3, .median_nrmse = 1e-3};
  if (cpu_spread != nullptr && !(all_f32 && !bf16_weights)) {
    constexpr double kSpreadFactor = 3.0;
    bounds.max_nrmse = std::max(bounds.max_nrmse, kSpreadFactor * cpu_spread->max_nrmse);
    bounds.median_nrmse = std::max(bounds.median_nrmse, kSpreadFactor * cpu_spread->median_nrmse);
  }
  return bounds;
}

absl::StatusOr<ModelForwardComparison> CompareModelForwards(ForwardEngine& candidate,
                                                            ForwardEngine& reference) {
  const model::ModelConfig& c = reference.config();
  const int64_t V = c.n_vocab;
  for (ForwardEngine* engine : {&candidate, &reference}) {
    if (engine->kv_block_size() != 16 || engine->num_kv_blocks() < 2 * kBlocksPerSequence) {
      return absl::InvalidArgumentError(
          fmt::format("model forwards need 16-token KV blocks, at least {} of them",
                      2 * kBlocksPerSequence));
    }
  }
  std::mt19937 rng(20261204);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(V - 1));
  Sequence a, b;
  for (int64_t i = 0; i < kPromptA; ++i) a.tokens.push_back(token(rng));
  for (int64_t i = 0; i < kPromptB; ++i) b.tokens.push_back(token(rng));
  std::vector<int32_t> all(2 * kBlocksPerSequence);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  a.blocks.assign(all.begin(), all.begin() + kBlocksPerSequence);
  b.blocks.assign(all.begin() + kBlocksPerSequence, all.end());

  ModelForwardComparison result;
  int64_t agree = 0;
  std::vector<float> got, want;
  std::vector<double> row_nrmse;
  // Runs chunks (sequence, n tokens, logits) on both engines, compares the rows, and
  // appends each sequence's next token (the reference's argmax) when it asked for it.
  const auto step = [&](std::vector<std::tuple<Sequence*, int64_t, LogitsWanted>> chunks) -> absl::Status {
    ForwardBatch batch;
    std::vector<int32_t> tokens;
    for (auto& [s, n, wanted] : chunks) {
      batch.sequences.push_back({.first_token = static_cast<int64_t>(tokens.size()),
                                 .n_tokens = n,
                                 .start_position = s->done,
                                 .block_table = s->blocks,
                                 .logits = wanted});
      tokens.insert(tokens.end(), s->tokens.begin() + s->done, s->tokens.begin() + s->done + n);
    }
    batch.tokens = tokens;
    const int64_t rows = batch.num_logit_rows();
    got.assign(rows * V, 0.0f);
    want.assign(rows * V, 0.0f);
    SHOAL_RETURN_IF_ERROR(candidate.Forward(batch, got));
    SHOAL_RETURN_IF_ERROR(reference.Forward(batch, want));
    for (int64_t r = 0; r < rows; ++r) {
      const std::span<const float> g(got.data() + r * V, V), w(want.data() + r * V, V);
      double diff = 0.0, norm = 0.0;
      for (int64_t i = 0; i < V; ++i) {
        diff += (static_cast<double>(g[i]) - w[i]) * (static_cast<double>(g[i]) - w[i]);
        norm += static_cast<double>(w[i]) * w[i];
      }
      const double nrmse = std::sqrt(diff / std::max(norm, 1e-30));
      // NaN must fail, so it is taken explicitly rather than through max().
      result.max_nrmse = std::isnan(nrmse) ? nrmse : std::max(result.max_nrmse, nrmse);
      row_nrmse.push_back(nrmse);
      agree += ArgMax(g) == ArgMax(w);
      ++result.rows;
    }
    int64_t row = 0;
    for (auto& [s, n, wanted] : chunks) {
      s->done += n;
      if (wanted == LogitsWanted::kNone) continue;
      row += wanted == LogitsWanted::kAll ? n : 1;
      if (s->done == static_cast<int64_t>(s->tokens.size())) {
        s->tokens.push_back(ArgMax(std::span<const float>(want.data() + (row - 1) * V, V)));
      }
    }
    return absl::OkStatus();
  };
  SHOAL_RETURN_IF_ERROR(step({{&a, kFirstChunkA, LogitsWanted::kAll}}));
  SHOAL_RETURN_IF_ERROR(step({{&a, kPromptA - kFirstChunkA, LogitsWanted::kAll}}));
  SHOAL_RETURN_IF_ERROR(step({{&a, 1, LogitsWanted::kLast}, {&b, kPromptB, LogitsWanted::kLast}}));
  for (int64_t i = 0; i < kDecodeSteps; ++i) {
    SHOAL_RETURN_IF_ERROR(step({{&b, 1, LogitsWanted::kLast}, {&a, 1, LogitsWanted::kLast}}));
  }
  result.top1_agreement = static_cast<double>(agree) / static_cast<double>(result.rows);
  // NaNs sort unpredictably; max_nrmse already carries them.
  std::erase_if(row_nrmse, [](double x) { return std::isnan(x); });
  if (!row_nrmse.empty()) {
    const auto middle = row_nrmse.begin() + static_cast<std::ptrdiff_t>(row_nrmse.size() / 2);
    std::nth_element(row_nrmse.begin(), middle, row_nrmse.end());
    result.median_nrmse = *middle;
  }
  return result;
}

}  // namespace shoal::worker
