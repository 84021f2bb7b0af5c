// The requests a `shoal bench` run sends. Random prompts with exact token counts, as
// vLLM's random dataset makes them: token ids drawn from the model's ordinary text
// tokens (no control, byte or unknown tokens), input and output lengths uniform within
// ±range_ratio of their means, optionally behind a shared prefix of prefix_len tokens
// (an agent's long system prompt). Completions get the ids themselves; chat gets their
// text as one user message (retokenized by the server, so its length is close rather
// than exact).
#ifndef SHOAL_BENCH_LOAD_WORKLOAD_H_
#define SHOAL_BENCH_LOAD_WORKLOAD_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/load/request_record.h"
#include "model/tokenizer/tokenizer.h"

namespace shoal::bench {

struct RandomWorkloadOptions {
  int64_t num_requests = 100;
  int32_t input_len = 128;
  int32_t output_len = 128;
  double range_ratio = 0.0;  // lengths uniform in [len * (1 - r), len * (1 + r)]
  int32_t prefix_len = 0;    // tokens every prompt starts with
  bool chat = false;         // also fill RequestSpec::messages
  bool ignore_eos = true;
  uint64_t seed = 0;
  absl::Status Validate() const;
};

// InvalidArgument for bad options, FailedPrecondition for a vocabulary with too few
// ordinary tokens to draw from.
absl::StatusOr<std::vector<RequestSpec>> MakeRandomWorkload(const model::Tokenizer& tokenizer,
                                                            const RandomWorkloadOptions& options);

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_WORKLOAD_H_
