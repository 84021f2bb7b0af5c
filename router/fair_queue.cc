#include "router/fair_queue.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

namespace shoal::router {

double FairQueue::LiftFloor(const std::string& except) const {
  double floor = std::numeric_limits<double>::infinity();
  for (const auto& [name, tenant] : tenants_) {
    if (name != except && !tenant.waiting.empty()) floor = std::min(floor, tenant.counter);
  }
  return std::isinf(floor) ? virtual_time_ : floor;
}

bool FairQueue::Push(Entry entry) {
  if (by_id_.contains(entry.id)) return false;
  Tenant& tenant = tenants_[entry.tenant];
  if (tenant.waiting.empty()) tenant.counter = std::max(tenant.counter, LiftFloor(entry.tenant));
  const Key key{entry.priority, next_sequence_++};
  by_id_.emplace(entry.id, std::make_pair(entry.tenant, key));
  tenant.waiting.emplace(key, std::move(entry));
  return true;
}

bool FairQueue::Remove(uint64_t id) {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  const auto& [name, key] = it->second;
  tenants_[name].waiting.erase(key);
  by_id_.erase(it);
  return true;
}

std::optional<FairQueue::Entry> FairQueue::Pop(
    const std::function<bool(const std::string&)>& may_start) {
  Tenant* best = nullptr;
  std::tuple<int32_t, double, uint64_t> best_rank;
  for (auto& [name, tenant] : tenants_) {
    if (tenant.waiting.empty() || !may_start(name)) continue;
    const Key& head = tenant.waiting.begin()->first;
    const std::tuple<int32_t, double, uint64_t> rank{head.first, tenant.counter, head.second};
    if (best == nullptr || rank < best_rank) {
      best = &tenant;
      best_rank = rank;
    }
  }
  if (best == nullptr) return std::nullopt;
  Entry entry = std::move(best->waiting.begin()->second);
  best->waiting.erase(best->waiting.begin());
  by_id_.erase(entry.id);
  virtual_time_ = std::max(virtual_time_, best->counter);
  best->counter += kPromptTokenCost * static_cast<double>(entry.prompt_tokens) / entry.weight;
  return entry;
}

void FairQueue::ChargeOutput(const std::string& tenant, double weight, int64_t tokens) {
  tenants_[tenant].counter += kOutputTokenCost * static_cast<double>(tokens) / weight;
}

size_t FairQueue::waiting(const std::string& tenant) const {
  const auto it = tenants_.find(tenant);
  return it == tenants_.end() ? 0 : it->second.waiting.size();
}

double FairQueue::counter(const std::string& tenant) const {
  const auto it = tenants_.find(tenant);
  return it == tenants_.end() ? 0 : it->second.counter;
}

void FairQueue::Compact() {
  std::vector<std::string> idle;
  for (const auto& [name, tenant] : tenants_) {
    if (tenant.waiting.empty() && tenant.counter <= virtual_time_) idle.push_back(name);
  }
  for (const std::string& name : idle) tenants_.erase(name);
}

}  // namespace shoal::router
