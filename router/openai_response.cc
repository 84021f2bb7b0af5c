#include "router/openai_response.h"

namespace shoal::router {
namespace {

Json BytesJson(const std::string& bytes) {
  Json out = Json::array();
  for (unsigned char c : bytes) out.push_back(static_cast<int>(c));
  return out;
}

const char* ObjectName(OpenAiEndpoint endpoint, bool chunk) {
  if (endpoint == OpenAiEndpoint::kChatCompletions) {
    return chunk ? "chat.completion.chunk" : "chat.completion";
  }
  return "text_completion";
}

Json HeaderJson(const ResponseHeader& header, bool chunk) {
  return Json{{"id", header.id},
              {"object", ObjectName(header.endpoint, chunk)},
              {"created", header.created},
              {"model", header.model}};
}

void AddEnd(Json& choice, const ChoiceEnd* end) {
  if (end == nullptr) {
    choice["finish_reason"] = nullptr;
    return;
  }
  choice["finish_reason"] = end->finish_reason;
  if (end->stop_string) {
    choice["stop_reason"] = *end->stop_string;
  } else if (end->stop_token_id) {
    choice["stop_reason"] = *end->stop_token_id;
  } else {
    choice["stop_reason"] = nullptr;
  }
}

}  // namespace

std::string DumpJson(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json UsageJson(const UsageCounts& usage) {
  return Json{{"prompt_tokens", usage.prompt_tokens},
              {"completion_tokens", usage.completion_tokens},
              {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", usage.cached_prompt_tokens}}}};
}

Json ChatLogprobsJson(const std::vector<v1::TokenLogprob>& logprobs) {
  Json content = Json::array();
  for (const v1::TokenLogprob& lp : logprobs) {
    Json top = Json::array();
    for (const v1::TopLogprob& alt : lp.top_logprobs()) {
      top.push_back({{"token", alt.token()},
                     {"logprob", alt.logprob()},
                     {"bytes", BytesJson(alt.token_bytes())}});
    }
    content.push_back({{"token", lp.token()},
                       {"logprob", lp.logprob()},
                       {"bytes", BytesJson(lp.token_bytes())},
                       {"top_logprobs", std::move(top)}});
  }
  return Json{{"content", std::move(content)}, {"refusal", nullptr}};
}

Json CompletionLogprobsJson(const std::vector<v1::TokenLogprob>& logprobs, int64_t text_offset) {
  Json tokens = Json::array(), token_logprobs = Json::array(), top = Json::array(),
       offsets = Json::array();
  for (const v1::TokenLogprob& lp : logprobs) {
    tokens.push_back(lp.token());
    token_logprobs.push_back(lp.logprob());
    Json alternatives = Json::object();
    for (const v1::TopLogprob& alt : lp.top_logprobs()) {
      // Two alternatives with the same text (distinct ids) keep the likelier one.
      if (!alternatives.contains(alt.token())) alternatives[alt.token()] = alt.logprob();
    }
    top.push_back(std::move(alternatives));
    offsets.push_back(text_offset);
    text_offset += CountCodePoints(lp.token());
  }
  return Json{{"tokens", std::move(tokens)},
              {"token_logprobs", std::move(token_logprobs)},
              {"top_logprobs", std::move(top)},
              {"text_offset", std::move(offsets)}};
}

Json CompleteResponseJson(const ResponseHeader& header, const std::vector<ChoiceResult>& choices,
                          const UsageCounts& usage) {
  Json out = HeaderJson(header, /*chunk=*/false);
  Json list = Json::array();
  for (const ChoiceResult& result : choices) {
    Json choice = {{"index", result.index}};
    if (header.endpoint == OpenAiEndpoint::kChatCompletions) {
      choice["message"] = {{"role", "assistant"}, {"content", result.text}, {"refusal", nullptr}};
      choice["logprobs"] = result.has_logprobs ? ChatLogprobsJson(result.logprobs) : Json(nullptr);
    } else {
      choice["text"] = result.text;
      choice["logprobs"] =
          result.has_logprobs ? CompletionLogprobsJson(result.logprobs, 0) : Json(nullptr);
    }
    AddEnd(choice, &result.end);
    list.push_back(std::move(choice));
  }
  out["choices"] = std::move(list);
  out["usage"] = UsageJson(usage);
  return out;
}

Json ChunkJson(const ResponseHeader& header, const ChunkContent& content) {
  Json out = HeaderJson(header, /*chunk=*/true);
  Json choice = {{"index", content.index}};
  const bool has_logprobs = content.logprobs != nullptr && !content.logprobs->empty();
  if (header.endpoint == OpenAiEndpoint::kChatCompletions) {
    Json delta = Json::object();
    if (content.role_first) delta["role"] = "assistant";
    delta["content"] = content.text;
    choice["delta"] = std::move(delta);
    choice["logprobs"] = has_logprobs ? ChatLogprobsJson(*content.logprobs) : Json(nullptr);
  } else {
    choice["text"] = content.text;
    choice["logprobs"] = has_logprobs
                             ? CompletionLogprobsJson(*content.logprobs, content.text_offset)
                             : Json(nullptr);
  }
  AddEnd(choice, content.end);
  out["choices"] = Json::array({std::move(choice)});
  return out;
}

Json UsageChunkJson(const ResponseHeader& header, const UsageCounts& usage) {
  Json out = HeaderJson(header, /*chunk=*/true);
  out["choices"] = Json::array();
  out["usage"] = UsageJson(usage);
  return out;
}

std::string SseEvent(const Json& json) {
  std::string out = "data: ";
  out += DumpJson(json);
  out += "\n\n";
  return out;
}

int64_t CountCodePoints(std::string_view text) {
  int64_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace shoal::router
