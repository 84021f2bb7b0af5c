// The router's admission order across tenants: virtual token counter fair queueing
// (VTC, REFERENCE.md §10.1), weighted. Each tenant has a counter of the service it got,
// divided by its weight: w_p per prompt token, charged when a request is admitted, and
// w_q per output token, charged as the tokens stream back. The next request admitted
// is the most urgent waiting one (lowest priority value); among equally urgent ones,
// that of the backlogged tenant with the lowest counter; within a tenant, the oldest.
// So backlogged tenants get tokens in proportion to their weights, counted in tokens
// rather than requests, and a tenant that was idle earns no credit: when its queue
// fills again its counter is lifted to the least counter of the backlogged tenants (or
// to the virtual time of the last admission when none is backlogged).
//
// Pure policy: no clock, no threads, no I/O (AdmissionQueue runs it). Not thread-safe.
#ifndef SHOAL_ROUTER_FAIR_QUEUE_H_
#define SHOAL_ROUTER_FAIR_QUEUE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace shoal::router {

// The paper's weights: an output token costs twice a prompt token (OpenAI's price ratio).
inline constexpr double kPromptTokenCost = 1.0;
inline constexpr double kOutputTokenCost = 2.0;

class FairQueue {
 public:
  struct Entry {
    uint64_t id = 0;  // unique among waiting entries
    std::string tenant;
    double weight = 1;  // the tenant's, > 0
    int32_t priority = 0;
    int64_t prompt_tokens = 0;
  };

  // Adds a waiting request. Returns false (and adds nothing) when `id` is already in.
  bool Push(Entry entry);
  // Removes a waiting request (its client left); false when it is not waiting.
  bool Remove(uint64_t id);
  // Admits the next request among tenants for which `may_start(tenant)` holds (a
  // tenant at its own in-flight limit is passed over, not blocking others) and charges
  // its prompt; nullopt when none may start.
  std::optional<Entry> Pop(const std::function<bool(const std::string&)>& may_start);
  // Charges a tenant for output tokens it received (any time, queued or not).
  void ChargeOutput(const std::string& tenant, double weight, int64_t tokens);

  size_t size() const { return by_id_.size(); }
  size_t num_tenants() const { return tenants_.size(); }
  bool empty() const { return by_id_.empty(); }
  size_t waiting(const std::string& tenant) const;
  // The tenant's counter (service / weight); 0 for one never seen.
  double counter(const std::string& tenant) const;
  // Forgets tenants with nothing waiting whose counters are at or below the virtual time
  // (they would be lifted to it anyway): bounds memory when tenants come and go.
  void Compact();

 private:
  // Within a tenant: (priority, arrival sequence) -> entry.
  using Key = std::pair<int32_t, uint64_t>;
  struct Tenant {
    double counter = 0;
    std::map<Key, Entry> waiting;
  };

  // The counter a tenant gets when its queue fills again after being empty.
  double LiftFloor(const std::string& except) const;

  absl::flat_hash_map<std::string, Tenant> tenants_;
  absl::flat_hash_map<uint64_t, std::pair<std::string, Key>> by_id_;
  uint64_t next_sequence_ = 0;
  double virtual_time_ = 0;  // the counter of the tenant last admitted from (monotone)
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_FAIR_QUEUE_H_
