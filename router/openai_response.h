// The OpenAI API's response bodies and stream chunks (REFERENCE.md §9.1.2-9.1.4), built
// from a choice's deltas: chat.completion / text_completion objects, their .chunk
// forms for SSE, usage, and logprobs in each endpoint's shape. Model output may be
// any bytes: JSON is written with invalid UTF-8 replaced by U+FFFD.
#ifndef SHOAL_ROUTER_OPENAI_RESPONSE_H_
#define SHOAL_ROUTER_OPENAI_RESPONSE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "router/openai_request.h"
#include "shoal/v1/inference.pb.h"

namespace shoal::router {

using Json = nlohmann::ordered_json;

// Serializes, replacing bytes that are not UTF-8.
std::string DumpJson(const Json& json);

// What every object of one response shares.
struct ResponseHeader {
  OpenAiEndpoint endpoint = OpenAiEndpoint::kChatCompletions;
  std::string id;  // "chatcmpl-..." / "cmpl-..."
  int64_t created = 0;
  std::string model;
};

struct UsageCounts {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_prompt_tokens = 0;
};
Json UsageJson(const UsageCounts& usage);

// Logprobs of some tokens: chat's {"content": [...], "refusal": null}, or completions'
// parallel arrays with text offsets counted from `text_offset` (characters).
Json ChatLogprobsJson(const std::vector<v1::TokenLogprob>& logprobs);
Json CompletionLogprobsJson(const std::vector<v1::TokenLogprob>& logprobs, int64_t text_offset);

// How a choice ended, as the response reports it.
struct ChoiceEnd {
  std::string finish_reason;  // "stop", "length"
  std::optional<std::string> stop_string;
  std::optional<int32_t> stop_token_id;
};

// One choice of a complete (non-streamed) response.
struct ChoiceResult {
  int index = 0;
  std::string text;
  std::vector<v1::TokenLogprob> logprobs;
  bool has_logprobs = false;
  ChoiceEnd end;
};
Json CompleteResponseJson(const ResponseHeader& header, const std::vector<ChoiceResult>& choices,
                          const UsageCounts& usage);

// One streamed chunk for one choice. `role_first` adds chat's opening
// {"role": "assistant"}; `end` the finish reason; `logprobs` (when has_logprobs) those of
// the delta's tokens.
struct ChunkContent {
  int index = 0;
  bool role_first = false;
  std::string text;
  const std::vector<v1::TokenLogprob>* logprobs = nullptr;
  int64_t text_offset = 0;  // completions logprobs: characters before this chunk's text
  const ChoiceEnd* end = nullptr;
};
Json ChunkJson(const ResponseHeader& header, const ChunkContent& content);
// The last chunk when stream_options.include_usage: no choices, the usage.
Json UsageChunkJson(const ResponseHeader& header, const UsageCounts& usage);

// "data: <json>\n\n".
std::string SseEvent(const Json& json);
inline constexpr char kSseDone[] = "data: [DONE]\n\n";
inline constexpr char kSseKeepAlive[] = ": keep-alive\n\n";

// Characters (code points) in UTF-8 text, for completions' text_offset.
int64_t CountCodePoints(std::string_view text);

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_OPENAI_RESPONSE_H_
