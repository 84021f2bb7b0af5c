#include "scheduler/request_stream.h"

namespace shoal::scheduler {

int64_t RequestStream::PushToken(int32_t token, const v1::TokenLogprob* logprob) {
  int64_t pending;
  {
    absl::MutexLock lock(&mu_);
    pending_.add_token_ids(token);
    if (logprob != nullptr) *pending_.add_logprobs() = *logprob;
    has_pending_ = true;
    pending = pending_.token_ids_size();
  }
  Notify();
  return pending;
}

void RequestStream::SetCachedPromptTokens(int32_t n) {
  absl::MutexLock lock(&mu_);
  cached_prompt_tokens_ = n;
}

void RequestStream::Finish(const v1::SchedulerGenerateResponse::Finish& finish) {
  {
    absl::MutexLock lock(&mu_);
    *pending_.mutable_finish() = finish;
    has_pending_ = true;
    finished_ = true;
  }
  Notify();
}

bool RequestStream::TakePending(v1::SchedulerGenerateResponse& out) {
  absl::MutexLock lock(&mu_);
  out.Clear();
  if (!has_pending_) return false;
  out.Swap(&pending_);
  if (first_message_) out.set_cached_prompt_tokens(cached_prompt_tokens_);
  first_message_ = false;
  has_pending_ = false;
  if (finished_) drained_ = true;
  return true;
}

void RequestStream::WaitForData() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](RequestStream* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
        return s->has_pending_ || s->drained_;
      },
      this));
}

bool RequestStream::finished() {
  absl::MutexLock lock(&mu_);
  return finished_;
}

bool RequestStream::finished_and_drained() {
  absl::MutexLock lock(&mu_);
  return drained_;
}

void RequestStream::SetListener(std::function<void()> listener) {
  bool pending;
  {
    absl::MutexLock lock(&mu_);
    listener_ = std::move(listener);
    pending = has_pending_;
  }
  if (pending) Notify();
}

void RequestStream::Notify() {
  std::function<void()> listener;
  {
    absl::MutexLock lock(&mu_);
    listener = listener_;
  }
  if (listener) listener();
}

}  // namespace shoal::scheduler
