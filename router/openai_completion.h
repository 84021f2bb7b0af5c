// One /v1/chat/completions or /v1/completions request in flight: its choices (each a
// Choice with its own upstream request), answered as one JSON object when they are all
// done, or streamed as server-sent events while they run (REFERENCE.md §9.1.3: the
// opening role chunk, content chunks, a finish chunk per choice, the usage chunk when
// asked for, `data: [DONE]`). A refusal before anything was sent becomes the HTTP
// status it deserves (429 with Retry-After, 400, 503); an error after the stream began
// becomes an `error` event followed by [DONE]. Destroying it (the client left) cancels
// every choice upstream.
//
// Threads: the HTTP session's thread only (see DeferredResponse).
#ifndef SHOAL_ROUTER_OPENAI_COMPLETION_H_
#define SHOAL_ROUTER_OPENAI_COMPLETION_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "router/choice.h"
#include "router/http_types.h"
#include "router/openai_request.h"
#include "router/openai_response.h"

namespace shoal::router {

struct CompletionSetup {
  ResponseHeader header;           // id, created, the served model name
  std::string internal_id_prefix;  // choice i's scheduler request id is "<prefix>-<i>"
  int64_t arrival_unix_nanos = 0;
  // Called with +1 when the request starts and -1 when it is destroyed (the router's
  // in-flight count and gauge).
  std::function<void(int)> on_inflight_change;
};

class OpenAiCompletion final : public DeferredResponse {
 public:
  // One PreparedPrompt per request.prompts entry; `model` and `scheduler` must outlive
  // this object.
  OpenAiCompletion(const OpenAiRequest& request, std::vector<PreparedPrompt> prompts,
                   const ServedModel& model, SchedulerClient& scheduler, CompletionSetup setup);
  ~OpenAiCompletion() override;

  void Start(std::function<void()> wake) override;
  ResponsePiece Poll() override;
  ResponsePiece Heartbeat() override;
  ExchangeInfo info() const override;

 private:
  struct ChoiceState {
    std::unique_ptr<Choice> choice;
    std::string text;                        // non-streamed: all of it
    std::vector<v1::TokenLogprob> logprobs;  // non-streamed: all of them
    int64_t token_chars = 0;  // streamed: characters of the tokens sent (text_offset)
    bool opened = false;                     // streamed: the role chunk went out
    bool end_sent = false;                   // streamed: the finish chunk went out
  };

  ResponsePiece PollComplete();
  ResponsePiece PollStream();
  // Streamed: appends each choice's new events to `out`.
  void AppendChoiceEvents(ChoiceState& state, const ChoiceDelta& delta, std::string& out);
  std::string OpenEvents();
  UsageCounts Usage() const;
  // The first error of a choice that produced nothing (a refusal), if any.
  const absl::Status* Refusal() const;
  bool AllDone() const;
  static ChoiceEnd EndOf(const Choice& choice);

  const ServedModel& model_;
  SchedulerClient& scheduler_;
  const CompletionSetup setup_;
  const bool stream_;
  const bool include_usage_;
  const int n_;
  const bool skip_special_tokens_;
  std::vector<PreparedPrompt> prompts_;
  std::vector<ChoiceState> choices_;
  ChoiceDelta delta_;                // reused (complete responses)
  std::vector<ChoiceDelta> deltas_;  // reused (streams: one per choice)
  bool started_ = false;
  bool head_sent_ = false;
  bool done_ = false;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_OPENAI_COMPLETION_H_
