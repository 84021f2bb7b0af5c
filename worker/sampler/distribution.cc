#include "worker/sampler/distribution.h"

#include <algorithm>
#include <limits>

#include "common/check.h"
#include "worker/sampler/logit_math.h"

namespace shoal::worker {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Top-k first (min_p and top-k are both thresholds on the logit, so they commute):
// only the k candidates get weights.
Distribution FromTopK(std::span<const float> logits, float max, const Truncation& t,
                      SamplerScratch& scratch) {
  std::span<Candidate> c(scratch.candidates);
  int64_t n = SelectTopK(logits, t.top_k, c);
  const float inv_temperature = 1.0f / t.temperature;
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    c[i].weight = ExpNonPositive((c[i].logit - max) * inv_temperature);
    // Weights fall along the sorted list, so min_p keeps a prefix.
    if (c[i].weight < t.min_p) {
      n = i;
      break;
    }
    total += c[i].weight;
  }
  if (t.top_p < 1.0f) n = SelectNucleus(c.first(n), total, t.top_p, &total);
  return {.candidates = c.first(n), .total = total};
}

// Some logits are +inf: the limit of the softmax shares all the mass among them.
Distribution FromInfinite(std::span<const float> logits, SamplerScratch& scratch) {
  std::span<Candidate> c(scratch.candidates);
  int64_t n = 0;
  for (int64_t i = 0; i < static_cast<int64_t>(logits.size()); ++i) {
    if (logits[i] == kInf) c[n++] = {static_cast<int32_t>(i), kInf, 1.0f};
  }
  return {.candidates = c.first(n), .total = static_cast<double>(n)};
}

Distribution FromWholeVocabulary(std::span<const float> logits, float max,
                                 const Truncation& t, SamplerScratch& scratch) {
  const int64_t vocab_size = static_cast<int64_t>(logits.size());
  std::span<float> weights(scratch.weights.data(), vocab_size);
  std::span<double> block_sums(scratch.block_sums.data(), NumWeightBlocks(vocab_size));
  const double total =
      ComputeWeights(logits, max, 1.0f / t.temperature, t.min_p, weights, block_sums);
  if (t.top_p >= 1.0f) return {.weights = weights, .block_sums = block_sums, .total = total};
  // The tokens of weight <= (1 - top_p) * total / vocab_size are the least likely and
  // weigh at most (1 - top_p) * total together, so top-p drops them all: only the
  // heavier ones need ranking.
  const double floor = (1.0 - t.top_p) * total / static_cast<double>(vocab_size);
  std::span<Candidate> c(scratch.candidates);
  int64_t n = GatherAbove(logits, weights, static_cast<float>(floor), c);
  double kept = 0;
  n = SelectNucleus(c.first(n), total, t.top_p, &kept);
  return {.candidates = c.first(n), .total = kept};
}

int32_t LastPositive(std::span<const float> weights, int64_t begin, int64_t end) {
  for (int64_t i = end - 1; i >= begin; --i) {
    if (weights[i] > 0.0f) return static_cast<int32_t>(i);
  }
  return -1;
}

int32_t DrawDense(std::span<const float> weights, std::span<const double> block_sums,
                  double target) {
  const int64_t n = static_cast<int64_t>(weights.size());
  int64_t last_block = -1;  // the last block with weight, for rounding at the very end
  for (int64_t b = 0; b < static_cast<int64_t>(block_sums.size()); ++b) {
    if (block_sums[b] <= 0.0) continue;
    last_block = b;
    const int64_t begin = b * kWeightBlock;
    const int64_t end = std::min(n, begin + kWeightBlock);
    if (target >= block_sums[b]) {
      target -= block_sums[b];
      continue;
    }
    double acc = 0;
    for (int64_t i = begin; i < end; ++i) {
      acc += weights[i];
      if (acc > target) return static_cast<int32_t>(i);
    }
    return LastPositive(weights, begin, end);  // the block's own sum rounded differently
  }
  SHOAL_CHECK(last_block >= 0);
  // u * total rounded to (or past) the very end.
  return LastPositive(weights, last_block * kWeightBlock,
                      std::min(n, (last_block + 1) * kWeightBlock));
}

}  // namespace

int32_t Distribution::Draw(double u) const {
  const double target = u * total;
  if (dense()) return DrawDense(weights, block_sums, target);
  SHOAL_CHECK(!candidates.empty());
  double acc = 0;
  for (const Candidate& c : candidates) {
    acc += c.weight;
    if (acc > target) return c.token_id;
  }
  // Rounding put u * total at the very end: the last candidate with weight.
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
    if (it->weight > 0.0f) return it->token_id;
  }
  return candidates.front().token_id;
}

Distribution BuildDistribution(std::span<const float> logits, float max,
                               const Truncation& truncation, SamplerScratch& scratch) {
  scratch.Prepare(static_cast<int64_t>(logits.size()));
  if (max == kInf) return FromInfinite(logits, scratch);
  if (truncation.top_k > 0) return FromTopK(logits, max, truncation, scratch);
  return FromWholeVocabulary(logits, max, truncation, scratch);
}

}  // namespace shoal::worker
