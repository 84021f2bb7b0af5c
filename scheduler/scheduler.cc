#include "scheduler/scheduler.h"

#include <algorithm>
#include <tuple>

#include "common/check.h"
#include "fmt/format.h"

namespace shoal::scheduler {
namespace {

// Waiting requests ScheduleWaiting looks at per step, at most.
constexpr int64_t kMaxExamined = 1024;

}  // namespace

absl::Status SchedulerConfig::Validate() const {
  if (max_num_batched_tokens < 1) {
    return absl::InvalidArgumentError(
        fmt::format("max_num_batched_tokens must be >= 1, not {}", max_num_batched_tokens));
  }
  if (max_num_seqs < 1) {
    return absl::InvalidArgumentError(
        fmt::format("max_num_seqs must be >= 1, not {}", max_num_seqs));
  }
  if (long_prefill_token_threshold < 0) {
    return absl::InvalidArgumentError("long_prefill_token_threshold must be >= 0");
  }
  if (max_model_len < 2) {
    return absl::InvalidArgumentError(
        fmt::format("max_model_len must be >= 2, not {}", max_model_len));
  }
  return absl::OkStatus();
}

Scheduler::Scheduler(const SchedulerConfig& config, KvCacheManager& kv)
    : config_(config), kv_(kv) {}

absl::Status Scheduler::AddRequest(std::unique_ptr<Request> request) {
  if (requests_.contains(request->id)) {
    return absl::AlreadyExistsError(fmt::format("request id '{}' is already in use", request->id));
  }
  Request* r = request.get();
  r->sequence_id = next_sequence_id_++;
  r->arrival_order = next_arrival_++;
  r->status = RequestStatus::kWaiting;
  requests_.emplace(r->id, std::move(request));
  waiting_.Push(r);
  return absl::OkStatus();
}

Request* Scheduler::Find(const std::string& id) const {
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : it->second.get();
}

absl::StatusOr<FinishedRequest> Scheduler::AbortRequest(const std::string& id,
                                                        RequestStatus status) {
  Request* r = Find(id);
  if (r == nullptr) return absl::NotFoundError(fmt::format("no request with id '{}'", id));
  return Finish(r, status);
}

std::vector<FinishedRequest> Scheduler::AbortAll(RequestStatus status) {
  std::vector<Request*> all;
  for (const auto& [id, r] : requests_) all.push_back(r.get());
  std::vector<FinishedRequest> out;
  for (Request* r : all) out.push_back(Finish(r, status));
  return out;
}

SchedulerOutput Scheduler::Schedule() {
  SchedulerOutput out;
  int64_t budget = config_.max_num_batched_tokens;
  ScheduleRunning(out, budget);
  // No admissions in a step that had to preempt: memory is short.
  if (out.preempted.empty()) ScheduleWaiting(out, budget);
  return out;
}

void Scheduler::AddScheduled(SchedulerOutput& out, Request* r, int64_t n, int64_t& budget) {
  out.scheduled.push_back(
      {.request = r, .num_new_tokens = n, .sample = r->num_computed_tokens + n == r->num_tokens()});
  out.num_scheduled_tokens += n;
  budget -= n;
}

void Scheduler::ScheduleRunning(SchedulerOutput& out, int64_t& budget) {
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Request* r = running_[i];
    int64_t n = r->num_tokens() - r->num_computed_tokens;
    if (config_.long_prefill_token_threshold > 0) {
      n = std::min(n, config_.long_prefill_token_threshold);
    }
    n = std::min(n, budget);
    if (n <= 0) {
      ++i;
      continue;
    }
    bool scheduled = false;
    while (true) {
      if (kv_.AllocateSlots(*r, n)) {
        AddScheduled(out, r, n, budget);
        scheduled = true;
        break;
      }
      if (PreemptWorst(out, budget) == r) break;
    }
    if (!scheduled) break;  // r itself gave way: nothing later can fit either
    // Victims before r shift it down.
    i = static_cast<size_t>(std::find(running_.begin(), running_.end(), r) - running_.begin()) + 1;
  }
}

bool Scheduler::PreemptForPriority(const Request& r, SchedulerOutput& out, int64_t& budget) {
  if (running_.empty()) return false;
  const Request* worst =
      *std::max_element(running_.begin(), running_.end(), [](Request* a, Request* b) {
        return std::tie(a->priority, a->arrival_order) < std::tie(b->priority, b->arrival_order);
      });
  if (worst->priority <= r.priority) return false;
  PreemptWorst(out, budget);
  return true;
}

Request* Scheduler::PreemptWorst(SchedulerOutput& out, int64_t& budget) {
  SHOAL_CHECK(!running_.empty());
  Request* victim = *std::max_element(running_.begin(), running_.end(), [](Request* a, Request* b) {
    return std::tie(a->priority, a->arrival_order) < std::tie(b->priority, b->arrival_order);
  });
  // A victim already scheduled this step gives its tokens back.
  auto it = std::find_if(out.scheduled.begin(), out.scheduled.end(),
                         [victim](const ScheduledRequest& s) { return s.request == victim; });
  if (it != out.scheduled.end()) {
    budget += it->num_new_tokens;
    out.num_scheduled_tokens -= it->num_new_tokens;
    out.scheduled.erase(it);
  }
  kv_.Free(*victim);
  victim->num_computed_tokens = 0;
  victim->status = RequestStatus::kPreempted;
  ++victim->num_preemptions;
  RemoveRunning(victim);
  waiting_.Push(victim);
  ++num_preempted_waiting_;
  out.preempted.push_back(victim);
  return victim;
}

void Scheduler::AddInFlight(const Request& r, absl::flat_hash_set<BlockHash>& in_flight) const {
  const int64_t prompt_blocks = std::min<int64_t>(r.num_prompt_tokens() / kv_.block_size(),
                                                  static_cast<int64_t>(r.block_hashes.size()));
  for (int64_t b = r.num_cached_blocks; b < prompt_blocks; ++b) in_flight.insert(r.block_hashes[b]);
}

absl::flat_hash_set<BlockHash> Scheduler::BlocksInFlight() const {
  absl::flat_hash_set<BlockHash> in_flight;
  if (!kv_.pool().prefix_caching()) return in_flight;
  for (const Request* r : running_) AddInFlight(*r, in_flight);
  return in_flight;
}

bool Scheduler::WaitsForBlockInFlight(const Request& r, int64_t hit_blocks,
                                      const absl::flat_hash_set<BlockHash>& in_flight) const {
  // Only a block it would compute in full: the block of its last prompt token is
  // always computed (its logits are needed), so that one never waits.
  const int64_t max_blocks = (r.num_tokens() - 1) / kv_.block_size();
  return hit_blocks < max_blocks && hit_blocks < static_cast<int64_t>(r.block_hashes.size()) &&
         in_flight.contains(r.block_hashes[hit_blocks]);
}

void Scheduler::ScheduleWaiting(SchedulerOutput& out, int64_t& budget) {
  absl::flat_hash_set<BlockHash> in_flight = BlocksInFlight();
  int64_t examined = 0;
  for (Request* r : waiting_.InOrder()) {
    // Past that many (most of them waiting for blocks in flight), try again next step.
    if (budget <= 0 || ++examined > kMaxExamined) break;
    if (num_running() >= config_.max_num_seqs && !PreemptForPriority(*r, out, budget)) break;
    SHOAL_CHECK(r->num_computed_tokens == 0);
    PrefixHit hit = kv_.FindCachedPrefix(*r);
    if (WaitsForBlockInFlight(*r, static_cast<int64_t>(hit.blocks.size()), in_flight)) continue;
    const auto chunk = [&] {
      int64_t n = r->num_tokens() - hit.num_tokens;
      if (config_.long_prefill_token_threshold > 0) {
        n = std::min(n, config_.long_prefill_token_threshold);
      }
      return std::min(n, budget);
    };
    int64_t n = chunk();
    bool allocated = kv_.AllocateSlots(*r, n, hit.blocks.empty() ? nullptr : &hit);
    // Short of blocks: a more urgent request takes them from less urgent running ones.
    while (!allocated && PreemptForPriority(*r, out, budget)) {
      hit = kv_.FindCachedPrefix(*r);
      n = chunk();
      allocated = kv_.AllocateSlots(*r, n, hit.blocks.empty() ? nullptr : &hit);
    }
    if (!allocated) break;
    kv_.RecordPrefixLookup(r->num_tokens(), hit.num_tokens);
    waiting_.Remove(r);
    if (r->status == RequestStatus::kPreempted) {
      --num_preempted_waiting_;
    } else {
      r->num_cached_prompt_tokens = hit.num_tokens;
    }
    r->status = RequestStatus::kRunning;
    running_.push_back(r);
    AddScheduled(out, r, n, budget);
    if (kv_.pool().prefix_caching()) AddInFlight(*r, in_flight);
  }
}

std::vector<FinishedRequest> Scheduler::UpdateFromOutput(
    const SchedulerOutput& output, std::span<const int32_t> tokens,
    std::vector<SampledRequest>* newly_sampled) {
  std::vector<FinishedRequest> finished;
  size_t next = 0;
  for (const ScheduledRequest& s : output.scheduled) {
    Request* r = s.request;
    r->num_computed_tokens += s.num_new_tokens;
    kv_.CacheComputedBlocks(*r);
    if (!s.sample) continue;
    SHOAL_CHECK(next < tokens.size());
    const int index = static_cast<int>(next);
    const int32_t token = tokens[next++];
    if (token == kSampleFailed) {
      finished.push_back(Finish(r, RequestStatus::kFinishedError));
      continue;
    }
    r->AppendOutputToken(token);
    if (newly_sampled != nullptr) newly_sampled->push_back({.request = r, .index = index});
    const RequestStatus status = StopStatus(*r);
    r->stopped_on_token = status == RequestStatus::kFinishedStopped;
    if (status != RequestStatus::kRunning) finished.push_back(Finish(r, status));
  }
  SHOAL_CHECK(next == tokens.size());
  return finished;
}

RequestStatus Scheduler::StopStatus(const Request& r) const {
  const int32_t last = r.output_token_ids.back();
  if (r.num_output_tokens() >= r.sampling.min_tokens() &&
      std::find(r.stop_token_ids.begin(), r.stop_token_ids.end(), last) != r.stop_token_ids.end()) {
    return RequestStatus::kFinishedStopped;
  }
  if (r.num_output_tokens() >= r.max_tokens || r.num_tokens() >= config_.max_model_len) {
    return RequestStatus::kFinishedLength;
  }
  return RequestStatus::kRunning;
}

void Scheduler::RemoveRunning(Request* r) {
  auto it = std::find(running_.begin(), running_.end(), r);
  if (it == running_.end()) return;
  running_.erase(it);
}

FinishedRequest Scheduler::Finish(Request* r, RequestStatus status) {
  if (r->status == RequestStatus::kRunning) {
    RemoveRunning(r);
  } else if (waiting_.Remove(r) && r->status == RequestStatus::kPreempted) {
    --num_preempted_waiting_;
  }
  kv_.Free(*r);
  r->status = status;
  FinishedRequest done;
  done.was_on_workers = r->on_workers;
  auto node = requests_.extract(r->id);
  done.request = std::move(node.mapped());
  return done;
}

}  // namespace shoal::scheduler
