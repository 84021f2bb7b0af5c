#include "router/inference_service.h"

#include <deque>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/status_util.h"
#include "router/choice.h"
#include "router/openai_error.h"
#include "router/utf8.h"

namespace shoal::router {
namespace {

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
    request_id_ = request.request_id().empty() ? context.NewPublicId("gen-")
                                               : request.request_id();
    model_ = context.model().name();  // the first served name, whatever alias was asked
    return_token_ids_ = request.return_token_ids();
    return_prompt_token_ids_ = request.return_prompt_token_ids();
    absl::Status status = Begin(request);
    if (!status.ok()) {
      FinishWith(status);
      return;
    }
    absl::MutexLock lock(&guard_->mu);
    guard_->reactor = this;
    MaybeWriteLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&guard_->mu);
    writing_ = false;
    if (!ok) {  // the client is gone
      if (choice_ != nullptr) choice_->Cancel();
      FinishWith(absl::CancelledError("the stream was closed"));
      return;
    }
    MaybeWriteLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&guard_->mu);
    if (choice_ != nullptr) choice_->Cancel();
    FinishWith(absl::CancelledError("cancelled by the client"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&guard_->mu);
      guard_->reactor = nullptr;
    }
    choice_.reset();  // no wake-up after this returns
    if (counted_) context_.InflightChanged(-1);
    delete this;
  }

 private:
  struct Guard {
    absl::Mutex mu;
    GenerateReactor* reactor = nullptr;
  };

  absl::Status Begin(const v1::GenerateRequest& request) {
    if (request.request_id().size() > 128) {
      return InvalidParam("request_id", "request_id is longer than 128 characters");
    }
    if (absl::Status status = context_.CheckModel(request.model()); !status.ok()) return status;
    absl::StatusOr<PreparedPrompt> prepared =
        context_.model().Prepare(request, context_.max_model_len());
    if (!prepared.ok()) return prepared.status();
    absl::StatusOr<SchedulerClient*> replica = context_.PickReplica();
    if (!replica.ok()) return replica.status();
    choice_ = std::make_unique<Choice>(0, context_.model(), std::move(*prepared),
                                       /*skip_special_tokens=*/true);
    v1::SchedulerGenerateRequest base;
    base.set_request_id(context_.NewInternalPrefix());
    base.set_priority(request.priority());
    base.set_cache_salt(request.cache_salt());
    base.set_arrival_time_unix_nanos(absl::ToUnixNanos(started_));
    counted_ = true;
    context_.InflightChanged(+1);
    choice_->Start(**replica, std::move(base), [guard = guard_] {
      absl::MutexLock lock(&guard->mu);
      if (guard->reactor != nullptr) guard->reactor->MaybeWriteLocked();
    });
    return absl::OkStatus();
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
    context_.metrics().RecordGrpc("Generate", code, model_,
                                  absl::ToDoubleSeconds(absl::Now() - started_),
                                  choice_ ? choice_->prompt_tokens() : 0,
                                  choice_ ? choice_->completion_tokens() : 0);
  }

  void MaybeWriteLocked() {
    if (finished_ || choice_ == nullptr) return;
    delta_.Clear();
    if (choice_->Pump(delta_)) QueueMessages();
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
      if (return_token_ids_) chunk->mutable_token_ids()->Assign(delta_.token_ids.begin(),
                                                                delta_.token_ids.end());
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
    const ServedModel& model = context_.model();
    for (const std::string& name : model.names()) {
      v1::ModelInfo* info = response->add_models();
      info->set_id(name);
      info->set_architecture(std::string(model::ArchitectureName(model.file().config().architecture)));
      info->set_max_model_len(static_cast<int32_t>(context_.max_model_len()));
      info->set_vocab_size(model.tokenizer().vocab_size());
      info->set_created(model.created_unix_seconds());
      info->set_ready_replicas(context_.replicas().num_ready());
    }
    return absl::OkStatus();
  });
}

}  // namespace shoal::router
