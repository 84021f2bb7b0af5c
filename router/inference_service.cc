#include "router/inference_service.h"

#include <deque>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "router/admission_ticket.h"
#include "router/choice.h"
#include "router/openai_error.h"
#include "router/utf8.h"

namespace shoal::router {
namespace {

// A call's API key, from its metadata: `authorization: Bearer KEY` or `x-api-key: KEY`.
std::string_view ApiKeyOfCall(const grpc::CallbackServerContext& call) {
  const auto& metadata = call.client_metadata();
  const auto authorization = metadata.find("authorization");
  const auto x_api_key = metadata.find("x-api-key");
  const auto view = [&](auto it) {
    return it == metadata.end() ? std::string_view()
                                : std::string_view(it->second.data(), it->second.size());
  };
  return ApiKeyFrom(view(authorization), view(x_api_key));
}

// A unary call's tenant check: the status of an unauthenticated call.
absl::Status CheckCaller(RouterContext& context, const grpc::CallbackServerContext& call) {
  return context.tenants().Authenticate(ApiKeyOfCall(call)).status();
}

// One Generate call. The choice is pumped from two kinds of threads (its upstream's
// wake-ups and gRPC's write completions), so everything goes through Guard::mu; the
// wake-up holds the guard, not the reactor, and OnDone clears the guard's pointer
// before the reactor is deleted.
class GenerateReactor final : public grpc::ServerWriteReactor<v1::GenerateResponse> {
 public:
  GenerateReactor(RouterContext& context, grpc::CallbackServerContext& call,
                  const v1::GenerateRequest& request)
      : context_(context), call_(call), guard_(std::make_shared<Guard>()) {
    started_ = absl::Now();
    request_id_ = request.request_id().empty() ? context.NewPublicId("gen-") : request.request_id();
    model_ = context.model().name();  // the first served name, whatever alias was asked
    return_token_ids_ = request.return_token_ids();
    return_prompt_token_ids_ = request.return_prompt_token_ids();
    absl::Status status = Begin(request);
    if (!status.ok()) {
      FinishWith(status);
      return;
    }
    const std::function<void()> admitted = AdmissionWake();
    {
      absl::MutexLock lock(&guard_->mu);
      guard_->reactor = this;
      MaybeWriteLocked();
    }
    // A slot that arrived between Begin and publishing the reactor found no one.
    admitted();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&guard_->mu);
    writing_ = false;
    if (!ok) {  // the client is gone
      if (choice_ != nullptr && !guard_->starting) choice_->Cancel();
      FinishWith(absl::CancelledError("the stream was closed"));
      return;
    }
    MaybeWriteLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&guard_->mu);
    if (choice_ != nullptr && !guard_->starting) choice_->Cancel();
    FinishWith(absl::CancelledError("cancelled by the client"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&guard_->mu);
      guard_->reactor = nullptr;
      // An AdmissionWake starting the choice finishes first.
      guard_->mu.Await(absl::Condition(
          +[](Guard* guard) { return !guard->starting; }, guard_.get()));
    }
    if (tenant_.tenant != nullptr) {
      const int64_t prompt = choice_ ? choice_->prompt_tokens() : 0;
      const int64_t output = choice_ ? choice_->completion_tokens() : 0;
      tenant_.lease.Settle(prompt + output);
      ChargeNewOutput();
      context_.tenants().metrics().Generated(tenant_.tenant->name, output);
    }
    choice_.reset();  // no wake-up after this returns
    replica_.Release();
    slot_.End();      // the next waiting request may start
    ticket_.reset();  // or, still waiting, this one leaves the queue
    if (counted_) context_.InflightChanged(-1);
    delete this;
  }

 private:
  struct Guard {
    absl::Mutex mu;
    GenerateReactor* reactor = nullptr;
    bool starting = false;  // AdmissionWake is starting the choice, unlocked
  };

  absl::Status Begin(const v1::GenerateRequest& request) {
    absl::StatusOr<TenantRef> tenant = context_.tenants().Authenticate(ApiKeyOfCall(call_));
    if (!tenant.ok()) return tenant.status();
    if (request.request_id().size() > 128) {
      return InvalidParam("request_id", "request_id is longer than 128 characters");
    }
    if (absl::Status status = context_.CheckModel(request.model()); !status.ok()) return status;
    absl::StatusOr<PreparedPrompt> prepared =
        context_.model().Prepare(request, context_.max_model_len());
    if (!prepared.ok()) return prepared.status();
    SHOAL_RETURN_IF_ERROR(context_.tenants().CapMaxTokens(
        **tenant, request.sampling().has_max_tokens(), prepared->sampling));
    TenantDemand demand{.client_cache_salt = request.cache_salt(),
                        .prompt_tokens = static_cast<int64_t>(prepared->prompt_token_ids.size()),
                        .max_tokens = prepared->sampling.max_tokens()};
    if (request.has_priority()) demand.priority = request.priority();
    SHOAL_RETURN_IF_ERROR(context_.CheckAccepting());
    SHOAL_ASSIGN_OR_RETURN(tenant_, context_.tenants().Admit(std::move(*tenant), demand));
    const int64_t prompt_tokens = demand.prompt_tokens;
    choice_ = std::make_unique<Choice>(0, context_.model(), std::move(*prepared),
                                       /*skip_special_tokens=*/true);
    base_.set_request_id(context_.NewInternalPrefix());
    base_.set_priority(tenant_.priority);
    base_.set_cache_salt(tenant_.cache_salt);
    base_.set_tenant_id(tenant_.tenant->name);
    base_.set_arrival_time_unix_nanos(absl::ToUnixNanos(started_));
    counted_ = true;
    context_.InflightChanged(+1);
    absl::StatusOr<std::unique_ptr<AdmissionTicket>> ticket = AdmissionTicket::Enter(
        context_.admission(), tenant_.tenant, tenant_.priority, prompt_tokens, AdmissionWake());
    if (!ticket.ok()) {
      context_.tenants().metrics().Rejected(tenant_.tenant->name, Rejection::kMaxQueued);
      return ticket.status();
    }
    ticket_ = std::move(*ticket);
    // Admitted at once (the usual case): start now, before the reactor is published.
    if (std::optional<AdmissionSlot> slot = ticket_->TakeSlot()) {
      choice_started_ = true;
      return StartChoice(std::move(*slot));
    }
    return absl::OkStatus();
  }

  // The choice's wake-up: reaches the reactor while it lives (any thread).
  std::function<void()> Wake() const {
    return [guard = guard_] {
      absl::MutexLock lock(&guard->mu);
      if (guard->reactor != nullptr) guard->reactor->MaybeWriteLocked();
    };
  }

  // The admission queue's wake-up, once a request that waited may start (any thread,
  // holding none of this call's locks). It starts the choice without the guard held: a
  // scheduler client may call on_ready from inside Generate, and its locks come before
  // the guard's. Meanwhile `starting` keeps the other paths off the choice and OnDone
  // waits.
  std::function<void()> AdmissionWake() const {
    return [guard = guard_] {
      GenerateReactor* self = nullptr;
      std::optional<AdmissionSlot> slot;
      {
        absl::MutexLock lock(&guard->mu);
        self = guard->reactor;
        if (self == nullptr || self->choice_started_ || self->finished_) return;
        slot = self->ticket_->TakeSlot();
        if (!slot) return;
        self->choice_started_ = true;
        guard->starting = true;
      }
      const absl::Status status = self->StartChoice(std::move(*slot));
      absl::MutexLock lock(&guard->mu);
      guard->starting = false;
      if (guard->reactor == nullptr) return;  // OnDone is waiting to delete it
      if (!status.ok()) {
        self->FinishWith(status);
      } else if (self->finished_) {
        self->choice_->Cancel();  // cancelled while it started
      } else {
        self->MaybeWriteLocked();
      }
    };
  }

  // Takes a replica and starts the choice, with no lock held: from Begin (before the
  // reactor is published) or from AdmissionWake.
  absl::Status StartChoice(AdmissionSlot slot) {
    slot_ = std::move(slot);
    context_.tenants().metrics().QueueTime(tenant_.tenant->name,
                                           absl::ToDoubleSeconds(ticket_->waited()));
    SHOAL_ASSIGN_OR_RETURN(replica_, context_.AcquireReplica());
    choice_->Start(*replica_.client(), std::move(base_), Wake());
    return absl::OkStatus();
  }

  void ChargeNewOutput() {
    const int64_t output = choice_ ? choice_->completion_tokens() : 0;
    if (output > output_charged_) {
      context_.admission().ChargeOutput(*tenant_.tenant, output - output_charged_);
      output_charged_ = output;
    }
  }

  // With guard_->mu held (or before the reactor is published).
  void FinishWith(const absl::Status& status) {
    if (finished_) return;
    finished_ = true;
    RecordMetrics(status);
    Finish(ToGrpcStatus(status, call_));
  }

  void RecordMetrics(const absl::Status& status) {
    const std::string code = status.ok() ? "OK" : absl::StatusCodeToString(status.code());
    context_.metrics().RecordGrpc(
        "Generate", code, model_, absl::ToDoubleSeconds(absl::Now() - started_),
        choice_ ? choice_->prompt_tokens() : 0, choice_ ? choice_->completion_tokens() : 0);
  }

  void MaybeWriteLocked() {
    if (finished_ || !choice_started_ || guard_->starting) return;
    delta_.Clear();
    if (choice_->Pump(delta_)) QueueMessages();
    ChargeNewOutput();
    if (!writing_ && !queue_.empty()) {
      writing_ = true;
      response_ = std::move(queue_.front());
      queue_.pop_front();
      StartWrite(&response_);
      return;
    }
    if (!writing_ && queue_.empty() && final_queued_) FinishWith(final_status_);
  }

  void QueueMessages() {
    const Choice& choice = *choice_;
    if (!choice.error().ok() && !sent_any_) {
      // A refusal (or a failure before any output): the call's status says it.
      final_queued_ = true;
      final_status_ = choice.error();
      return;
    }
    if (!delta_.empty() || (return_prompt_token_ids_ && !sent_any_)) {
      v1::GenerateResponse& message = queue_.emplace_back();
      message.set_request_id(request_id_);
      v1::GenerateResponse::Chunk* chunk = message.mutable_chunk();
      chunk->set_text(delta_.text);
      if (return_token_ids_)
        chunk->mutable_token_ids()->Assign(delta_.token_ids.begin(), delta_.token_ids.end());
      for (v1::TokenLogprob& lp : delta_.logprobs) *chunk->add_logprobs() = std::move(lp);
      if (return_prompt_token_ids_ && !sent_any_) {
        chunk->mutable_prompt_token_ids()->Assign(choice.prompt_token_ids().begin(),
                                                  choice.prompt_token_ids().end());
      }
      if (first_token_ == absl::InfinitePast() && !delta_.token_ids.empty()) {
        first_token_ = absl::Now();
      }
      sent_any_ = true;
    }
    if (choice.finished() && choice.ended() && !final_queued_) QueueFinal();
  }

  void QueueFinal() {
    const Choice& choice = *choice_;
    final_queued_ = true;
    v1::GenerateResponse& message = queue_.emplace_back();
    message.set_request_id(request_id_);
    v1::GenerateResponse::Final* final = message.mutable_final();
    if (!choice.error().ok()) {
      const bool retryable = choice.error().code() == absl::StatusCode::kUnavailable ||
                             choice.error().code() == absl::StatusCode::kResourceExhausted;
      final->set_finish_reason(retryable ? v1::FINISH_REASON_ABORTED : v1::FINISH_REASON_ERROR);
      final->set_error_message(MessageOf(choice.error()));
    } else {
      final->set_finish_reason(choice.finish_reason() == "length" ? v1::FINISH_REASON_LENGTH
                                                                  : v1::FINISH_REASON_STOP);
      if (!choice.stop_string().empty()) {
        final->set_stop_string(choice.stop_string());
      } else if (choice.stop_token_id()) {
        final->set_stop_token_id(*choice.stop_token_id());
      }
    }
    v1::Usage* usage = final->mutable_usage();
    usage->set_prompt_tokens(choice.prompt_tokens());
    usage->set_completion_tokens(choice.completion_tokens());
    usage->set_total_tokens(choice.prompt_tokens() + choice.completion_tokens());
    usage->set_cached_prompt_tokens(choice.cached_prompt_tokens());
    const absl::Time now = absl::Now();
    final->set_total_seconds(absl::ToDoubleSeconds(now - started_));
    if (first_token_ != absl::InfinitePast()) {
      final->set_time_to_first_token_seconds(absl::ToDoubleSeconds(first_token_ - started_));
    }
    final_status_ = absl::OkStatus();
  }

  RouterContext& context_;
  grpc::CallbackServerContext& call_;
  std::shared_ptr<Guard> guard_;
  TenantAdmission tenant_;
  std::unique_ptr<AdmissionTicket> ticket_;
  AdmissionSlot slot_;
  ReplicaLease replica_;
  v1::SchedulerGenerateRequest base_;
  bool choice_started_ = false;
  int64_t output_charged_ = 0;
  std::unique_ptr<Choice> choice_;
  ChoiceDelta delta_;
  std::deque<v1::GenerateResponse> queue_;
  v1::GenerateResponse response_;
  std::string request_id_;
  std::string model_;
  absl::Time started_;
  absl::Time first_token_ = absl::InfinitePast();
  absl::Status final_status_;
  bool return_token_ids_ = false;
  bool return_prompt_token_ids_ = false;
  bool writing_ = false;
  bool sent_any_ = false;
  bool final_queued_ = false;
  bool finished_ = false;
  bool counted_ = false;
};

template <typename Fn>
grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(fn(), *context));
  return reactor;
}

}  // namespace

grpc::ServerWriteReactor<v1::GenerateResponse>* InferenceService::Generate(
    grpc::CallbackServerContext* context, const v1::GenerateRequest* request) {
  return new GenerateReactor(context_, *context, *request);
}

grpc::ServerUnaryReactor* InferenceService::Tokenize(grpc::CallbackServerContext* context,
                                                     const v1::TokenizeRequest* request,
                                                     v1::TokenizeResponse* response) {
  return Unary(context, [&]() -> absl::Status {
    SHOAL_RETURN_IF_ERROR(CheckCaller(context_, *context));
    if (absl::Status status = context_.CheckModel(request->model()); !status.ok()) return status;
    const model::Tokenizer& tokenizer = context_.model().tokenizer();
    std::vector<int32_t> ids;
    if (request->has_chat()) {
      absl::StatusOr<std::vector<int32_t>> encoded = context_.model().EncodeChat(request->chat());
      if (!encoded.ok()) return encoded.status();
      ids = std::move(*encoded);
    } else {
      ids = tokenizer.Encode(request->text(),
                             {.add_special = !request->has_add_special() || request->add_special(),
                              .parse_special = request->parse_special()});
    }
    response->mutable_token_ids()->Assign(ids.begin(), ids.end());
    if (request->return_pieces()) {
      for (int32_t id : ids) {
        const absl::StatusOr<std::string_view> piece = tokenizer.TokenToPiece(id, true);
        response->add_pieces(piece.ok() ? std::string(*piece) : std::string());
      }
    }
    response->set_max_model_len(static_cast<int32_t>(context_.max_model_len()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* InferenceService::Detokenize(grpc::CallbackServerContext* context,
                                                       const v1::DetokenizeRequest* request,
                                                       v1::DetokenizeResponse* response) {
  return Unary(context, [&]() -> absl::Status {
    SHOAL_RETURN_IF_ERROR(CheckCaller(context_, *context));
    if (absl::Status status = context_.CheckModel(request->model()); !status.ok()) return status;
    const std::vector<int32_t> ids(request->token_ids().begin(), request->token_ids().end());
    absl::StatusOr<std::string> text = context_.model().tokenizer().Decode(
        ids, {.remove_special = request->skip_special_tokens()});
    if (!text.ok()) return InvalidParam("token_ids", MessageOf(text.status()));
    response->set_text(ToValidUtf8(*text));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* InferenceService::ListModels(grpc::CallbackServerContext* context,
                                                       const v1::ListModelsRequest* request,
                                                       v1::ListModelsResponse* response) {
  return Unary(context, [&]() -> absl::Status {
    SHOAL_RETURN_IF_ERROR(CheckCaller(context_, *context));
    const ServedModel& model = context_.model();
    for (const std::string& name : model.names()) {
      v1::ModelInfo* info = response->add_models();
      info->set_id(name);
      info->set_architecture(
          std::string(model::ArchitectureName(model.file().config().architecture)));
      info->set_max_model_len(static_cast<int32_t>(context_.max_model_len()));
      info->set_vocab_size(model.tokenizer().vocab_size());
      info->set_created(model.created_unix_seconds());
      info->set_ready_replicas(context_.replicas().num_ready());
    }
    return absl::OkStatus();
  });
}

}  // namespace shoal::router
