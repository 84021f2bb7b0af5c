// The scheduler replicas behind a router and what it knows of them: each replica's
// readiness, load and capacity from its Stats, polled in the background, and the
// requests this router has outstanding on each. A request takes a ReplicaLease on the
// least loaded ready replica with room; the admission queue (admission_queue.h) holds
// requests back while no replica has room, so the queue lives at the router, where
// tenants are known (late binding). Prefix-affinity choice builds on this.
//
// Threads: thread-safe; one poller thread of its own.
#ifndef SHOAL_ROUTER_REPLICA_SET_H_
#define SHOAL_ROUTER_REPLICA_SET_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "router/scheduler_client.h"

namespace shoal::router {

class ReplicaSet;

// One outstanding request on a replica, counted until the lease is destroyed.
// Move-only; the ReplicaSet must outlive it.
class ReplicaLease {
 public:
  ReplicaLease() = default;
  ReplicaLease(ReplicaLease&& other) noexcept { *this = std::move(other); }
  ReplicaLease& operator=(ReplicaLease&& other) noexcept;
  ~ReplicaLease() { Release(); }
  SchedulerClient* client() const { return client_; }
  void Release();

 private:
  friend class ReplicaSet;
  ReplicaLease(ReplicaSet* set, size_t index, SchedulerClient* client)
      : set_(set), index_(index), client_(client) {}
  ReplicaSet* set_ = nullptr;
  size_t index_ = 0;
  SchedulerClient* client_ = nullptr;
};

class ReplicaSet {
 public:
  // Polls every replica once before returning, then every `poll_interval`.
  ReplicaSet(std::vector<std::unique_ptr<SchedulerClient>> replicas, absl::Duration poll_interval);
  ~ReplicaSet();

  // Called (without any lock of this set held) whenever room may have appeared: a lease
  // ended, a poll finished. Set once, before requests arrive.
  void SetOnRoom(std::function<void()> on_room);

  // A lease on the least loaded ready replica with room, else on the least loaded ready
  // one (admission let the request in while there was room: it is not turned away for
  // a race); nullopt when no replica is ready.
  std::optional<ReplicaLease> Acquire();
  // The requests the ready replicas take from this router in all: each one's cap (its
  // max_num_seqs plus an eighth, at least 2, so a freed slot is refilled at once;
  // unlimited while its Stats do not say). 0 when none is ready.
  int64_t Capacity() const;
  int num_ready() const;
  // The longest prompt + output every ready replica takes; 0 when none is ready.
  int64_t max_model_len() const;
  // Polls now (tests; after a replica's failure was seen).
  void Refresh();

 private:
  friend class ReplicaLease;
  struct Replica {
    std::unique_ptr<SchedulerClient> client;
    bool ready = false;
    int64_t max_model_len = 0;
    int64_t load = 0;         // running + waiting at the last poll, plus picks since
    int64_t cap = 0;          // outstanding requests it takes; 0: not known (no cap)
    int64_t outstanding = 0;  // this router's leases on it
  };
  static constexpr int64_t kUnlimited = int64_t{1} << 40;
  static bool HasRoom(const Replica& replica) {
    return replica.ready && (replica.cap <= 0 || replica.outstanding < replica.cap);
  }

  void Poll();
  void Release(size_t index);
  void NotifyRoom();

  mutable absl::Mutex mu_;
  std::vector<Replica> replicas_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> on_room_ ABSL_GUARDED_BY(mu_);
  const absl::Duration poll_interval_;
  std::thread poller_;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_REPLICA_SET_H_
