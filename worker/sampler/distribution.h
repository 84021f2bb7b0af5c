// Distribution: what a random (temperature > 0) token is drawn from, built from one row
// of processed logits in vLLM's order: temperature, then min_p (relative to the most
// likely token), then top-k, then top-p on what is left. Either dense (a weight per
// token of the vocabulary; the common no-truncation case) or a list of candidates,
// most likely first. Views into the SamplerScratch it was built in, valid until that
// scratch is used again.
#ifndef SHOAL_WORKER_SAMPLER_DISTRIBUTION_H_
#define SHOAL_WORKER_SAMPLER_DISTRIBUTION_H_

#include <cstdint>
#include <span>

#include "worker/sampler/candidates.h"
#include "worker/sampler/sampler_scratch.h"

namespace shoal::worker {

// The truncation settings of one sequence, already normalized: top_k 0 = off (and
// never >= the vocabulary size), top_p 1 = off, min_p 0 = off.
struct Truncation {
  float temperature = 1.0f;  // > 0
  int64_t top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
};

struct Distribution {
  // Dense: token i has weights[i]; block_sums[b] sums block b (kWeightBlock tokens).
  std::span<const float> weights;
  std::span<const double> block_sums;
  // Otherwise: the candidates kept, most likely first.
  std::span<const Candidate> candidates;
  double total = 0.0;  // the sum of the weights kept (> 0)

  bool dense() const { return !weights.empty(); }

  // The token whose cumulative weight interval holds u * total, walking the tokens in
  // id order (dense) or most likely first (candidates); u in [0, 1).
  int32_t Draw(double u) const;
};

// `max` must be MaxLogit(logits), not -inf. When it is +inf, the tokens at +inf share
// all the mass equally (the softmax's limit) and no truncation applies.
Distribution BuildDistribution(std::span<const float> logits, float max,
                               const Truncation& truncation, SamplerScratch& scratch);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_DISTRIBUTION_H_
