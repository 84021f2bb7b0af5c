// One request's outbox between the step thread and whoever streams the request to its
// client (a gRPC reactor, or an in-process caller): the step thread appends new tokens
// and the final message without blocking; the consumer takes everything pending as one
// response when its previous write has completed. Thread-safe.
#ifndef SHOAL_SCHEDULER_REQUEST_STREAM_H_
#define SHOAL_SCHEDULER_REQUEST_STREAM_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal::scheduler {

class RequestStream {
 public:
  explicit RequestStream(std::string request_id) : request_id_(std::move(request_id)) {}

  const std::string& request_id() const { return request_id_; }

  // Step thread: a new token (and its logprob, when asked for). Returns how many tokens
  // are now pending, unread by the consumer (the engine bounds it).
  int64_t PushToken(int32_t token, const v1::TokenLogprob* logprob);
  // Step thread: prompt tokens served from the prefix cache (sent in the first message).
  void SetCachedPromptTokens(int32_t n);
  // Step thread: the last message. Nothing may be pushed after it.
  void Finish(const v1::SchedulerGenerateResponse::Finish& finish);

  // Consumer: moves what is pending into `out` (cleared first). False when nothing is.
  bool TakePending(v1::SchedulerGenerateResponse& out);
  // Consumer: blocks until something is pending or the stream finished (in-process
  // callers and tests; gRPC reactors use the listener instead).
  void WaitForData();
  bool finished_and_drained();
  // The final message is queued (taken or not).
  bool finished();

  // Called (from the step thread, without the stream's lock) whenever data arrives.
  void SetListener(std::function<void()> listener);

  // Any thread: true the first time only, so that a request is cancelled once however
  // many paths (a Cancel call, the call's own cancellation, a failed write) ask. A stop
  // string's reason replaces an earlier one, so that a router that matched a stop
  // string and then dropped its call still gets a STOP finish.
  bool MarkCancelRequested(v1::CancelReason reason) {
    if (reason == v1::CANCEL_REASON_STOP_STRING) cancel_reason_.store(reason);
    v1::CancelReason none = v1::CANCEL_REASON_UNSPECIFIED;
    if (reason != v1::CANCEL_REASON_STOP_STRING) cancel_reason_.compare_exchange_strong(none, reason);
    return !cancel_requested_.exchange(true);
  }
  v1::CancelReason cancel_reason() const { return cancel_reason_.load(); }

 private:
  void Notify();

  const std::string request_id_;
  std::atomic<bool> cancel_requested_{false};
  std::atomic<v1::CancelReason> cancel_reason_{v1::CANCEL_REASON_UNSPECIFIED};
  absl::Mutex mu_;
  v1::SchedulerGenerateResponse pending_ ABSL_GUARDED_BY(mu_);
  bool has_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool drained_ ABSL_GUARDED_BY(mu_) = false;
  bool first_message_ ABSL_GUARDED_BY(mu_) = true;
  int32_t cached_prompt_tokens_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> listener_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_REQUEST_STREAM_H_
