// The wire's SamplingParams (inference.proto) as the sampler's struct.
#ifndef SHOAL_WORKER_SAMPLER_SAMPLING_PROTO_H_
#define SHOAL_WORKER_SAMPLER_SAMPLING_PROTO_H_

#include "shoal/v1/inference.pb.h"
#include "worker/sampler/sampling_params.h"

namespace shoal::worker {

// Unset fields take the sampler's defaults (temperature 1, no truncation, no
// penalties, random seed, no logprobs). Validate() the result.
SamplingParams SamplingParamsFromProto(const v1::SamplingParams& wire);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_SAMPLING_PROTO_H_
