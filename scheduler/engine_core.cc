#include "scheduler/engine_core.h"

#include <algorithm>
#include <cmath>

#include "absl/memory/memory.h"
#include "absl/strings/escaping.h"
#include "common/check.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "scheduler/step_messages.h"

namespace shoal::scheduler {
namespace {

v1::FinishReason ReasonOf(RequestStatus status) {
  switch (status) {
    case RequestStatus::kFinishedStopped:
      return v1::FINISH_REASON_STOP;
    case RequestStatus::kFinishedLength:
      return v1::FINISH_REASON_LENGTH;
    case RequestStatus::kFinishedCancelled:
      return v1::FINISH_REASON_CANCELLED;
    case RequestStatus::kFinishedAborted:
      return v1::FINISH_REASON_ABORTED;
    default:
      return v1::FINISH_REASON_ERROR;
  }
}

v1::StreamError MakeError(absl::StatusCode code, bool retryable, std::string message) {
  v1::StreamError error;
  error.set_code(static_cast<int32_t>(code));
  error.set_retryable(retryable);
  error.set_message(std::move(message));
  return error;
}

}  // namespace

absl::Status EngineCoreConfig::SetFromRegistration(const v1::RegisterResponse& registration) {
  const v1::ModelFacts& model = registration.model();
  if (model.context_length() < 2 || model.vocab_size() < 1) {
    return absl::InvalidArgumentError(
        fmt::format("the worker reported a context length of {} and a vocabulary of {} tokens",
                    model.context_length(), model.vocab_size()));
  }
  for (int32_t id : model.eog_token_ids()) {
    if (id < 0 || id >= model.vocab_size()) {
      return absl::InvalidArgumentError(
          fmt::format("the worker reported end-of-generation token {} outside the vocabulary", id));
    }
  }
  limits = {.max_model_len = model.context_length(),
            .vocab_size = model.vocab_size(),
            .eog_token_ids = {model.eog_token_ids().begin(), model.eog_token_ids().end()}};
  if (model_name.empty()) model_name = model.name();
  model_key = absl::BytesToHexString(registration.model_fingerprint());
  num_kv_blocks = registration.num_kv_blocks();
  kv_cache_bytes = registration.kv_cache_bytes();
  return absl::OkStatus();
}

absl::Status EngineCoreConfig::Validate() const {
  if (num_kv_blocks < 1) return absl::InvalidArgumentError("the workers reported no KV blocks");
  if (limits.vocab_size < 1 || limits.max_model_len < 2) {
    return absl::InvalidArgumentError("the model's vocabulary or context length is invalid");
  }
  if (max_unread_tokens < 1) return absl::InvalidArgumentError("max_unread_tokens must be >= 1");
  if (max_waiting < 1) return absl::InvalidArgumentError("max_waiting must be >= 1");
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
  SHOAL_ASSIGN_OR_RETURN(
      auto kv,
      KvCacheManager::Create({.num_blocks = c.num_kv_blocks,
                              .block_size = c.block_size,
                              .enable_prefix_caching = c.enable_prefix_caching,
                              .model_key = c.model_key.empty() ? c.model_name : c.model_key}));
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
  metrics_.kv_cache_bytes.Set(static_cast<double>(config.kv_cache_bytes));
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
    const double waited =
        absl::ToDoubleSeconds(absl::Now() - absl::FromUnixNanos(wire.arrival_time_unix_nanos()));
    request->arrival_time = now - std::clamp(waited, 0.0, now);
  }
  auto stream = std::make_shared<RequestStream>(request->id);
  absl::MutexLock lock(&mu_);
  if (!ready_) return absl::UnavailableError("the replica lost a worker; it serves no requests");
  if (!accepting_) return absl::UnavailableError("the scheduler is shutting down");
  if (live_.contains(request->id)) {
    return absl::AlreadyExistsError(fmt::format("request id '{}' is already in use", request->id));
  }
  if (num_queued_ >= config_.max_waiting) {
    metrics_.overload_rejections.Increment();
    return WithRetryAfter(
        absl::ResourceExhaustedError(fmt::format(
            "{} requests are waiting, the most this scheduler queues; retry later", num_queued_)),
        RetryAfterSecondsLocked());
  }
  live_.emplace(request->id, stream);
  ++num_queued_;
  ++num_adds_in_inbox_;
  inbox_.push_back({.add = std::move(request), .stream = stream});
  return stream;
}

int EngineCore::RetryAfterSecondsLocked() const {
  const double per_slot = mean_request_seconds_ * static_cast<double>(num_queued_ + 1) /
                          static_cast<double>(config_.scheduler.max_num_seqs);
  return static_cast<int>(std::clamp(std::ceil(per_slot), 1.0, 60.0));
}

absl::Status EngineCore::Cancel(const std::string& request_id, v1::CancelReason reason) {
  absl::MutexLock lock(&mu_);
  auto it = live_.find(request_id);
  if (it == live_.end()) {
    return absl::NotFoundError(fmt::format("no live request with id '{}'", request_id));
  }
  if (it->second->MarkCancelRequested(reason)) inbox_.push_back({.stream = it->second});
  return absl::OkStatus();
}

void EngineCore::Cancel(const std::shared_ptr<RequestStream>& stream, v1::CancelReason reason) {
  if (stream == nullptr || !stream->MarkCancelRequested(reason)) return;
  absl::MutexLock lock(&mu_);
  inbox_.push_back({.stream = stream});
}

v1::StatsResponse EngineCore::Stats() const {
  absl::MutexLock lock(&mu_);
  v1::StatsResponse stats = stats_;
  stats.set_max_num_seqs(static_cast<int32_t>(config_.scheduler.max_num_seqs));
  return stats;
}

bool EngineCore::ready() const {
  absl::MutexLock lock(&mu_);
  return ready_ && accepting_;
}

bool EngineCore::healthy() const {
  absl::MutexLock lock(&mu_);
  return healthy_;
}

std::string EngineCore::failure_message() const {
  absl::MutexLock lock(&mu_);
  return failure_message_;
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
            +[](EngineCore* e)
                 ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->mu_) { return !e->inbox_.empty() || e->stop_; },
            this));
      }
      commands.swap(inbox_);
      num_adds_in_inbox_ = 0;
      stop = stop_;
    }
    const bool changed = !commands.empty();
    Apply(commands);
    commands.clear();
    if (changed) UpdateGaugesAndStats(0);
    if (stop) {
      AbortAll(MakeError(absl::StatusCode::kUnavailable, /*retryable=*/true,
                         "the scheduler shut down before the request finished"));
      absl::MutexLock lock(&mu_);
      idle_ = true;
      return;
    }
    if (!failed_ && (scheduler_.num_running() + scheduler_.num_waiting() > 0 || !forget_.empty())) {
      RunStep();
    }
  }
}

void EngineCore::Apply(std::vector<Command>& commands) {
  for (Command& c : commands) {
    if (c.add != nullptr) {
      AddRequest(c);
    } else {
      CancelRequest(c);
    }
  }
}

void EngineCore::AddRequest(Command& command) {
  const std::string id = command.add->id;
  // Accepted while the step that failed the replica ran: another replica may serve it.
  absl::Status status =
      failed_ ? absl::UnavailableError("the replica lost a worker; it serves no requests")
              : absl::OkStatus();
  if (status.ok()) {
    streams_[id] = command.stream;
    status = scheduler_.AddRequest(std::move(command.add));
    if (status.ok()) return;
    streams_.erase(id);  // Submit checked the id: this should not happen
  }
  {
    absl::MutexLock lock(&mu_);
    live_.erase(id);
  }
  v1::SchedulerGenerateResponse::Finish finish;
  finish.set_reason(v1::FINISH_REASON_ABORTED);
  *finish.mutable_error() = MakeError(status.code(), /*retryable=*/true, MessageOf(status));
  command.stream->Finish(finish);
}

void EngineCore::CancelRequest(const Command& command) {
  const std::string& id = command.stream->request_id();
  auto it = streams_.find(id);
  // The request finished already, or the id now belongs to another call's request.
  if (it == streams_.end() || it->second != command.stream) return;
  // The stream's latest reason: a stop string wins over the call's own cancellation,
  // whichever was queued first.
  const RequestStatus status = command.stream->cancel_reason() == v1::CANCEL_REASON_STOP_STRING
                                   ? RequestStatus::kFinishedStopped
                                   : RequestStatus::kFinishedCancelled;
  absl::StatusOr<FinishedRequest> done = scheduler_.AbortRequest(id, status);
  if (done.ok()) FinishRequest(std::move(*done));
}

void EngineCore::RunStep() {
  const double start = Now();
  SchedulerOutput out = scheduler_.Schedule();
  if (!out.preempted.empty()) {
    // Preempted requests wait again: Submit counts them from now, not after the step.
    absl::MutexLock lock(&mu_);
    num_queued_ = scheduler_.num_waiting() + num_adds_in_inbox_;
  }
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
    FailReplica(fmt::format("step {} failed on the worker: {}", step_id_, MessageOf(status)));
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
  AbortStalled();
}

void EngineCore::DeliverTokens(const std::vector<SampledRequest>& sampled, double now) {
  stalled_.clear();
  for (const SampledRequest& s : sampled) {
    Request* r = s.request;
    const v1::SampledToken& token = step_result_.tokens(s.index);
    const int64_t unread = streams_.at(r->id)->PushToken(
        token.token_id(), token.has_logprob() ? &token.logprob() : nullptr);
    if (unread > config_.max_unread_tokens) stalled_.push_back(r->id);
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

void EngineCore::AbortStalled() {
  for (const std::string& id : stalled_) {
    // NotFound: it finished with this step's token anyway.
    absl::StatusOr<FinishedRequest> done =
        scheduler_.AbortRequest(id, RequestStatus::kFinishedAborted);
    if (!done.ok()) continue;
    const v1::StreamError error = MakeError(
        absl::StatusCode::kResourceExhausted, /*retryable=*/false,
        fmt::format("the client left more than {} tokens of its stream unread; the request "
                    "was stopped",
                    config_.max_unread_tokens));
    FinishRequest(std::move(*done), &error);
  }
  stalled_.clear();
}

void EngineCore::FinishRequest(FinishedRequest done, const v1::StreamError* error) {
  Request& r = *done.request;
  if (done.was_on_workers) forget_.push_back(r.sequence_id);
  const double now = Now();
  v1::SchedulerGenerateResponse::Finish finish;
  finish.set_reason(ReasonOf(r.status));
  if (r.stopped_on_token) finish.set_stop_token_id(r.output_token_ids.back());
  v1::Usage* usage = finish.mutable_usage();
  usage->set_prompt_tokens(static_cast<int32_t>(r.num_prompt_tokens()));
  usage->set_completion_tokens(static_cast<int32_t>(r.num_output_tokens()));
  usage->set_total_tokens(static_cast<int32_t>(r.num_tokens()));
  usage->set_cached_prompt_tokens(static_cast<int32_t>(r.num_cached_prompt_tokens));
  if (error != nullptr) {
    *finish.mutable_error() = *error;
  } else if (r.status == RequestStatus::kFinishedError) {
    *finish.mutable_error() =
        MakeError(absl::StatusCode::kInternal, /*retryable=*/false,
                  "the worker could not continue this request: " + r.error_message);
  }
  const double scheduled = r.first_scheduled_time >= 0 ? r.first_scheduled_time : now;
  finish.set_queue_seconds(scheduled - r.arrival_time);
  if (r.first_token_time >= 0)
    finish.set_time_to_first_token_seconds(r.first_token_time - r.arrival_time);
  finish.set_total_seconds(now - r.arrival_time);
  finish.set_num_preemptions(r.num_preemptions);
  metrics_.Finished(r.status).Increment();
  metrics_.e2e_latency.Observe(now - r.arrival_time);
  if (r.first_token_time >= 0) metrics_.decode_time.Observe(r.last_token_time - r.first_token_time);
  auto it = streams_.find(r.id);
  SHOAL_CHECK(it != streams_.end());
  std::shared_ptr<RequestStream> stream = std::move(it->second);
  streams_.erase(it);
  {
    // The id is free before the caller can see the final message and reuse it.
    absl::MutexLock lock(&mu_);
    live_.erase(r.id);
    if (r.status == RequestStatus::kFinishedStopped || r.status == RequestStatus::kFinishedLength) {
      const double seconds = now - r.arrival_time;  // a normal request's time, for retry-after
      mean_request_seconds_ =
          mean_request_seconds_ == 0 ? seconds : 0.95 * mean_request_seconds_ + 0.05 * seconds;
    }
  }
  stream->Finish(finish);
}

void EngineCore::AbortAll(const v1::StreamError& error) {
  std::vector<FinishedRequest> aborted = scheduler_.AbortAll(RequestStatus::kFinishedAborted);
  UpdateGaugesAndStats(0);  // before the streams hear of it, as after a step
  for (FinishedRequest& f : aborted) FinishRequest(std::move(f), &error);
}

void EngineCore::FailReplica(const std::string& message) {
  failed_ = true;
  {
    absl::MutexLock lock(&mu_);
    ready_ = false;
    healthy_ = false;
    accepting_ = false;
    failure_message_ = message;
  }
  // Another replica may serve them: the router retries those whose tokens it has not
  // streamed yet.
  AbortAll(MakeError(absl::StatusCode::kUnavailable, /*retryable=*/true, message));
  forget_.clear();  // the worker's state is lost with the replica
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
    mean_step_seconds_ =
        mean_step_seconds_ == 0 ? step_seconds : 0.99 * mean_step_seconds_ + 0.01 * step_seconds;
  }
  absl::MutexLock lock(&mu_);
  // Requests submitted since the inbox was last taken are not in the scheduler yet.
  num_queued_ = scheduler_.num_waiting() + num_adds_in_inbox_;
  stats_.set_num_running(static_cast<int32_t>(scheduler_.num_running()));
  stats_.set_num_waiting(static_cast<int32_t>(scheduler_.num_waiting()));
  stats_.set_num_preempted(static_cast<int32_t>(scheduler_.num_preempted_waiting()));
  stats_.set_num_kv_blocks_total(kv_->num_blocks());
  stats_.set_num_kv_blocks_free(kv_->num_free_blocks());
  stats_.set_kv_block_size(static_cast<int32_t>(kv_->block_size()));
  stats_.set_prefix_cache_queried_tokens(kv_->prefix_queried_tokens());
  stats_.set_prefix_cache_hit_tokens(kv_->prefix_hit_tokens());
  stats_.set_ready(ready_ && accepting_);
  stats_.set_healthy(healthy_);
  stats_.set_max_model_len(static_cast<int32_t>(config_.scheduler.max_model_len));
  stats_.set_num_steps(static_cast<int64_t>(step_id_));
  stats_.set_mean_step_seconds(mean_step_seconds_);
  stats_.set_kv_cache_bytes(config_.kv_cache_bytes);
}

}  // namespace shoal::scheduler
