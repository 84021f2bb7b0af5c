// The requests a `shoal bench` run sends. Random prompts with exact token counts, as
// vLLM's random dataset makes them: token ids drawn from the model's ordinary text
// tokens (no control, byte or unknown tokens), input and output lengths uniform within
// ±range_ratio of their means, optionally behind a shared prefix of prefix_len tokens
// (an agent's long system prompt). Completions get the ids themselves; chat gets their
// text as one user message (retokenized by the server, so its length is close rather
// than exact).
//
// Also what every workload shares: synthetic text of ordinary words (WordSampler) and a
// tenant mix (several API keys in given proportions) laid over any workload.
// The other workloads: agent_workload.h (multi-turn agents), sharegpt_workload.h.
#ifndef SHOAL_BENCH_LOAD_WORKLOAD_H_
#define SHOAL_BENCH_LOAD_WORKLOAD_H_

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
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

// Synthetic text made of the vocabulary's ordinary whole words: tokens that are a space
// followed by 2 to 11 letters, so n words tokenize to about n tokens (merges across a
// space are rare) and no control token can appear.
class WordSampler {
 public:
  // FailedPrecondition for a vocabulary with fewer than 100 such words.
  static absl::StatusOr<WordSampler> Create(const model::Tokenizer& tokenizer);

  // `count` words joined by single spaces, with no leading space ("" for 0).
  std::string Words(int32_t count, std::mt19937_64& rng) const;
  // One word, without its space.
  const std::string& Word(std::mt19937_64& rng) const;

 private:
  explicit WordSampler(std::vector<std::string> words) : words_(std::move(words)) {}
  std::vector<std::string> words_;
};

// One tenant of a mix: requests labelled `name` carry `api_key` as their bearer token
// ("" sends none) and get a share weight / (sum of weights) of the requests.
struct Tenant {
  std::string name;
  std::string api_key;
  double weight = 1;
};

// "name:key:weight,name:key:weight,...": the weight is optional (1) and relative; rates
// in requests per second work too (each tenant then gets its rate when the run's
// --request-rate is their sum, TotalWeight). InvalidArgument for an empty or repeated
// name, a missing key field, or a weight that is not a finite number > 0.
absl::StatusOr<std::vector<Tenant>> ParseTenants(std::string_view text);
double TotalWeight(const std::vector<Tenant>& tenants);

// Labels every spec with a tenant (RequestSpec::tenant and api_key). The unit of
// assignment is a session (all the turns of one conversation go to one tenant) or, for
// a spec without one, the spec itself. Counts are exact: of U units, tenant i gets
// floor(U * w_i / W) plus one more for the largest remainders (earlier tenants first on
// ties); which units get which tenant is a shuffle made by `seed`. InvalidArgument for
// no tenants.
absl::Status AssignTenants(std::vector<RequestSpec>& specs, const std::vector<Tenant>& tenants,
                           uint64_t seed);

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_WORKLOAD_H_
