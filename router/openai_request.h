// The OpenAI HTTP API's request bodies (/v1/chat/completions, /v1/completions) parsed
// into typed requests at the edge (REFERENCE.md §9.1.1): every field checked for type
// and range, each mistake an InvalidArgument whose `param` (openai_error.h) names the
// field, as the OpenAI API answers. Unknown fields are ignored, as OpenAI and vLLM do;
// fields Shoal does not implement yet (tools, response_format, echo, suffix, ...) are
// refused, never silently dropped.
//
// The prompts become shoal.v1.GenerateRequest messages (the public gRPC API's request),
// so that HTTP and gRPC requests take the same path through the router from here on.
#ifndef SHOAL_ROUTER_OPENAI_REQUEST_H_
#define SHOAL_ROUTER_OPENAI_REQUEST_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "shoal/v1/inference.pb.h"

namespace shoal::router {

enum class OpenAiEndpoint { kChatCompletions, kCompletions };

inline constexpr int kMaxChoices = 128;          // n
inline constexpr int kMaxPrompts = 128;          // a completions prompt list
inline constexpr int kMaxStopStrings = 16;
inline constexpr int kMaxStopStringBytes = 1024;
inline constexpr int kMaxMessages = 4096;
inline constexpr int kMaxChatTopLogprobs = 20;   // chat top_logprobs
inline constexpr int kMaxCompletionLogprobs = 5; // completions logprobs

struct OpenAiRequest {
  OpenAiEndpoint endpoint = OpenAiEndpoint::kChatCompletions;
  // One per prompt (a completions `prompt` may list several; chat has exactly one).
  // Each carries model, input (chat messages, prompt text or token ids), sampling (with
  // logprobs, stop strings, seed ...), user, priority and cache_salt. Each prompt gets
  // `n` choices: choice index = prompt index * n + i, and choice i's seed is seed + i.
  std::vector<v1::GenerateRequest> prompts;
  int n = 1;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  // Chat: `logprobs: true` (sampling.logprobs is then top_logprobs, 0 when absent).
  // Completions: `logprobs: k` sets sampling.logprobs = k. Either way the response
  // carries logprobs exactly when sampling.logprobs is set.
  bool skip_special_tokens = true;  // vLLM's extension; false renders control tokens
};

// `body` is the raw request body. InvalidArgument for malformed JSON, a wrong type, a
// value out of range, a missing required field, or a field not supported yet.
absl::StatusOr<OpenAiRequest> ParseOpenAiRequest(OpenAiEndpoint endpoint, std::string_view body);

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_OPENAI_REQUEST_H_
