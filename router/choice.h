// One generated sequence (one `choice` of a response, one public gRPC Generate): its
// upstream call to a scheduler and the text pipeline that turns the token ids coming
// back into what the client sees (TextStream: UTF-8-safe text, stop strings), with
// logprobs given their token text, the finish reason and the usage numbers.
//
// Threads: used by one thread at a time (the reactor serving the client); the upstream
// call's `wake` may run on any thread.
#ifndef SHOAL_ROUTER_CHOICE_H_
#define SHOAL_ROUTER_CHOICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "router/scheduler_client.h"
#include "router/served_model.h"
#include "router/text_stream.h"
#include "shoal/v1/inference.pb.h"

namespace shoal::router {

// What one Pump produced for the client.
struct ChoiceDelta {
  std::string text;
  std::vector<int32_t> token_ids;
  // One per token in token_ids when logprobs were asked for, with `token` and
  // `token_bytes` filled in (the top alternatives too).
  std::vector<v1::TokenLogprob> logprobs;

  void Clear() {
    text.clear();
    token_ids.clear();
    logprobs.clear();
  }
  bool empty() const { return text.empty() && token_ids.empty(); }
};

class Choice {
 public:
  // `model` and `scheduler` must outlive the choice.
  Choice(int index, const ServedModel& model, PreparedPrompt prompt, bool skip_special_tokens);
  ~Choice();  // cancels an upstream call still running

  // Sends the request (id, priority, salt, arrival time from `base`; prompt and
  // sampling from the prepared prompt). `wake` runs, on any thread, whenever Pump may
  // have something new.
  void Start(SchedulerClient& scheduler, v1::SchedulerGenerateRequest base,
             std::function<void()> wake);

  // Appends what arrived since the last Pump to `delta`. False when nothing changed.
  bool Pump(ChoiceDelta& delta);

  // Stops the request (the client left); it still ends upstream.
  void Cancel();

  int index() const { return index_; }
  // The client-visible outcome is settled: finish_reason() (or error()) is final and
  // nothing more will be added to the text.
  bool finished() const { return finished_; }
  // The upstream call is over too (after a stop string it runs on for a step).
  bool ended() const { return call_ == nullptr || call_->ended(); }
  // Why the choice failed: a refusal before it started (429, 400, 503 ...), or an
  // abort or error after; OK otherwise.
  const absl::Status& error() const { return error_; }
  // Whether any output reached this choice before it ended (a refusal has none).
  bool produced_output() const { return num_tokens_ > 0; }

  // "stop" or "length" (OpenAI's names); empty while running or after an error.
  const std::string& finish_reason() const { return finish_reason_; }
  // The stop string, or the stop token id, that ended it; neither for a plain EOS.
  const std::string& stop_string() const { return stop_string_; }
  std::optional<int32_t> stop_token_id() const { return stop_token_id_; }
  v1::FinishReason finish_reason_enum() const { return finish_enum_; }

  int prompt_tokens() const { return static_cast<int>(prompt_.prompt_token_ids.size()); }
  int completion_tokens() const { return num_tokens_; }
  int cached_prompt_tokens() const { return cached_prompt_tokens_; }
  const std::vector<int32_t>& prompt_token_ids() const { return prompt_.prompt_token_ids; }
  bool wants_logprobs() const { return prompt_.sampling.has_logprobs(); }

 private:
  void AddToken(int32_t token, const v1::TokenLogprob* logprob, ChoiceDelta& delta);
  void FillTokenText(int32_t id, std::string* token, std::string* bytes) const;
  void OnUpstreamFinish(const v1::SchedulerGenerateResponse::Finish& finish, ChoiceDelta& delta);

  const int index_;
  const ServedModel& model_;
  const PreparedPrompt prompt_;
  TextStream text_;
  std::unique_ptr<GenerateCall> call_;
  v1::SchedulerGenerateResponse response_;  // reused
  bool finished_ = false;
  absl::Status error_;
  std::string finish_reason_;
  v1::FinishReason finish_enum_ = v1::FINISH_REASON_UNSPECIFIED;
  std::string stop_string_;
  std::optional<int32_t> stop_token_id_;
  int num_tokens_ = 0;
  int cached_prompt_tokens_ = 0;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_CHOICE_H_
