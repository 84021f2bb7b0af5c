// One /v1/chat/completions or /v1/completions request in flight: it waits in the
// admission queue (admission_queue.h) until its tenant has a slot and a replica has
// room, then runs its choices (each a Choice with its own upstream request) on the
// replica it was given, answered as one JSON object when they are all done, or
// streamed as server-sent events while they run (REFERENCE.md §9.1.3: the
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

#include "router/admission_ticket.h"
#include "router/choice.h"
#include "router/http_types.h"
#include "router/openai_request.h"
#include "router/openai_response.h"
#include "router/replica_set.h"
#include "router/router_context.h"
#include "router/tenant_gate.h"

namespace shoal::router {

struct CompletionSetup {
  ResponseHeader header;           // id, created, the served model name
  std::string internal_id_prefix;  // choice i's scheduler request id is "<prefix>-<i>"
  int64_t arrival_unix_nanos = 0;
  // Called with +1 when the request starts and -1 when it is destroyed (the router's
  // in-flight count and gauge).
  std::function<void(int)> on_inflight_change;
  // The tenant it runs for: its priority, cache salt and hold on the tenant's rate
  // limits, settled when it ends.
  TenantAdmission tenant;
};

class OpenAiCompletion final : public DeferredResponse {
 public:
  // One PreparedPrompt per request.prompts entry; `context` must outlive this object.
  OpenAiCompletion(const OpenAiRequest& request, std::vector<PreparedPrompt> prompts,
                   RouterContext& context, CompletionSetup setup);
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
    bool opened = false;      // streamed: the role chunk went out
    bool end_sent = false;    // streamed: the finish chunk went out
  };

  // Admitted: takes a replica and starts every choice on it.
  absl::Status BeginChoices(AdmissionSlot slot);
  // The response to a request refused before it began.
  ResponsePiece Refuse(const absl::Status& status);
  // Charges the tenant's fair-queue counter for output produced since the last call.
  void ChargeNewOutput();
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

  RouterContext& context_;
  const ServedModel& model_;
  CompletionSetup setup_;
  std::unique_ptr<AdmissionTicket> ticket_;
  absl::Status refused_;  // by the admission queue (its tenant's queue was full)
  AdmissionSlot slot_;    // held while the choices run
  ReplicaLease replica_;  // the replica they run on
  std::function<void()> wake_;
  bool choices_started_ = false;
  int64_t output_charged_ = 0;
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
