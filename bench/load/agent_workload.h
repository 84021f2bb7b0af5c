// The agent workload of `shoal bench`: N agents, each a multi-turn chat whose history
// grows turn by turn behind one long system message that every agent shares (the same
// text, so a prefix cache serves it once): a system prompt, then the agents' tool
// definitions rendered into it as JSON text (Shoal refuses OpenAI `tools` for now).
// Turn k of an agent sends
//   system, user_1, assistant_1, ..., user_{k-1}, assistant_{k-1}, user_k
// so its messages extend turn k-1's. Every text is synthetic, made of ordinary words
// (WordSampler) and drawn from the seed up front: the assistant turns in the history are
// pre-written text of assistant_turn_len tokens, not what the server answered, so every
// prompt is known before the run and the same seed makes the same workload.
//
// The specs are turn-major (every agent's turn 1, then every agent's turn 2, ...);
// turn k's spec has `session` = the agent, `turn` = k and `after` = the position of the
// agent's turn k-1, so the runner sends it only once turn k-1 has ended.
#ifndef SHOAL_BENCH_LOAD_AGENT_WORKLOAD_H_
#define SHOAL_BENCH_LOAD_AGENT_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/load/request_record.h"
#include "model/tokenizer/tokenizer.h"

namespace shoal::bench {

// Lengths are in tokens of the model's tokenizer, approximate (words are counted as one
// token each; the JSON of a tool is measured).
struct AgentWorkloadOptions {
  int32_t num_agents = 8;
  int32_t turns = 4;                 // requests per agent
  int32_t system_prompt_len = 1000;  // the shared system prompt, before the tools
  int32_t num_tools = 4;             // tool definitions in the system message
  int32_t tool_len = 120;            // each tool definition's JSON
  int32_t user_turn_len = 60;
  int32_t assistant_turn_len = 120;  // the pre-written answers in the history
  int32_t output_len = 120;          // max_tokens of every request
  bool ignore_eos = true;
  uint64_t seed = 0;
  absl::Status Validate() const;
};

// The messages as one completion prompt: "System: ...\n\nUser: ...\n\nAssistant: ...
// \n\n" for each message, ending with "Assistant:" (roles other than system, user and
// assistant as they are). A turn's text extends the previous turn's text, and so (tested
// with Gemma 3's tokenizer) do its token ids.
std::string ChatAsText(const std::vector<std::pair<std::string, std::string>>& messages);

// num_agents * turns specs. Each has `messages` (for chat endpoints), `prompt_text` =
// ChatAsText(messages) and `prompt_token_ids` = its tokenization with the tokenizer's
// BOS (for completion endpoints), `prompt_tokens` = their count, `max_tokens` =
// output_len. InvalidArgument for bad options; FailedPrecondition for a vocabulary
// without enough ordinary words.
absl::StatusOr<std::vector<RequestSpec>> MakeAgentWorkload(const model::Tokenizer& tokenizer,
                                                           const AgentWorkloadOptions& options);

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_AGENT_WORKLOAD_H_
