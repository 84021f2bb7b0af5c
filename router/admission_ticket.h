// One request's passage through the admission queue (admission_queue.h), safe against
// the request going away while its start is delivered on another thread: the queue's
// start callback only parks the slot in state both sides share and wakes the request,
// which takes the slot on its own thread. Destroying a ticket leaves the queue, or
// frees a slot that was delivered but never taken.
//
// Threads: Enter, TakeSlot and the destructor on the request's thread; the wake-up on
// any thread.
#ifndef SHOAL_ROUTER_ADMISSION_TICKET_H_
#define SHOAL_ROUTER_ADMISSION_TICKET_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "router/admission_queue.h"

namespace shoal::router {

class AdmissionTicket {
 public:
  // Joins `queue` (which must outlive the ticket); `wake` runs, on any thread, once the
  // request may start (possibly before Enter returns). ResourceExhausted when the
  // tenant's queue is full.
  static absl::StatusOr<std::unique_ptr<AdmissionTicket>> Enter(
      AdmissionQueue& queue, std::shared_ptr<const TenantPolicy> tenant, int32_t priority,
      int64_t prompt_tokens, std::function<void()> wake);
  ~AdmissionTicket();

  // The in-flight slot once admitted, and how long the request waited for it; nullopt
  // before (and after it was taken).
  std::optional<AdmissionSlot> TakeSlot();
  absl::Duration waited() const { return waited_; }

 private:
  struct Shared {
    absl::Mutex mu;
    std::optional<AdmissionSlot> slot ABSL_GUARDED_BY(mu);
    bool abandoned ABSL_GUARDED_BY(mu) = false;
  };
  AdmissionTicket(AdmissionQueue& queue) : queue_(queue), shared_(std::make_shared<Shared>()) {}

  AdmissionQueue& queue_;
  std::shared_ptr<Shared> shared_;
  uint64_t ticket_ = 0;  // 0: admitted inside Enter
  bool taken_ = false;
  absl::Time entered_;
  absl::Duration waited_;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_ADMISSION_TICKET_H_
