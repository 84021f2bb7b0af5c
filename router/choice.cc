#include "router/choice.h"

#include <utility>

#include "absl/time/clock.h"
#include "router/utf8.h"

namespace shoal::router {

Choice::Choice(int index, const ServedModel& model, PreparedPrompt prompt,
               bool skip_special_tokens)
    : index_(index),
      model_(model),
      prompt_(std::move(prompt)),
      text_(model.tokenizer(),
            {.stop = prompt_.stop_strings,
             .include_stop_str_in_output = prompt_.sampling.include_stop_str_in_output(),
             .skip_special_tokens = skip_special_tokens,
             .min_tokens = prompt_.sampling.min_tokens()}) {}

Choice::~Choice() { Cancel(); }

void Choice::Start(SchedulerClient& scheduler, v1::SchedulerGenerateRequest base,
                   std::function<void()> wake) {
  base.mutable_prompt_token_ids()->Assign(prompt_.prompt_token_ids.begin(),
                                          prompt_.prompt_token_ids.end());
  *base.mutable_sampling() = prompt_.sampling;
  call_ = scheduler.Generate(base, std::move(wake));
}

void Choice::Cancel() {
  if (call_ != nullptr && !call_->ended()) call_->Cancel(v1::CANCEL_REASON_CLIENT_GONE);
}

bool Choice::Pump(ChoiceDelta& delta) {
  if (call_ == nullptr) return false;
  bool changed = false;
  while (call_->Take(response_)) {
    changed = true;
    if (num_tokens_ == 0 && response_.cached_prompt_tokens() > 0) {
      cached_prompt_tokens_ = response_.cached_prompt_tokens();
    }
    if (!finished_) {
      for (int i = 0; i < response_.token_ids_size() && !finished_; ++i) {
        AddToken(response_.token_ids(i),
                 i < response_.logprobs_size() ? &response_.logprobs(i) : nullptr, delta);
      }
    }
    if (response_.has_finish()) OnUpstreamFinish(response_.finish(), delta);
  }
  if (!finished_ && call_->ended() && !call_->error().ok()) {
    // Refused (it never started) or the connection to the scheduler broke.
    error_ = call_->error();
    finished_ = true;
    changed = true;
  }
  return changed;
}

void Choice::AddToken(int32_t token, const v1::TokenLogprob* logprob, ChoiceDelta& delta) {
  ++num_tokens_;
  delta.token_ids.push_back(token);
  if (logprob != nullptr && wants_logprobs()) {
    v1::TokenLogprob& out = delta.logprobs.emplace_back(*logprob);
    out.set_token_id(token);
    FillTokenText(token, out.mutable_token(), out.mutable_token_bytes());
    for (v1::TopLogprob& top : *out.mutable_top_logprobs()) {
      FillTokenText(top.token_id(), top.mutable_token(), top.mutable_token_bytes());
    }
  }
  if (text_.Append(token, &delta.text)) {
    // A stop string matched: the client's choice is done; the scheduler stops the
    // request at its next step and counts it as a STOP.
    finished_ = true;
    finish_reason_ = "stop";
    finish_enum_ = v1::FINISH_REASON_STOP;
    stop_string_ = text_.matched_stop();
    call_->Cancel(v1::CANCEL_REASON_STOP_STRING);
  }
}

void Choice::FillTokenText(int32_t id, std::string* token, std::string* bytes) const {
  const absl::StatusOr<std::string_view> piece = model_.tokenizer().TokenToPiece(id, true);
  bytes->assign(piece.ok() ? std::string(*piece) : std::string());
  *token = ToValidUtf8(*bytes);  // a piece may be part of a character; `bytes` keeps it
}

void Choice::OnUpstreamFinish(const v1::SchedulerGenerateResponse::Finish& finish,
                              ChoiceDelta& delta) {
  if (finished_) return;  // a stop string ended it already
  finished_ = true;
  text_.Finish(&delta.text);
  finish_enum_ = finish.reason();
  switch (finish.reason()) {
    case v1::FINISH_REASON_STOP:
      finish_reason_ = "stop";
      if (finish.has_stop_token_id()) stop_token_id_ = finish.stop_token_id();
      break;
    case v1::FINISH_REASON_LENGTH:
      finish_reason_ = "length";
      break;
    default: {
      // CANCELLED (the client left: nobody reads this), ABORTED or ERROR.
      const int code = finish.has_error() ? finish.error().code() : 0;
      const std::string message =
          finish.has_error() && !finish.error().message().empty()
              ? finish.error().message()
              : std::string("the request ended without a result (") +
                    v1::FinishReason_Name(finish.reason()) + ")";
      error_ = absl::Status(code > 0 && code <= 16 ? static_cast<absl::StatusCode>(code)
                                                   : absl::StatusCode::kInternal,
                            message);
      break;
    }
  }
}

}  // namespace shoal::router
