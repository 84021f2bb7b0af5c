#include "scheduler/engine_core.h"

#include <algorithm>

#include "absl/memory/memory.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "scheduler/step_messages.h"

namespace shoal::scheduler {
namespace {

v1::FinishReason ReasonOf(RequestStatus status) {
  switch (status) {
    case RequestStatus::kFinishedStopped: return v1::FINISH_REASON_STOP;
    case RequestStatus::kFinishedLength: return v1::FINISH_REASON_LENGTH;
    case RequestStatus::kFinishedCancelled: return v1::FINISH_REASON_CANCELLED;
    default: return v1::FINISH_REASON_ERROR;
  }
}

}  // namespace

absl::Status EngineCoreConfig::Validate() const {
  if (num_kv_blocks < 1) return absl::InvalidArgumentError("the workers reported no KV blocks");
  if (limits.vocab_size < 1 || limits.max_model_len < 2) {
    return absl::InvalidArgumentError("the model's vocabulary or context length is invalid");
  }
  SchedulerConfig s = scheduler;
  s.max_model_len = limits.max_model_len;
  return s.Validate();
}

absl::StatusOr<std::unique_ptr<EngineCore>> EngineCore::Create(const EngineCoreConfig& config,
                                                               std::unique_ptr<WorkerClient> worker,
                                                               prometheus::Registry& registry) {
  SHOAL_RETURN_IF_ERROR(config.Validate());
  EngineCoreConfig c = config;
  // A request must fit the KV cache alone, or it could preempt itself forever.
  c.scheduler.max_model_len =
      std::min<int64_t>(c.limits.max_model_len, c.num_kv_blocks * c.block_size);
  c.limits.max_model_len = c.scheduler.max_model_len;
  SHOAL_RETURN_IF_ERROR(c.scheduler.Validate());
  SHOAL_ASSIGN_OR_RETURN(auto kv, KvCacheManager::Create({.num_blocks = c.num_kv_blocks,
                                                          .block_size = c.block_size,
                                                          .enable_prefix_caching =
                                                              c.enable_prefix_caching,
                                                          .model_key = c.model_key.empty()
                                                                           ? c.model_name
                                                                           : c.model_key}));
  auto engine = absl::WrapUnique(new EngineCore(c, std::move(worker), std::move(kv), registry));
  engine->thread_ = std::thread([e = engine.get()] { e->Loop(); });
  return engine;
}

EngineCore::EngineCore(const EngineCoreConfig& config, std::unique_ptr<WorkerClient> worker,
                       std::unique_ptr<KvCacheManager> kv, prometheus::Registry& registry)
    : config_(config),
      start_time_(absl::Now()),
      worker_(std::move(worker)),
      metrics_(registry, config.model_name),
      kv_(std::move(kv)),
      scheduler_(config.scheduler, *kv_) {
  UpdateGaugesAndStats(0);
}

EngineCore::~EngineCore() { Drain(absl::ZeroDuration()); }

double EngineCore::Now() const { return absl::ToDoubleSeconds(absl::Now() - start_time_); }

absl::StatusOr<std::shared_ptr<RequestStream>> EngineCore::Submit(
    const v1::SchedulerGenerateRequest& wire) {
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<Request> request, MakeRequest(wire, config_.limits));
  const double now = Now();
  request->arrival_time = now;
  if (wire.arrival_time_unix_nanos() > 0) {
    const double waited = absl::ToDoubleSeconds(
        absl::Now() - absl::FromUnixNanos(wire.arrival_time_unix_nanos()));
    request->arrival_time = now - std::clamp(waited, 0.0, now);
  }
  auto stream = std::make_shared<RequestStream>(request->id);
  absl::MutexLock lock(&mu_);
  if (!ready_) return absl::UnavailableError("the replica lost a worker; it serves no requests");
  if (!accepting_) return absl::UnavailableError("the scheduler is shutting down");
  if (live_ids_.contains(request->id)) {
    return absl::AlreadyExistsError(fmt::format("request id '{}' is already in use", request->id));
  }
  const int64_t limit = config_.scheduler.max_waiting + config_.scheduler.max_num_seqs;
  if (static_cast<int64_t>(live_ids_.size()) >= limit) {
    return absl::ResourceExhaustedError(
        fmt::format("{} requests are in flight, the most this scheduler queues; retry later",
                    live_ids_.size()));
  }
  live_ids_.insert(request->id);
  inbox_.push_back({.add = std::move(request), .stream = stream});
  return stream;
}

absl::Status EngineCore::Cancel(const std::string& request_id) {
  absl::MutexLock lock(&mu_);
  if (!live_ids_.contains(request_id)) {
    return absl::NotFoundError(fmt::format("no live request with id '{}'", request_id));
  }
  inbox_.push_back({.abort_id = request_id});
  return absl::OkStatus();
}

v1::StatsResponse EngineCore::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

bool EngineCore::ready() const {
  absl::MutexLock lock(&mu_);
  return ready_ && accepting_;
}

void EngineCore::Drain(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    accepting_ = false;
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](EngineCore* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->mu_) {
                               return e->idle_ && e->inbox_.empty();
                             },
                             this),
                         grace);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void EngineCore::Loop() {
  std::vector<Command> commands;
  while (true) {
    bool stop;
    {
      absl::MutexLock lock(&mu_);
      const bool busy = scheduler_.num_running() + scheduler_.num_waiting() > 0 || !forget_.empty();
      idle_ = !busy;
      if (!busy) {
        mu_.Await(absl::Condition(
            +[](EngineCore* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->mu_) {
              return !e->inbox_.empty() || e->stop_;
            },
            this));
      }
      commands.swap(inbox_);
      stop = stop_;
    }
    const bool changed = !commands.empty();
    Apply(commands);
    commands.clear();
    if (changed) UpdateGaugesAndStats(0);
    if (stop) {
      for (FinishedRequest& f : scheduler_.AbortAll(RequestStatus::kFinishedCancelled)) {
        FinishRequest(std::move(f), "the scheduler shut down");
      }
      absl::MutexLock lock(&mu_);
      idle_ = true;
      return;
    }
    if (scheduler_.num_running() + scheduler_.num_waiting() > 0 || !forget_.empty()) RunStep();
  }
}

void EngineCore::Apply(std::vector<Command>& commands) {
  for (Command& c : commands) {
    if (c.add != nullptr) {
      const std::string id = c.add->id;
      streams_[id] = c.stream;
      absl::Status status = scheduler_.AddRequest(std::move(c.add));
      if (!status.ok()) {  // the in-flight limit should have caught this
        c.stream->Finish([&] {
          v1::SchedulerGenerateResponse::Finish f;
          f.set_reason(v1::FINISH_REASON_ERROR);
          f.set_error_message(std::string(status.message()));
          return f;
        }());
        streams_.erase(id);
        absl::MutexLock lock(&mu_);
        live_ids_.erase(id);
      }
      continue;
    }
    absl::StatusOr<FinishedRequest> done = scheduler_.AbortRequest(c.abort_id);
    if (done.ok()) FinishRequest(std::move(*done));
  }
}

void EngineCore::RunStep() {
  const double start = Now();
  SchedulerOutput out = scheduler_.Schedule();
  metrics_.preemptions.Increment(static_cast<double>(out.preempted.size()));
  for (const ScheduledRequest& s : out.scheduled) {
    Request* r = s.request;
    if (r->on_workers) continue;
    metrics_.admissions.Increment();
    if (r->first_scheduled_time < 0) {  // first admission, not a resume
      r->first_scheduled_time = start;
      metrics_.queue_time.Observe(start - r->arrival_time);
      metrics_.prompt_tokens.Increment(static_cast<double>(r->num_prompt_tokens()));
      streams_.at(r->id)->SetCachedPromptTokens(static_cast<int32_t>(r->num_cached_prompt_tokens));
    }
  }
  BuildStepRequest(out, forget_, ++step_id_, step_request_);
  forget_.clear();
  step_request_.set_record_expert_load(false);
  absl::Status status = worker_->Step(step_request_, step_result_);
  if (status.ok() && !step_result_.error_message().empty()) {
    status = absl::InternalError(step_result_.error_message());
  }
  if (status.ok()) status = CollectSampledTokens(out, step_result_, sampled_tokens_);
  if (!status.ok()) {
    FailAll(fmt::format("step {} failed on the worker: {}", step_id_, std::string(status.message())));
    return;
  }
  sampled_requests_.clear();
  std::vector<FinishedRequest> finished =
      scheduler_.UpdateFromOutput(out, sampled_tokens_, &sampled_requests_);
  const double now = Now();
  const double step_seconds = now - start;
  metrics_.steps.Increment();
  metrics_.iteration_tokens.Observe(static_cast<double>(out.num_scheduled_tokens));
  metrics_.step_time.Observe(step_seconds);
  metrics_.step_overhead.Observe(std::max(0.0, step_seconds - step_result_.forward_seconds()));
  // Before the streams hear of this step, so a caller that sees its request finish
  // sees stats without it.
  UpdateGaugesAndStats(step_seconds);
  DeliverTokens(sampled_requests_, now);
  for (FinishedRequest& f : finished) FinishRequest(std::move(f));
}

void EngineCore::DeliverTokens(const std::vector<Request*>& sampled, double now) {
  for (size_t i = 0; i < sampled.size(); ++i) {
    Request* r = sampled[i];
    const v1::SampledToken& token = step_result_.tokens(static_cast<int>(i));
    streams_.at(r->id)->PushToken(token.token_id(),
                                  token.has_logprob() ? &token.logprob() : nullptr);
    metrics_.generation_tokens.Increment();
    if (r->first_token_time < 0) {
      r->first_token_time = now;
      metrics_.time_to_first_token.Observe(now - r->arrival_time);
      metrics_.prefill_time.Observe(now - r->first_scheduled_time);
    } else {
      metrics_.inter_token_latency.Observe(now - r->last_token_time);
    }
    r->last_token_time = now;
  }
}

void EngineCore::FinishRequest(FinishedRequest done, const std::string& error) {
  Request& r = *done.request;
  if (done.was_on_workers && !error.empty()) {
    // A failed replica forgets everything anyway.
  } else if (done.was_on_workers) {
    forget_.push_back(r.sequence_id);
  }
  const double now = Now();
  v1::SchedulerGenerateResponse::Finish finish;
  finish.set_reason(ReasonOf(r.status));
  if (r.status == RequestStatus::kFinishedStopped) finish.set_stop_token_id(r.output_token_ids.back());
  v1::Usage* usage = finish.mutable_usage();
  usage->set_prompt_tokens(static_cast<int32_t>(r.num_prompt_tokens()));
  usage->set_completion_tokens(static_cast<int32_t>(r.num_output_tokens()));
  usage->set_total_tokens(static_cast<int32_t>(r.num_tokens()));
  usage->set_cached_prompt_tokens(static_cast<int32_t>(r.num_cached_prompt_tokens));
  finish.set_error_message(error);
  const double scheduled = r.first_scheduled_time >= 0 ? r.first_scheduled_time : now;
  finish.set_queue_seconds(scheduled - r.arrival_time);
  if (r.first_token_time >= 0) finish.set_time_to_first_token_seconds(r.first_token_time - r.arrival_time);
  finish.set_total_seconds(now - r.arrival_time);
  finish.set_num_preemptions(r.num_preemptions);
  metrics_.Finished(r.status).Increment();
  metrics_.e2e_latency.Observe(now - r.arrival_time);
  if (r.first_token_time >= 0) metrics_.decode_time.Observe(r.last_token_time - r.first_token_time);
  auto it = streams_.find(r.id);
  if (it != streams_.end()) {
    it->second->Finish(finish);
    streams_.erase(it);
  }
  absl::MutexLock lock(&mu_);
  live_ids_.erase(r.id);
}

void EngineCore::FailAll(const std::string& error) {
  {
    absl::MutexLock lock(&mu_);
    ready_ = false;
  }
  for (FinishedRequest& f : scheduler_.AbortAll(RequestStatus::kFinishedError)) {
    FinishRequest(std::move(f), error);
  }
  forget_.clear();
  UpdateGaugesAndStats(0);
}

void EngineCore::UpdateGaugesAndStats(double step_seconds) {
  metrics_.num_requests_running.Set(static_cast<double>(scheduler_.num_running()));
  metrics_.num_requests_waiting.Set(static_cast<double>(scheduler_.num_waiting()));
  metrics_.num_requests_preempted.Set(static_cast<double>(scheduler_.num_preempted_waiting()));
  metrics_.kv_cache_usage.Set(kv_->usage());
  metrics_.prefix_cache_queries.Increment(
      static_cast<double>(kv_->prefix_queried_tokens() - last_prefix_queries_));
  metrics_.prefix_cache_hits.Increment(
      static_cast<double>(kv_->prefix_hit_tokens() - last_prefix_hits_));
  last_prefix_queries_ = kv_->prefix_queried_tokens();
  last_prefix_hits_ = kv_->prefix_hit_tokens();
  if (step_seconds > 0) {
    // Exponential mean over roughly the last 100 steps.
    mean_step_seconds_ = mean_step_seconds_ == 0 ? step_seconds
                                                 : 0.99 * mean_step_seconds_ + 0.01 * step_seconds;
  }
  absl::MutexLock lock(&mu_);
  stats_.set_num_running(static_cast<int32_t>(scheduler_.num_running()));
  stats_.set_num_waiting(static_cast<int32_t>(scheduler_.num_waiting()));
  stats_.set_num_preempted(static_cast<int32_t>(scheduler_.num_preempted_waiting()));
  stats_.set_num_kv_blocks_total(kv_->num_blocks());
  stats_.set_num_kv_blocks_free(kv_->num_free_blocks());
  stats_.set_kv_block_size(static_cast<int32_t>(kv_->block_size()));
  stats_.set_prefix_cache_queried_tokens(kv_->prefix_queried_tokens());
  stats_.set_prefix_cache_hit_tokens(kv_->prefix_hit_tokens());
  stats_.set_ready(ready_ && accepting_);
  stats_.set_max_model_len(static_cast<int32_t>(config_.scheduler.max_model_len));
  stats_.set_num_steps(static_cast<int64_t>(step_id_));
  stats_.set_mean_step_seconds(mean_step_seconds_);
}

}  // namespace shoal::scheduler
