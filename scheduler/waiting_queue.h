// The waiting queue (REFERENCE.md §4.1's FCFS/priority queue, made tenant-fair): the
// next request to admit is the best by (priority, running requests of its tenant,
// arrival), so within a priority a tenant with fewer running requests goes first and
// one tenant's flood cannot starve the others; within a tenant, (priority, arrival)
// order. A preempted request keeps its arrival, so it returns ahead of newer ones.
//
// Owned by the scheduler's step thread.
#ifndef SHOAL_SCHEDULER_WAITING_QUEUE_H_
#define SHOAL_SCHEDULER_WAITING_QUEUE_H_

#include <cstdint>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "scheduler/request.h"

namespace shoal::scheduler {

class WaitingQueue {
 public:
  void Push(Request* request);
  // Removes a request (admitted or cancelled); false when it is not queued.
  bool Remove(Request* request);
  // The request to admit next, given how many requests each tenant has running; null
  // when empty.
  Request* Peek(const absl::flat_hash_map<std::string, int64_t>& running_per_tenant) const;

  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct ByPriorityThenArrival {
    bool operator()(const Request* a, const Request* b) const {
      if (a->priority != b->priority) return a->priority < b->priority;
      return a->arrival_order < b->arrival_order;
    }
  };
  absl::flat_hash_map<std::string, std::set<Request*, ByPriorityThenArrival>> by_tenant_;
  int64_t size_ = 0;
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_WAITING_QUEUE_H_
