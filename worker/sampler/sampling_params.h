// SamplingParams: how one sequence picks its next token, mirroring
// shoal.v1.SamplingParams (proto/shoal/v1/inference.proto) with vLLM's and OpenAI's
// defaults. A plain value: the worker fills it from the proto when a sequence first
// runs and hands it to its Sampler; Validate() rejects anything out of range.
#ifndef SHOAL_WORKER_SAMPLER_SAMPLING_PARAMS_H_
#define SHOAL_WORKER_SAMPLER_SAMPLING_PARAMS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

namespace shoal::worker {

// The most alternatives a request may ask logprobs for (OpenAI's top_logprobs limit,
// vLLM's default max_logprobs).
inline constexpr int kMaxLogprobs = 20;

struct SamplingParams {
  // Softmax temperature; below 1e-5 (vLLM's _SAMPLING_EPS), including 0, sampling is
  // greedy: the argmax after penalties and biases, the lowest id on ties.
  float temperature = 1.0f;
  // Keep only the top_k largest logits (ties with the k-th all kept); 0 or -1 = off,
  // values >= the vocabulary size keep everything.
  int32_t top_k = 0;
  // Nucleus: the smallest set of most likely tokens whose mass reaches top_p; 1 = off.
  float top_p = 1.0f;
  // Drop tokens whose probability is below min_p times the most likely one's; 0 = off.
  float min_p = 0.0f;
  // Tokens seen in the prompt or the output: positive logits divided by it, negative
  // ones multiplied; 1 = off.
  float repetition_penalty = 1.0f;
  // Subtracted once from the logit of every token already in the output.
  float presence_penalty = 0.0f;
  // Subtracted from a token's logit once per time it appears in the output.
  float frequency_penalty = 0.0f;
  // Makes sampling reproducible: token n of the output draws the n-th number of the
  // stream this seed keys (see sampling_rng.h). Unset: a random seed per sequence.
  std::optional<uint64_t> seed;
  // Unset: no logprobs. n: the chosen token's logprob plus the n most likely
  // alternatives (0..kMaxLogprobs), all from the raw logits (vLLM's raw_logprobs).
  std::optional<int32_t> logprobs;
  // Added to the logits of these token ids, each in [-100, 100] (OpenAI's logit_bias).
  absl::flat_hash_map<int32_t, float> logit_bias;
  // While fewer tokens than this were generated, end-of-generation and stop token ids
  // cannot be sampled.
  int32_t min_tokens = 0;
  // Generation continues past end-of-generation tokens. The scheduler acts on it; the
  // sampler ignores it (min_tokens still holds EOS back, as in vLLM).
  bool ignore_eos = false;
  // Token ids that stop generation (the scheduler stops; min_tokens holds them back).
  std::vector<int32_t> stop_token_ids;

  // InvalidArgument naming the first field out of range and the range allowed.
  absl::Status Validate(int32_t vocab_size) const;
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_SAMPLING_PARAMS_H_
