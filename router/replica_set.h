// The scheduler replicas behind a router and what it knows of them: each replica's
// readiness and load from its Stats, polled in the background, and the choice of the
// replica for a new request (the least loaded ready one). The next issue's admission
// stage (fair queueing) and prefix-affinity picker build on this.
//
// Threads: thread-safe; one poller thread of its own.
#ifndef SHOAL_ROUTER_REPLICA_SET_H_
#define SHOAL_ROUTER_REPLICA_SET_H_

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "router/scheduler_client.h"

namespace shoal::router {

class ReplicaSet {
 public:
  // Polls every replica once before returning, then every `poll_interval`.
  ReplicaSet(std::vector<std::unique_ptr<SchedulerClient>> replicas, absl::Duration poll_interval);
  ~ReplicaSet();

  // The ready replica with the least outstanding work; null when none is ready.
  SchedulerClient* Pick();
  int num_ready() const;
  // The longest prompt + output every ready replica takes; 0 when none is ready.
  int64_t max_model_len() const;
  // Polls now (tests; after a replica's failure was seen).
  void Refresh();

 private:
  struct Replica {
    std::unique_ptr<SchedulerClient> client;
    bool ready = false;
    int64_t max_model_len = 0;
    int64_t load = 0;  // running + waiting at the last poll, plus picks since
  };

  void Poll();

  mutable absl::Mutex mu_;
  std::vector<Replica> replicas_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  const absl::Duration poll_interval_;
  std::thread poller_;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_REPLICA_SET_H_
