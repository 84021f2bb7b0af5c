// The waiting queue (REFERENCE.md §4.1's FCFS/priority queue): the next request to
// admit is the best by (priority, arrival). A preempted request keeps its arrival, so it
// returns ahead of newer ones. Fairness between tenants is not the scheduler's: the
// router's fair queue (router/fair_queue.h) decides which tenant's request reaches the
// scheduler next, and the scheduler runs what it is given in this order (one authority;
// README "API keys and tenants").
//
// Owned by the scheduler's step thread.
#ifndef SHOAL_SCHEDULER_WAITING_QUEUE_H_
#define SHOAL_SCHEDULER_WAITING_QUEUE_H_

#include <cstdint>
#include <set>
#include <vector>

#include "scheduler/request.h"

namespace shoal::scheduler {

class WaitingQueue {
 public:
  void Push(Request* request) { queue_.insert(request); }
  // Removes a request (admitted or cancelled); false when it is not queued.
  bool Remove(Request* request) { return queue_.erase(request) > 0; }
  // The request to admit next; null when empty.
  Request* Peek() const { return queue_.empty() ? nullptr : *queue_.begin(); }
  // Every waiting request, in admission order.
  std::vector<Request*> InOrder() const { return {queue_.begin(), queue_.end()}; }

  int64_t size() const { return static_cast<int64_t>(queue_.size()); }
  bool empty() const { return queue_.empty(); }

 private:
  struct ByPriorityThenArrival {
    bool operator()(const Request* a, const Request* b) const {
      if (a->priority != b->priority) return a->priority < b->priority;
      return a->arrival_order < b->arrival_order;
    }
  };
  std::set<Request*, ByPriorityThenArrival> queue_;
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_WAITING_QUEUE_H_
