// Logprobs as vLLM returns them by default ("raw_logprobs"): the log-softmax of the
// logits the model produced, before penalties, biases, temperature or truncation.
// NaN logits count as -inf; when some logits are +inf, they share all the mass equally.
// Stateless helpers, safe on any thread.
#ifndef SHOAL_WORKER_SAMPLER_RAW_LOGPROBS_H_
#define SHOAL_WORKER_SAMPLER_RAW_LOGPROBS_H_

#include <cstdint>
#include <span>

namespace shoal::worker {

struct TokenLogprob {
  int32_t token_id = -1;
  float logprob = 0.0f;
};

// The normalizer of one row's log-softmax, computed once; LogProb() then maps any of
// the row's logits to its logprob.
class LogSoftmax {
 public:
  static LogSoftmax Of(std::span<const float> logits);

  float LogProb(float logit) const;

 private:
  float max_ = 0.0f;         // the largest logit (NaN ignored)
  float log_sum_ = 0.0f;     // log sum_i exp(logit_i - max_)
  float log_num_inf_ = 0.0f; // when max_ is +inf: log of how many logits are +inf
};

// Writes the `out.size()` most likely tokens of `logits` into `out`, most likely
// first, the lower id first among equals (NaN ranked as -inf), and returns how many it
// wrote (fewer only when the row is shorter).
int SelectTopLogprobs(std::span<const float> logits, const LogSoftmax& log_softmax,
                      std::span<TokenLogprob> out);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_RAW_LOGPROBS_H_
