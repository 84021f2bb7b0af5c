#include "router/replica_set.h"

#include <limits>

namespace shoal::router {

ReplicaSet::ReplicaSet(std::vector<std::unique_ptr<SchedulerClient>> replicas,
                       absl::Duration poll_interval)
    : poll_interval_(poll_interval) {
  for (auto& client : replicas) replicas_.push_back({.client = std::move(client)});
  Poll();
  poller_ = std::thread([this] {
    absl::MutexLock lock(&mu_);
    while (!mu_.AwaitWithTimeout(absl::Condition(&stop_), poll_interval_)) {
      mu_.Unlock();
      Poll();
      mu_.Lock();
    }
  });
}

ReplicaSet::~ReplicaSet() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  poller_.join();
}

void ReplicaSet::Poll() {
  // The clients are fixed after construction; Stats may take a while, so it runs
  // without the lock.
  std::vector<SchedulerClient*> clients;
  {
    absl::MutexLock lock(&mu_);
    for (Replica& replica : replicas_) clients.push_back(replica.client.get());
  }
  const absl::Duration timeout = std::min(poll_interval_, absl::Seconds(2));
  for (size_t i = 0; i < clients.size(); ++i) {
    const absl::StatusOr<v1::StatsResponse> stats = clients[i]->Stats(timeout);
    absl::MutexLock lock(&mu_);
    Replica& replica = replicas_[i];
    replica.ready = stats.ok() && stats->ready() && stats->healthy();
    if (stats.ok()) {
      replica.max_model_len = stats->max_model_len();
      replica.load = stats->num_running() + stats->num_waiting();
    }
  }
}

void ReplicaSet::Refresh() { Poll(); }

SchedulerClient* ReplicaSet::Pick() {
  absl::MutexLock lock(&mu_);
  Replica* best = nullptr;
  for (size_t k = 0; k < replicas_.size(); ++k) {
    Replica& replica = replicas_[(next_ + k) % replicas_.size()];
    if (replica.ready && (best == nullptr || replica.load < best->load)) best = &replica;
  }
  if (best == nullptr) return nullptr;
  next_ = (next_ + 1) % replicas_.size();
  ++best->load;  // until the next poll says otherwise
  return best->client.get();
}

int ReplicaSet::num_ready() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const Replica& replica : replicas_) n += replica.ready;
  return n;
}

int64_t ReplicaSet::max_model_len() const {
  absl::MutexLock lock(&mu_);
  int64_t len = std::numeric_limits<int64_t>::max();
  for (const Replica& replica : replicas_) {
    if (replica.ready) len = std::min(len, replica.max_model_len);
  }
  return len == std::numeric_limits<int64_t>::max() ? 0 : len;
}

}  // namespace shoal::router
