#include "scheduler/waiting_queue.h"

#include <tuple>

namespace shoal::scheduler {

void WaitingQueue::Push(Request* request) {
  if (by_tenant_[request->tenant].insert(request).second) ++size_;
}

bool WaitingQueue::Remove(Request* request) {
  auto it = by_tenant_.find(request->tenant);
  if (it == by_tenant_.end() || it->second.erase(request) == 0) return false;
  if (it->second.empty()) by_tenant_.erase(it);
  --size_;
  return true;
}

Request* WaitingQueue::Peek(
    const absl::flat_hash_map<std::string, int64_t>& running_per_tenant) const {
  Request* best = nullptr;
  std::tuple<int32_t, int64_t, int64_t> best_key;
  for (const auto& [tenant, queue] : by_tenant_) {
    Request* head = *queue.begin();
    const auto running = running_per_tenant.find(tenant);
    const std::tuple<int32_t, int64_t, int64_t> key{
        head->priority, running == running_per_tenant.end() ? 0 : running->second,
        head->arrival_order};
    if (best == nullptr || key < best_key) {
      best = head;
      best_key = key;
    }
  }
  return best;
}

}  // namespace shoal::scheduler
