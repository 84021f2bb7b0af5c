#include "worker/sampler/sampling_proto.h"

namespace shoal::worker {

SamplingParams SamplingParamsFromProto(const v1::SamplingParams& wire) {
  SamplingParams p;
  if (wire.has_temperature()) p.temperature = wire.temperature();
  if (wire.has_top_k()) p.top_k = wire.top_k();
  if (wire.has_top_p()) p.top_p = wire.top_p();
  if (wire.has_min_p()) p.min_p = wire.min_p();
  if (wire.has_repetition_penalty()) p.repetition_penalty = wire.repetition_penalty();
  if (wire.has_presence_penalty()) p.presence_penalty = wire.presence_penalty();
  if (wire.has_frequency_penalty()) p.frequency_penalty = wire.frequency_penalty();
  if (wire.has_seed()) p.seed = wire.seed();
  if (wire.has_logprobs()) p.logprobs = wire.logprobs();
  for (const auto& [id, bias] : wire.logit_bias()) p.logit_bias[id] = bias;
  p.min_tokens = wire.min_tokens();
  p.ignore_eos = wire.ignore_eos();
  p.stop_token_ids.assign(wire.stop_token_ids().begin(), wire.stop_token_ids().end());
  return p;
}

}  // namespace shoal::worker
