// Sampler: one sequence's token sampling. It holds the sequence's SamplingParams, its
// seeded random stream and the token history that penalties and min_tokens look at,
// and turns a row of logits into the next token (plus logprobs when asked). Owned by
// the worker (rank 0) per running sequence, created when the sequence first runs (or
// again after a preemption, from its prompt and output so far), used only on the
// worker's compute thread. The vocabulary-sized buffers live in a SamplerScratch the
// compute thread lends to every Sample() call.
//
// One Sample() call, in vLLM v1's order (vllm/v1/sample/sampler.py):
//   1. logprobs, when asked, from the raw logits (log-softmax: "raw_logprobs");
//   2. min_tokens: EOS and stop ids to -inf while the output is shorter;
//   3. logit_bias added;
//   4. penalties on tokens seen: repetition (prompt or output), frequency, presence;
//   5. temperature < 1e-5: greedy, the argmax (lowest id on ties); otherwise
//      temperature, min_p, top-k, top-p (distribution.h) and one draw from what is left,
//      with the uniform number u_n of the sequence's stream for output position n.
// NaN logits count as -inf; if some logits are +inf, those tokens share all the mass.
// A row left with no finite logit (all NaN / -inf) is an Internal error.
#ifndef SHOAL_WORKER_SAMPLER_SAMPLER_H_
#define SHOAL_WORKER_SAMPLER_SAMPLER_H_

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "worker/sampler/distribution.h"
#include "worker/sampler/raw_logprobs.h"
#include "worker/sampler/sampler_scratch.h"
#include "worker/sampler/sampling_params.h"
#include "worker/sampler/sampling_rng.h"
#include "worker/sampler/token_history.h"

namespace shoal::worker {

struct SamplerOptions {
  int32_t vocab_size = 0;  // the length of every logits row
  SamplingParams params;
  // The model's end-of-generation token ids (min_tokens holds them back).
  std::span<const int32_t> eos_token_ids;
  std::span<const int32_t> prompt_token_ids;
  // Tokens the sequence generated before it was preempted (its output so far).
  std::span<const int32_t> output_token_ids;
};

struct SampleResult {
  int32_t token_id = -1;
  // Set when params.logprobs is: the chosen token's raw logprob, and the
  // *params.logprobs most likely tokens, most likely first.
  bool has_logprobs = false;
  float logprob = 0.0f;
  int num_top_logprobs = 0;
  std::array<TokenLogprob, kMaxLogprobs> top_logprobs{};

  std::span<const TokenLogprob> top() const {
    return {top_logprobs.data(), static_cast<size_t>(num_top_logprobs)};
  }
};

class Sampler {
 public:
  // InvalidArgument for out-of-range params or token ids.
  static absl::StatusOr<Sampler> Create(const SamplerOptions& options);

  // Picks the next token from `logits` (vocab_size values, overwritten: used as
  // scratch) and records it in the sequence's output.
  absl::StatusOr<SampleResult> Sample(std::span<float> logits, SamplerScratch& scratch);

  // Steps 2-5 without drawing or recording: the distribution the next Sample() would
  // draw from (temperature > 0 only). For tests and diagnostics.
  absl::StatusOr<Distribution> NextDistribution(std::span<float> logits,
                                                SamplerScratch& scratch) const;

  const SamplingParams& params() const { return params_; }
  bool greedy() const { return params_.temperature < kGreedyBelow; }
  int32_t vocab_size() const { return vocab_size_; }
  int64_t num_output_tokens() const { return num_output_tokens_; }
  uint64_t seed() const { return seed_; }

  // vLLM's _SAMPLING_EPS: temperatures below it sample greedily.
  static constexpr float kGreedyBelow = 1e-5f;

 private:
  Sampler(const SamplerOptions& options, uint64_t seed);

  // Steps 2-4, in place.
  void ApplyProcessors(LogitEditor& logits) const;
  // Step 5, after the processors.
  absl::StatusOr<int32_t> Choose(std::span<float> logits, SamplerScratch& scratch) const;

  SamplingParams params_;
  int32_t vocab_size_;
  uint64_t seed_;
  SamplingRng rng_;
  Truncation truncation_;
  Penalties penalties_;
  std::vector<int32_t> min_tokens_blocked_;  // EOS and stop ids, deduplicated
  std::vector<std::pair<int32_t, float>> logit_bias_;  // sorted by id
  TokenHistory history_;  // filled only when penalties are on
  int64_t num_output_tokens_ = 0;
};

// Samples one token for each row: logits holds samplers.size() rows of the vocabulary
// size, `row_stride` floats apart (used as scratch). Stops at the first error.
absl::Status SampleBatch(std::span<Sampler* const> samplers, std::span<float> logits,
                         int64_t row_stride, SamplerScratch& scratch,
                         std::span<SampleResult> results);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_SAMPLER_H_
