#include "worker/sampler/token_history.h"

namespace shoal::worker {

void TokenHistory::AddPrompt(std::span<const int32_t> token_ids) {
  for (int32_t id : token_ids) tokens_[id].in_prompt = true;
}

void TokenHistory::ApplyPenalties(const Penalties& penalties, LogitEditor& logits) const {
  for (const auto& [id, entry] : tokens_) {
    float logit = logits.Get(id);
    if (penalties.repetition != 1.0f) {
      logit = logit > 0.0f ? logit / penalties.repetition : logit * penalties.repetition;
    }
    if (entry.output_count > 0) {
      logit -= penalties.frequency * static_cast<float>(entry.output_count);
      logit -= penalties.presence;
    }
    logits.Set(id, logit);
  }
}

int32_t TokenHistory::OutputCount(int32_t token_id) const {
  auto it = tokens_.find(token_id);
  return it == tokens_.end() ? 0 : it->second.output_count;
}

}  // namespace shoal::worker
