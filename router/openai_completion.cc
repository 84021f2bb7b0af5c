#include "router/openai_completion.h"

#include <algorithm>

#include "common/status_util.h"
#include "fmt/format.h"
#include "router/openai_error.h"

namespace shoal::router {

OpenAiCompletion::OpenAiCompletion(const OpenAiRequest& request,
                                   std::vector<PreparedPrompt> prompts, RouterContext& context,
                                   CompletionSetup setup)
    : context_(context),
      model_(context.model()),
      setup_(std::move(setup)),
      stream_(request.stream),
      include_usage_(request.include_usage),
      n_(request.n),
      skip_special_tokens_(request.skip_special_tokens),
      prompts_(std::move(prompts)) {}

OpenAiCompletion::~OpenAiCompletion() {
  // The output it did not make goes back to the tenant's tokens-per-minute allowance.
  const UsageCounts usage = Usage();
  setup_.tenant.lease.Settle(usage.prompt_tokens + usage.completion_tokens);
  ChargeNewOutput();
  context_.tenants().metrics().Generated(setup_.tenant.tenant->name, usage.completion_tokens);
  choices_.clear();  // each Choice cancels its request
  replica_.Release();
  slot_.End();      // the next waiting request may start
  ticket_.reset();  // or, still waiting, this one leaves the queue
  if (started_ && setup_.on_inflight_change) setup_.on_inflight_change(-1);
}

void OpenAiCompletion::Start(std::function<void()> wake) {
  started_ = true;
  if (setup_.on_inflight_change) setup_.on_inflight_change(+1);
  wake_ = wake;  // the choices' wake-up, once admitted
  int64_t prompt_tokens = 0;
  for (const PreparedPrompt& prompt : prompts_) {
    prompt_tokens += static_cast<int64_t>(prompt.prompt_token_ids.size());
  }
  absl::StatusOr<std::unique_ptr<AdmissionTicket>> ticket =
      AdmissionTicket::Enter(context_.admission(), setup_.tenant.tenant, setup_.tenant.priority,
                             prompt_tokens, std::move(wake));
  if (!ticket.ok()) {
    refused_ = ticket.status();
    context_.tenants().metrics().Rejected(setup_.tenant.tenant->name, Rejection::kMaxQueued);
    return;
  }
  ticket_ = std::move(*ticket);
}

absl::Status OpenAiCompletion::BeginChoices(AdmissionSlot slot) {
  choices_started_ = true;
  slot_ = std::move(slot);
  context_.tenants().metrics().QueueTime(setup_.tenant.tenant->name,
                                         absl::ToDoubleSeconds(ticket_->waited()));
  absl::StatusOr<ReplicaLease> replica = context_.AcquireReplica();
  if (!replica.ok()) return replica.status();
  replica_ = std::move(*replica);
  for (size_t p = 0; p < prompts_.size(); ++p) {
    for (int i = 0; i < n_; ++i) {
      PreparedPrompt prompt = prompts_[p];
      // Each choice its own sequence; with a seed, choice i uses seed + i so that the n
      // choices differ yet the response is reproducible.
      if (prompt.sampling.has_seed()) prompt.sampling.set_seed(prompt.sampling.seed() + i);
      const int index = static_cast<int>(p) * n_ + i;
      auto choice =
          std::make_unique<Choice>(index, model_, std::move(prompt), skip_special_tokens_);
      choices_.push_back({.choice = std::move(choice)});
    }
  }
  for (ChoiceState& state : choices_) {
    v1::SchedulerGenerateRequest base;
    base.set_request_id(fmt::format("{}-{}", setup_.internal_id_prefix, state.choice->index()));
    base.set_arrival_time_unix_nanos(setup_.arrival_unix_nanos);
    base.set_priority(setup_.tenant.priority);
    base.set_cache_salt(setup_.tenant.cache_salt);
    base.set_tenant_id(setup_.tenant.tenant->name);
    state.choice->Start(*replica_.client(), std::move(base), wake_);
  }
  return absl::OkStatus();
}

void OpenAiCompletion::ChargeNewOutput() {
  const int64_t output = Usage().completion_tokens;
  if (output > output_charged_) {
    context_.admission().ChargeOutput(*setup_.tenant.tenant, output - output_charged_);
    output_charged_ = output;
  }
}

ResponsePiece OpenAiCompletion::Refuse(const absl::Status& status) {
  done_ = true;
  if (head_sent_) {
    // A stream already open (its head went out with a keep-alive while it waited).
    return {.kind = ResponsePiece::Kind::kStreamEnd,
            .data = "data: {\"error\": " + OpenAiErrorObjectJson(status) + "}\n\n" + kSseDone};
  }
  const OpenAiError error = ToOpenAiError(status);
  HttpResponse response{.status = error.http_status, .body = error.body};
  if (error.retry_after_seconds) {
    response.headers.emplace_back("Retry-After", std::to_string(*error.retry_after_seconds));
  }
  return {.kind = ResponsePiece::Kind::kComplete, .response = std::move(response)};
}

const absl::Status* OpenAiCompletion::Refusal() const {
  for (const ChoiceState& state : choices_) {
    const Choice& choice = *state.choice;
    if (!choice.error().ok() && !choice.produced_output()) return &choice.error();
  }
  return nullptr;
}

bool OpenAiCompletion::AllDone() const {
  return std::all_of(choices_.begin(), choices_.end(), [](const ChoiceState& state) {
    return state.choice->finished() && state.choice->ended();
  });
}

UsageCounts OpenAiCompletion::Usage() const {
  UsageCounts usage;
  for (size_t k = 0; k < choices_.size(); ++k) {
    const Choice& choice = *choices_[k].choice;
    usage.completion_tokens += choice.completion_tokens();
    if (k % n_ == 0) {  // the prompt counts once for its n choices
      usage.prompt_tokens += choice.prompt_tokens();
      int64_t cached = 0;
      for (size_t j = k; j < k + static_cast<size_t>(n_); ++j) {
        cached = std::max<int64_t>(cached, choices_[j].choice->cached_prompt_tokens());
      }
      usage.cached_prompt_tokens += cached;
    }
  }
  return usage;
}

ChoiceEnd OpenAiCompletion::EndOf(const Choice& choice) {
  ChoiceEnd end{.finish_reason = choice.finish_reason()};
  if (!choice.stop_string().empty()) end.stop_string = choice.stop_string();
  end.stop_token_id = choice.stop_token_id();
  return end;
}

ResponsePiece OpenAiCompletion::Poll() {
  if (done_) return {};
  if (!choices_started_) {
    if (!refused_.ok()) return Refuse(refused_);
    std::optional<AdmissionSlot> slot = ticket_->TakeSlot();
    if (!slot) return {};  // still waiting in the admission queue
    if (absl::Status status = BeginChoices(std::move(*slot)); !status.ok()) {
      return Refuse(status);
    }
  }
  ResponsePiece piece = stream_ ? PollStream() : PollComplete();
  ChargeNewOutput();
  return piece;
}

ResponsePiece OpenAiCompletion::PollComplete() {
  for (ChoiceState& state : choices_) {
    delta_.Clear();
    if (!state.choice->Pump(delta_)) continue;
    state.text += delta_.text;
    for (v1::TokenLogprob& lp : delta_.logprobs) state.logprobs.push_back(std::move(lp));
  }
  // Any failed choice fails the response, at once: the others are cancelled when this
  // object goes.
  for (const ChoiceState& state : choices_) {
    if (!state.choice->error().ok()) return Refuse(state.choice->error());
  }
  if (!AllDone()) return {};
  done_ = true;
  std::vector<ChoiceResult> results;
  for (ChoiceState& state : choices_) {
    results.push_back({.index = state.choice->index(),
                       .text = std::move(state.text),
                       .logprobs = std::move(state.logprobs),
                       .has_logprobs = state.choice->wants_logprobs(),
                       .end = EndOf(*state.choice)});
  }
  return {.kind = ResponsePiece::Kind::kComplete,
          .response = {.body = DumpJson(CompleteResponseJson(setup_.header, results, Usage()))}};
}

std::string OpenAiCompletion::OpenEvents() {
  std::string out;
  if (setup_.header.endpoint != OpenAiEndpoint::kChatCompletions) return out;
  for (ChoiceState& state : choices_) {
    if (state.opened) continue;
    state.opened = true;
    out += SseEvent(ChunkJson(setup_.header, {.index = state.choice->index(), .role_first = true}));
  }
  return out;
}

void OpenAiCompletion::AppendChoiceEvents(ChoiceState& state, const ChoiceDelta& delta,
                                          std::string& out) {
  const Choice& choice = *state.choice;
  const bool ending = choice.finished() && choice.error().ok() && !state.end_sent;
  const bool has_logprobs = choice.wants_logprobs() && !delta.logprobs.empty();
  // A chunk for every step that produced tokens, even when their text is empty (a
  // control token, or bytes of an unfinished character), as vLLM sends them: a client
  // sees each token arrive, and times its first one.
  if (delta.token_ids.empty() && delta.text.empty() && !ending) return;
  const ChoiceEnd end = EndOf(choice);
  out += SseEvent(ChunkJson(setup_.header, {.index = choice.index(),
                                            .text = delta.text,
                                            .logprobs = has_logprobs ? &delta.logprobs : nullptr,
                                            .text_offset = state.token_chars,
                                            .end = ending ? &end : nullptr}));
  // Offsets count the tokens' texts, as the complete response's do (a token's text may
  // be held back from `text` while a character is unfinished).
  for (const v1::TokenLogprob& lp : delta.logprobs)
    state.token_chars += CountCodePoints(lp.token());
  if (ending) state.end_sent = true;
}

ResponsePiece OpenAiCompletion::PollStream() {
  std::string out;
  bool changed = false;
  deltas_.resize(choices_.size());  // reused: a poll per event allocates nothing new
  for (size_t k = 0; k < choices_.size(); ++k) {
    deltas_[k].Clear();
    changed |= choices_[k].choice->Pump(deltas_[k]);
  }
  if (!head_sent_) {
    // Before anything went out a refusal is still an HTTP status (429 lets the SDK
    // back off and retry).
    if (const absl::Status* refusal = Refusal()) return Refuse(*refusal);
    if (!changed) return {};
    head_sent_ = true;
  }
  // The role chunks, when the choices began after the head went out with a keep-alive.
  out += OpenEvents();
  for (size_t k = 0; k < choices_.size(); ++k) {
    AppendChoiceEvents(choices_[k], deltas_[k], out);
  }
  for (const ChoiceState& state : choices_) {
    if (!state.choice->error().ok()) {
      // The stream began: the error goes in-band (the SDK raises APIError on it).
      done_ = true;
      out += "data: {\"error\": " + OpenAiErrorObjectJson(state.choice->error()) + "}\n\n";
      out += kSseDone;
      return {.kind = ResponsePiece::Kind::kStreamEnd, .data = std::move(out)};
    }
  }
  if (AllDone()) {
    done_ = true;
    if (include_usage_) out += SseEvent(UsageChunkJson(setup_.header, Usage()));
    out += kSseDone;
    return {.kind = ResponsePiece::Kind::kStreamEnd, .data = std::move(out)};
  }
  if (out.empty()) return {};
  return {.kind = ResponsePiece::Kind::kStreamData, .data = std::move(out)};
}

ResponsePiece OpenAiCompletion::Heartbeat() {
  if (!stream_ || done_) return {};
  if (!head_sent_) {
    if (Refusal() != nullptr || !refused_.ok()) return Poll();
    head_sent_ = true;
    std::string out = OpenEvents();
    if (out.empty()) out = kSseKeepAlive;
    return {.kind = ResponsePiece::Kind::kStreamData, .data = std::move(out)};
  }
  return {.kind = ResponsePiece::Kind::kStreamData, .data = kSseKeepAlive};
}

ExchangeInfo OpenAiCompletion::info() const {
  const UsageCounts usage = Usage();
  return {.request_id = setup_.header.id,
          .model = setup_.header.model,
          .prompt_tokens = usage.prompt_tokens,
          .completion_tokens = usage.completion_tokens};
}

}  // namespace shoal::router
