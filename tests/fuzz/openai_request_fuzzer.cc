// libFuzzer target for the OpenAI request parser (router/openai_request.h): the input
// is a request body, parsed for both /v1/chat/completions and /v1/completions, and
// every refusal goes through the one error mapping (router/openai_error.h).
// Checked: no crash, sanitizer report or escaping exception (deep nesting included);
// a refusal is InvalidArgument, maps to a 400 whose body is the OpenAI error shape with
// `param` the status's field; an accepted request keeps every documented bound (n,
// prompts, stop strings, sampling ranges) and holds only valid UTF-8 text.
// Seeds (tests/fuzz/corpus/openai_request/): realistic bodies of both endpoints.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "model/tokenizer/unicode.h"
#include "nlohmann/json.hpp"
#include "router/openai_error.h"
#include "router/openai_request.h"

namespace shoal::router {
namespace {

#define FUZZ_CHECK(condition)                                                     \
  do {                                                                            \
    if (!(condition)) {                                                           \
      std::fprintf(stderr, "check failed: %s (line %d)\n", #condition, __LINE__); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

bool IsValidUtf8(const std::string& text) {
  std::string valid;
  model::AppendValidUtf8(text, &valid);
  return valid == text;
}

void CheckRefusal(const absl::Status& status) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  const OpenAiError error = ToOpenAiError(status);
  FUZZ_CHECK(error.http_status == 400);
  FUZZ_CHECK(!error.retry_after_seconds.has_value());
  const nlohmann::json body =
      nlohmann::json::parse(error.body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(body.is_object() && body.size() == 1 && body.contains("error"));
  const nlohmann::json& object = body["error"];
  FUZZ_CHECK(object.is_object() && object.size() == 4);
  FUZZ_CHECK(object["message"].is_string() && !object["message"].get<std::string>().empty());
  FUZZ_CHECK(object["type"] == "BadRequestError");
  FUZZ_CHECK(object["code"] == 400);
  const std::optional<std::string> param = ParamOf(status);
  if (param.has_value()) {
    FUZZ_CHECK(object["param"].is_string() && object["param"] == *param);
  } else {
    FUZZ_CHECK(object["param"].is_null());
  }
  FUZZ_CHECK(nlohmann::json::accept(OpenAiErrorObjectJson(status)));
}

void CheckSampling(const v1::SamplingParams& s) {
  if (s.has_temperature()) FUZZ_CHECK(s.temperature() >= 0 && s.temperature() <= 2);
  if (s.has_top_p()) FUZZ_CHECK(s.top_p() > 0 && s.top_p() <= 1);
  if (s.has_top_k()) FUZZ_CHECK(s.top_k() >= 1);
  if (s.has_min_p()) FUZZ_CHECK(s.min_p() >= 0 && s.min_p() <= 1);
  if (s.has_max_tokens()) FUZZ_CHECK(s.max_tokens() >= 1);
  if (s.has_max_tokens()) FUZZ_CHECK(s.min_tokens() <= s.max_tokens());
  if (s.has_repetition_penalty()) {
    FUZZ_CHECK(s.repetition_penalty() > 0 && s.repetition_penalty() <= 10);
  }
  if (s.has_logprobs()) FUZZ_CHECK(s.logprobs() >= 0 && s.logprobs() <= kMaxChatTopLogprobs);
  FUZZ_CHECK(s.min_tokens() >= 0);
  FUZZ_CHECK(s.stop_size() <= kMaxStopStrings);
  for (const std::string& stop : s.stop()) {
    FUZZ_CHECK(!stop.empty() && stop.size() <= static_cast<size_t>(kMaxStopStringBytes));
    FUZZ_CHECK(IsValidUtf8(stop));
  }
  for (int32_t id : s.stop_token_ids()) FUZZ_CHECK(id >= 0);
  FUZZ_CHECK(s.logit_bias_size() <= 1024);
  for (const auto& [id, bias] : s.logit_bias()) FUZZ_CHECK(id >= 0 && bias >= -100 && bias <= 100);
}

void CheckAccepted(const OpenAiRequest& request, OpenAiEndpoint endpoint) {
  FUZZ_CHECK(request.endpoint == endpoint);
  FUZZ_CHECK(request.n >= 1 && request.n <= kMaxChoices);
  FUZZ_CHECK(!request.include_usage || request.stream);
  FUZZ_CHECK(!request.prompts.empty());
  FUZZ_CHECK(request.prompts.size() <= static_cast<size_t>(kMaxPrompts));
  for (const v1::GenerateRequest& prompt : request.prompts) {
    FUZZ_CHECK(!prompt.model().empty() && IsValidUtf8(prompt.model()));
    FUZZ_CHECK(prompt.user().size() <= 256 && IsValidUtf8(prompt.user()));
    FUZZ_CHECK(prompt.cache_salt().size() <= 1024 && IsValidUtf8(prompt.cache_salt()));
    // Every prompt carries the same options.
    FUZZ_CHECK(prompt.sampling().SerializeAsString() ==
               request.prompts[0].sampling().SerializeAsString());
    CheckSampling(prompt.sampling());
    if (endpoint == OpenAiEndpoint::kChatCompletions) {
      FUZZ_CHECK(request.prompts.size() == 1 && prompt.has_chat());
      const v1::ChatInput& chat = prompt.chat();
      FUZZ_CHECK(chat.messages_size() >= 1 && chat.messages_size() <= kMaxMessages);
      for (const v1::ChatMessage& message : chat.messages()) {
        FUZZ_CHECK(IsValidUtf8(message.content()) && IsValidUtf8(message.role()));
        for (const v1::ContentPart& part : message.parts()) {
          FUZZ_CHECK(part.type() == "text" && IsValidUtf8(part.text()));
        }
      }
      if (!chat.template_kwargs_json().empty()) {
        FUZZ_CHECK(nlohmann::json::accept(chat.template_kwargs_json()));
      }
    } else {
      FUZZ_CHECK(prompt.has_prompt() || prompt.has_prompt_token_ids());
      if (prompt.has_prompt()) FUZZ_CHECK(IsValidUtf8(prompt.prompt()));
      if (prompt.has_prompt_token_ids()) {
        FUZZ_CHECK(prompt.prompt_token_ids().ids_size() >= 1);
        for (int32_t id : prompt.prompt_token_ids().ids()) FUZZ_CHECK(id >= 0);
      }
      if (prompt.sampling().has_logprobs()) {
        FUZZ_CHECK(prompt.sampling().logprobs() <= kMaxCompletionLogprobs);
      }
    }
  }
}

}  // namespace
}  // namespace shoal::router

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shoal::router;  // NOLINT
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (OpenAiEndpoint endpoint : {OpenAiEndpoint::kChatCompletions, OpenAiEndpoint::kCompletions}) {
    const auto request = ParseOpenAiRequest(endpoint, body);
    if (request.ok()) {
      CheckAccepted(*request, endpoint);
    } else {
      CheckRefusal(request.status());
    }
  }
  return 0;
}
