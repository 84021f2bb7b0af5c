#include "router/admission_queue.h"

#include <optional>
#include <utility>

#include "common/status_util.h"
#include "fmt/format.h"

namespace shoal::router {
namespace {

// Forget idle tenants' counters every so many admissions (bounds the fair queue's map).
constexpr int64_t kCompactEvery = 4096;

}  // namespace

AdmissionSlot& AdmissionSlot::operator=(AdmissionSlot&& other) noexcept {
  if (this != &other) {
    End();
    queue_ = std::exchange(other.queue_, nullptr);
    tenant_ = std::move(other.tenant_);
  }
  return *this;
}

void AdmissionSlot::End() {
  if (queue_ == nullptr) return;
  // EndSlot may start other requests, whose callbacks may move or destroy this slot's
  // owner: nothing of `this` is used once it is called.
  AdmissionQueue* queue = std::exchange(queue_, nullptr);
  const std::string tenant = std::move(tenant_);
  queue->EndSlot(tenant);
}

AdmissionQueue::AdmissionQueue(std::function<int64_t()> capacity)
    : capacity_(std::move(capacity)) {}

bool AdmissionQueue::HasSlotLocked(const std::string& tenant) const {
  const auto policy = policies_.find(tenant);
  if (policy == policies_.end() || policy->second->max_concurrent <= 0) return true;
  const auto count = inflight_.find(tenant);
  return count == inflight_.end() || count->second < policy->second->max_concurrent;
}

std::vector<AdmissionQueue::Ready> AdmissionQueue::TakeStartable() {
  std::vector<Ready> ready;
  while (!queue_.empty() && total_inflight_ < capacity_()) {
    std::optional<FairQueue::Entry> entry =
        queue_.Pop([this](const std::string& tenant) { return HasSlotLocked(tenant); });
    if (!entry) break;
    auto waiter = waiters_.extract(entry->id);
    ++inflight_[entry->tenant];
    ++total_inflight_;
    ready.push_back(
        {.start = std::move(waiter.mapped().start), .slot = AdmissionSlot(this, entry->tenant)});
    if (++pops_since_compact_ >= kCompactEvery) {
      pops_since_compact_ = 0;
      queue_.Compact();
    }
  }
  return ready;
}

void AdmissionQueue::RunAll(std::vector<Ready>& ready) {
  for (Ready& r : ready) r.start(std::move(r.slot));
}

absl::StatusOr<uint64_t> AdmissionQueue::Enter(std::shared_ptr<const TenantPolicy> tenant,
                                               int32_t priority, int64_t prompt_tokens,
                                               Start start) {
  std::vector<Ready> ready;
  uint64_t ticket = 0;
  bool refused = false;
  {
    absl::MutexLock lock(&mu_);
    ticket = next_ticket_++;
    const std::string name = tenant->name;
    const int64_t max_queued = tenant->max_queued;
    policies_[name] = tenant;
    queue_.Push({.id = ticket,
                 .tenant = name,
                 .weight = tenant->weight,
                 .priority = priority,
                 .prompt_tokens = prompt_tokens});
    waiters_.emplace(ticket, Waiter{.start = std::move(start)});
    ready = TakeStartable();
    if (!waiters_.contains(ticket)) {
      ticket = 0;  // it started
    } else if (static_cast<int64_t>(queue_.waiting(name)) > max_queued) {
      queue_.Remove(ticket);
      waiters_.erase(ticket);
      refused = true;
    }
  }
  RunAll(ready);  // others it let through (never itself when refused)
  if (refused) {
    return WithRetryAfter(
        absl::ResourceExhaustedError("this key's queue at the router is full (max_queued)"), 1);
  }
  return ticket;
}

bool AdmissionQueue::Leave(uint64_t ticket) {
  absl::MutexLock lock(&mu_);
  if (!queue_.Remove(ticket)) return false;
  waiters_.erase(ticket);
  return true;
}

void AdmissionQueue::Pump() {
  std::vector<Ready> ready;
  {
    absl::MutexLock lock(&mu_);
    ready = TakeStartable();
  }
  RunAll(ready);
}

void AdmissionQueue::EndSlot(const std::string& tenant) {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = inflight_.find(tenant); it != inflight_.end() && --it->second <= 0) {
      inflight_.erase(it);
    }
    --total_inflight_;
  }
  Pump();
}

void AdmissionQueue::ChargeOutput(const TenantPolicy& tenant, int64_t tokens) {
  absl::MutexLock lock(&mu_);
  queue_.ChargeOutput(tenant.name, tenant.weight, tokens);
}

size_t AdmissionQueue::waiting() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

size_t AdmissionQueue::waiting(const std::string& tenant) const {
  absl::MutexLock lock(&mu_);
  return queue_.waiting(tenant);
}

int64_t AdmissionQueue::inflight() const {
  absl::MutexLock lock(&mu_);
  return total_inflight_;
}

int64_t AdmissionQueue::inflight(const std::string& tenant) const {
  absl::MutexLock lock(&mu_);
  const auto it = inflight_.find(tenant);
  return it == inflight_.end() ? 0 : it->second;
}

}  // namespace shoal::router
