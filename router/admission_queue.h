// The router's admission stage: a generation that may not start yet (its tenant is at
// max_concurrent, or no replica has room) waits here, up to its tenant's max_queued,
// and the waiting ones start in the fair queue's order (fair_queue.h) as room appears.
// The queue lives where tenants are known: the replicas get work only while the
// requests in flight stay under their capacity (`capacity`, the sum of the ready
// replicas' caps read from their Stats: late binding). The queue counts the requests
// in flight itself, per tenant and in all, so that a slot is taken under the same lock
// that decides who starts.
//
// Threads: thread-safe. A start callback runs exactly once, never under the queue's
// lock: inside Enter when the request may start at once, else on the thread that calls
// Pump or ends another request's slot.
#ifndef SHOAL_ROUTER_ADMISSION_QUEUE_H_
#define SHOAL_ROUTER_ADMISSION_QUEUE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "router/fair_queue.h"
#include "router/tenant_config.h"

namespace shoal::router {

class AdmissionQueue;

// A started request's in-flight slot; ending it (or destroying it) frees the slot and
// lets the next waiting request start. Move-only; the queue must outlive it.
class AdmissionSlot {
 public:
  AdmissionSlot() = default;
  AdmissionSlot(AdmissionSlot&& other) noexcept { *this = std::move(other); }
  AdmissionSlot& operator=(AdmissionSlot&& other) noexcept;
  ~AdmissionSlot() { End(); }
  void End();
  bool held() const { return queue_ != nullptr; }

 private:
  friend class AdmissionQueue;
  AdmissionSlot(AdmissionQueue* queue, std::string tenant)
      : queue_(queue), tenant_(std::move(tenant)) {}
  AdmissionQueue* queue_ = nullptr;
  std::string tenant_;
};

class AdmissionQueue {
 public:
  using Start = std::function<void(AdmissionSlot)>;

  // `capacity()`: how many requests the replicas take in flight now, in all.
  explicit AdmissionQueue(std::function<int64_t()> capacity);

  // A request of `tenant` asks to start. It joins the fair queue, and whatever may
  // start then starts (itself, when nothing ranks ahead of it, its tenant has a slot
  // and a replica has room: then `start` has run when Enter returns 0). Otherwise it
  // waits and Enter returns its ticket (> 0) for Leave. ResourceExhausted with a
  // retry-after when it would be more than its tenant's max_queued waiting (0: none).
  absl::StatusOr<uint64_t> Enter(std::shared_ptr<const TenantPolicy> tenant, int32_t priority,
                                 int64_t prompt_tokens, Start start);
  // A waiting request left (its client went away); its start will not run. False when
  // it had started or left already.
  bool Leave(uint64_t ticket);
  // Starts what may start now (call when replicas' room may have grown).
  void Pump();
  // A tenant received output tokens: the fair queue charges them.
  void ChargeOutput(const TenantPolicy& tenant, int64_t tokens);

  size_t waiting() const;
  size_t waiting(const std::string& tenant) const;
  int64_t inflight(const std::string& tenant) const;
  int64_t inflight() const;

 private:
  friend class AdmissionSlot;
  struct Waiter {
    Start start;
  };
  struct Ready {
    Start start;
    AdmissionSlot slot;
  };
  bool HasSlotLocked(const std::string& tenant) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pops what may start and takes its slots; the caller runs the starts unlocked.
  std::vector<Ready> TakeStartable() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndSlot(const std::string& tenant);
  static void RunAll(std::vector<Ready>& ready);

  const std::function<int64_t()> capacity_;
  mutable absl::Mutex mu_;
  FairQueue queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  // The latest policy seen per tenant (limits may change with a reload).
  absl::flat_hash_map<std::string, std::shared_ptr<const TenantPolicy>> policies_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> inflight_ ABSL_GUARDED_BY(mu_);
  int64_t total_inflight_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t pops_since_compact_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_ADMISSION_QUEUE_H_
