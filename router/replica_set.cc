#include "router/replica_set.h"

#include <algorithm>
#include <limits>
#include <utility>

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
      const int64_t seqs = stats->max_num_seqs();
      replica.cap = seqs > 0 ? seqs + std::max<int64_t>(2, seqs / 8) : 0;
    }
  }
  NotifyRoom();
}

void ReplicaSet::SetOnRoom(std::function<void()> on_room) {
  absl::MutexLock lock(&mu_);
  on_room_ = std::move(on_room);
}

void ReplicaSet::NotifyRoom() {
  std::function<void()> on_room;
  {
    absl::MutexLock lock(&mu_);
    on_room = on_room_;
  }
  if (on_room) on_room();
}

void ReplicaSet::Refresh() { Poll(); }

std::optional<ReplicaLease> ReplicaSet::Acquire() {
  absl::MutexLock lock(&mu_);
  // Ready replicas with room first, then the least loaded (round-robin among equals).
  const auto rank = [](const Replica& r) { return std::make_pair(!HasRoom(r), r.load); };
  size_t best = replicas_.size();
  for (size_t k = 0; k < replicas_.size(); ++k) {
    const size_t i = (next_ + k) % replicas_.size();
    if (!replicas_[i].ready) continue;
    if (best == replicas_.size() || rank(replicas_[i]) < rank(replicas_[best])) best = i;
  }
  if (best == replicas_.size()) return std::nullopt;
  next_ = (next_ + 1) % replicas_.size();
  Replica& replica = replicas_[best];
  ++replica.load;  // until the next poll says otherwise
  ++replica.outstanding;
  return ReplicaLease(this, best, replica.client.get());
}

int64_t ReplicaSet::Capacity() const {
  absl::MutexLock lock(&mu_);
  int64_t capacity = 0;
  for (const Replica& replica : replicas_) {
    if (replica.ready) capacity += replica.cap > 0 ? replica.cap : kUnlimited;
  }
  return capacity;
}

void ReplicaSet::Release(size_t index) {
  {
    absl::MutexLock lock(&mu_);
    --replicas_[index].outstanding;
  }
  NotifyRoom();
}

ReplicaLease& ReplicaLease::operator=(ReplicaLease&& other) noexcept {
  if (this != &other) {
    Release();
    set_ = std::exchange(other.set_, nullptr);
    index_ = other.index_;
    client_ = std::exchange(other.client_, nullptr);
  }
  return *this;
}

void ReplicaLease::Release() {
  if (set_ == nullptr) return;
  client_ = nullptr;
  std::exchange(set_, nullptr)->Release(index_);
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
