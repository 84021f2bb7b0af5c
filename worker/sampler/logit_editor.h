// LogitEditor: in-place edits to one row of logits (min_tokens, logit_bias, penalties)
// that can remember each edited token's original value, so that the chosen token's
// raw logprob is still known after the row was changed. Lives for one Sample() call on
// the compute thread; the log it fills belongs to the SamplerScratch.
#ifndef SHOAL_WORKER_SAMPLER_LOGIT_EDITOR_H_
#define SHOAL_WORKER_SAMPLER_LOGIT_EDITOR_H_

#include <cstdint>
#include <span>
#include <vector>

namespace shoal::worker {

struct EditedLogit {
  int32_t token_id;
  float original;
};

class LogitEditor {
 public:
  // `originals` may be null (nothing remembered); otherwise it is cleared and filled.
  LogitEditor(std::span<float> logits, std::vector<EditedLogit>* originals)
      : logits_(logits), originals_(originals) {
    if (originals_ != nullptr) originals_->clear();
  }

  float Get(int32_t id) const { return logits_[id]; }

  void Set(int32_t id, float value) {
    if (originals_ != nullptr) originals_->push_back({id, logits_[id]});
    logits_[id] = value;
  }

  // The value token `id` had before any Set().
  float Original(int32_t id) const {
    if (originals_ != nullptr) {
      for (const EditedLogit& e : *originals_) {
        if (e.token_id == id) return e.original;  // the first edit saw the raw value
      }
    }
    return logits_[id];
  }

 private:
  std::span<float> logits_;
  std::vector<EditedLogit>* originals_;
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_LOGIT_EDITOR_H_
