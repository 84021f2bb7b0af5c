// Whole-row passes over a vocabulary of logits, written with 4-wide GCC vector
// extensions (SSE2 / NEON) so that a 262144-token row costs tens of microseconds a pass.
// Conventions shared by the sampler: NaN logits count as -inf (never chosen, weight 0),
// and weights are exp((logit - max) * inv_temperature) in float, accumulated in double.
// Stateless functions, safe on any thread.
#ifndef SHOAL_WORKER_SAMPLER_LOGIT_MATH_H_
#define SHOAL_WORKER_SAMPLER_LOGIT_MATH_H_

#include <cstdint>
#include <span>

namespace shoal::worker {

// Weights are summed per block of this many tokens, so a draw can skip to its block.
inline constexpr int64_t kWeightBlock = 1024;

inline constexpr int64_t NumWeightBlocks(int64_t n) {
  return (n + kWeightBlock - 1) / kWeightBlock;
}

// The largest logit, ignoring NaN; -inf when there is none.
float MaxLogit(std::span<const float> logits);

// The first index holding exactly `value`, or -1.
int64_t FirstIndexOf(std::span<const float> logits, float value);

// The first index >= start whose value is >= threshold (AtLeast) or > threshold
// (Above), or values.size() when there is none. NaN never qualifies.
int64_t FindFirstAtLeast(std::span<const float> values, int64_t start, float threshold);
int64_t FindFirstAbove(std::span<const float> values, int64_t start, float threshold);

// How many logits equal `value`.
int64_t CountEqual(std::span<const float> logits, float value);

// exp(x) for x <= 0, about 1 ulp (Cephes' polynomial); 0 below -87 and for NaN.
float ExpNonPositive(float x);

// weights[i] = exp((logits[i] - max) * inv_temperature), or 0 when that is below
// min_weight or the logit is NaN / -inf (or under e^-87). `max` must be finite and
// >= every logit. block_sums[b] gets the sum of block b (NumWeightBlocks of them);
// returns the total.
double ComputeWeights(std::span<const float> logits, float max, float inv_temperature,
                      float min_weight, std::span<float> weights, std::span<double> block_sums);

// sum_i exp(logits[i] - max), NaN and -inf contributing 0 (log-softmax's normalizer).
double SumExp(std::span<const float> logits, float max);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_LOGIT_MATH_H_
