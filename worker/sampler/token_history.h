// TokenHistory: what the repetition, presence and frequency penalties look at: which
// tokens the prompt holds and how often each token has appeared in the output. Sparse
// (one entry per distinct token seen), so a sequence costs memory in proportion to its
// own length, not to the vocabulary. Part of one sequence's Sampler.
#ifndef SHOAL_WORKER_SAMPLER_TOKEN_HISTORY_H_
#define SHOAL_WORKER_SAMPLER_TOKEN_HISTORY_H_

#include <cstdint>
#include <span>

#include "absl/container/flat_hash_map.h"
#include "worker/sampler/logit_editor.h"

namespace shoal::worker {

struct Penalties {
  float repetition = 1.0f;  // 1 = off
  float presence = 0.0f;    // 0 = off
  float frequency = 0.0f;   // 0 = off

  bool any() const { return repetition != 1.0f || presence != 0.0f || frequency != 0.0f; }
};

class TokenHistory {
 public:
  void AddPrompt(std::span<const int32_t> token_ids);
  void AddOutput(int32_t token_id) { ++tokens_[token_id].output_count; }

  // As vLLM's apply_penalties, on each token seen: the repetition penalty if it is in
  // the prompt or the output (logit > 0: divided, else multiplied), then minus
  // frequency * output count, then minus presence if it is in the output.
  void ApplyPenalties(const Penalties& penalties, LogitEditor& logits) const;

  int32_t OutputCount(int32_t token_id) const;
  int64_t num_distinct_tokens() const { return static_cast<int64_t>(tokens_.size()); }

 private:
  struct Entry {
    int32_t output_count = 0;
    bool in_prompt = false;
  };
  absl::flat_hash_map<int32_t, Entry> tokens_;
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_TOKEN_HISTORY_H_
