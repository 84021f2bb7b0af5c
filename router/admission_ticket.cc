#include "router/admission_ticket.h"

#include <utility>

#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace shoal::router {

absl::StatusOr<std::unique_ptr<AdmissionTicket>> AdmissionTicket::Enter(
    AdmissionQueue& queue, std::shared_ptr<const TenantPolicy> tenant, int32_t priority,
    int64_t prompt_tokens, std::function<void()> wake) {
  std::unique_ptr<AdmissionTicket> ticket(new AdmissionTicket(queue));
  ticket->entered_ = absl::Now();
  std::weak_ptr<Shared> weak = ticket->shared_;
  SHOAL_ASSIGN_OR_RETURN(
      ticket->ticket_,
      queue.Enter(std::move(tenant), priority, prompt_tokens,
                  [weak, wake = std::move(wake)](AdmissionSlot slot) {
                    std::optional<AdmissionSlot> dropped;  // freed outside the lock
                    if (std::shared_ptr<Shared> shared = weak.lock()) {
                      absl::MutexLock lock(&shared->mu);
                      if (shared->abandoned) {
                        dropped.emplace(std::move(slot));
                      } else {
                        shared->slot.emplace(std::move(slot));
                      }
                    } else {
                      dropped.emplace(std::move(slot));
                    }
                    if (!dropped) wake();
                  }));
  return ticket;
}

AdmissionTicket::~AdmissionTicket() {
  if (taken_) return;
  // Still waiting: leave. Admitted but not taken (or being admitted right now): the
  // slot is freed here or, arriving later, by the start callback.
  if (ticket_ != 0) queue_.Leave(ticket_);
  std::optional<AdmissionSlot> dropped;
  {
    absl::MutexLock lock(&shared_->mu);
    shared_->abandoned = true;
    dropped = std::move(shared_->slot);
    shared_->slot.reset();
  }
}

std::optional<AdmissionSlot> AdmissionTicket::TakeSlot() {
  if (taken_) return std::nullopt;
  std::optional<AdmissionSlot> slot;
  {
    absl::MutexLock lock(&shared_->mu);
    if (!shared_->slot) return std::nullopt;
    slot = std::move(shared_->slot);
    shared_->slot.reset();
  }
  taken_ = true;
  waited_ = absl::Now() - entered_;
  return slot;
}

}  // namespace shoal::router
