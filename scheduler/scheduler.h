// The scheduling policy (vLLM v1's Scheduler, REFERENCE.md §4.1), pure: no threads, no
// clocks, no RPC. Each Schedule() picks one step's work under a token budget:
//   1. running requests first, in admission order: decodes and unfinished prefill
//      chunks; when blocks run out, the worst request by (priority, arrival) is
//      preempted (recompute: its blocks are freed and it waits again);
//   2. then, if nothing was preempted, waiting requests in WaitingQueue's
//      (priority, arrival) order, each starting past its cached prefix, their prompts
//      split into chunks that fit what is left of the budget; one short of blocks or
//      of a slot (max_num_seqs) preempts running requests of a less urgent priority. A waiting
//      request whose next uncached block is one a running request has yet to compute waits for it
//      instead of computing the same KV again: agents that arrive together behind one
//      long system prompt compute it once.
// UpdateFromOutput() then appends the sampled tokens and finishes the requests that
// hit a stop condition. The engine (engine_core.h) drives both from its step thread.
#ifndef SHOAL_SCHEDULER_SCHEDULER_H_
#define SHOAL_SCHEDULER_SCHEDULER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scheduler/kv_cache_manager.h"
#include "scheduler/request.h"
#include "scheduler/waiting_queue.h"

namespace shoal::scheduler {

struct SchedulerConfig {
  // Tokens (prefill and decode together) in one step.
  int64_t max_num_batched_tokens = 2048;
  // Requests running at once.
  int64_t max_num_seqs = 256;
  // Cap on one request's prefill chunk (0: only the budget caps it), so one long
  // prompt cannot take a whole step from the others.
  int64_t long_prefill_token_threshold = 0;
  // The model's context length: prompt plus output never exceed it.
  int64_t max_model_len = 0;

  absl::Status Validate() const;
};

struct ScheduledRequest {
  Request* request = nullptr;
  int64_t num_new_tokens = 0;  // tokens [num_computed_tokens, + num_new_tokens) run
  // The step ends at the request's last known token, so it samples the next one.
  bool sample = false;
};

struct SchedulerOutput {
  std::vector<ScheduledRequest> scheduled;
  std::vector<Request*> preempted;  // this step; their worker state must be dropped
  int64_t num_scheduled_tokens = 0;
  bool empty() const { return scheduled.empty(); }
};

// A request that received a token this step, and the token's index in the step's
// sampled tokens.
struct SampledRequest {
  Request* request = nullptr;
  int index = 0;
};

// In UpdateFromOutput's tokens: the worker could not sample this request (its
// error_message says why); it finishes with kFinishedError, alone.
inline constexpr int32_t kSampleFailed = -1;

// A request that left the scheduler (finished, cancelled or failed); the scheduler no
// longer owns it.
struct FinishedRequest {
  std::unique_ptr<Request> request;
  bool was_on_workers = false;  // its worker state must be dropped
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, KvCacheManager& kv);

  // Queues a validated request (see request_validation.h). AlreadyExists for an id in
  // use. Never refuses for capacity: the bound on waiting work is the engine's, at
  // submission (EngineCoreConfig::max_waiting), so an accepted request never fails here.
  absl::Status AddRequest(std::unique_ptr<Request> request);
  // Removes a waiting or running request, freeing its blocks; NotFound if unknown.
  absl::StatusOr<FinishedRequest> AbortRequest(
      const std::string& id, RequestStatus status = RequestStatus::kFinishedCancelled);

  SchedulerOutput Schedule();
  // After the step ran: advances the scheduled requests, registers the blocks they
  // filled in the prefix cache, appends each sampled token (tokens[i] for the i-th
  // scheduled request with sample set; kSampleFailed fails that request) and returns
  // the requests that finished. `newly_sampled` gets the requests that received a token.
  std::vector<FinishedRequest> UpdateFromOutput(
      const SchedulerOutput& output, std::span<const int32_t> tokens,
      std::vector<SampledRequest>* newly_sampled = nullptr);
  // Fails every request (the replica lost a worker): returns them all.
  std::vector<FinishedRequest> AbortAll(RequestStatus status);

  int64_t num_running() const { return static_cast<int64_t>(running_.size()); }
  int64_t num_waiting() const { return waiting_.size(); }
  int64_t num_preempted_waiting() const { return num_preempted_waiting_; }
  const std::vector<Request*>& running() const { return running_; }
  Request* Find(const std::string& id) const;
  KvCacheManager& kv() { return kv_; }
  const SchedulerConfig& config() const { return config_; }

 private:
  // Phase 1 for one request; false when it could not be scheduled (it or a victim was
  // preempted and the step must stop admitting).
  void ScheduleRunning(SchedulerOutput& out, int64_t& budget);
  void ScheduleWaiting(SchedulerOutput& out, int64_t& budget);
  // The full prompt blocks running requests have not computed yet (prefix caching on).
  absl::flat_hash_set<BlockHash> BlocksInFlight() const;
  // Whether `r`, past its cached prefix `hit_blocks`, would next compute a block in
  // `in_flight`.
  bool WaitsForBlockInFlight(const Request& r, int64_t hit_blocks,
                             const absl::flat_hash_set<BlockHash>& in_flight) const;
  void AddInFlight(const Request& r, absl::flat_hash_set<BlockHash>& in_flight) const;
  // Preempts the worst running request; returns it.
  Request* PreemptWorst(SchedulerOutput& out, int64_t& budget);
  // Preempts the worst running request when it is less urgent (a higher priority value)
  // than the waiting `r`; false (nothing done) otherwise.
  bool PreemptForPriority(const Request& r, SchedulerOutput& out, int64_t& budget);
  void AddScheduled(SchedulerOutput& out, Request* r, int64_t n, int64_t& budget);
  void RemoveRunning(Request* r);
  FinishedRequest Finish(Request* r, RequestStatus status);
  // The stop condition the request's latest token met, or kRunning.
  RequestStatus StopStatus(const Request& r) const;

  SchedulerConfig config_;
  KvCacheManager& kv_;
  absl::flat_hash_map<std::string, std::unique_ptr<Request>> requests_;
  std::vector<Request*> running_;
  WaitingQueue waiting_;
  int64_t next_arrival_ = 0;
  uint64_t next_sequence_id_ = 1;
  int64_t num_preempted_waiting_ = 0;
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_SCHEDULER_H_
