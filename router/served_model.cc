#include "router/served_model.h"

#include <filesystem>

#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "router/openai_error.h"

namespace shoal::router {
namespace {

using Json = nlohmann::ordered_json;

// A JSON text from a client (tools, template kwargs) as a value; InvalidParam when it
// does not parse.
absl::StatusOr<Json> ParseJsonField(const std::string& text, std::string_view param) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    return InvalidParam(param, fmt::format("not valid JSON: {}", e.what()));
  }
}

absl::StatusOr<Json> MessageJson(const v1::ChatMessage& message) {
  Json out = {{"role", message.role()}};
  if (message.parts_size() > 0) {
    Json parts = Json::array();
    for (const v1::ContentPart& part : message.parts()) {
      if (part.type() != "text") {
        return InvalidParam("messages", "only text content parts are supported");
      }
      parts.push_back({{"type", "text"}, {"text", part.text()}});
    }
    out["content"] = std::move(parts);
  } else {
    out["content"] = message.content();
  }
  if (!message.name().empty()) out["name"] = message.name();
  if (message.tool_calls_size() > 0) {
    Json calls = Json::array();
    for (const v1::ToolCall& call : message.tool_calls()) {
      // Templates read arguments as a mapping (Qwen3, Llama 3 iterate over it).
      SHOAL_ASSIGN_OR_RETURN(Json arguments,
                             ParseJsonField(call.function_arguments_json().empty()
                                                ? "{}"
                                                : call.function_arguments_json(),
                                            "messages"));
      calls.push_back({{"id", call.id()},
                       {"type", call.type().empty() ? "function" : call.type()},
                       {"function", {{"name", call.function_name()}, {"arguments", arguments}}}});
    }
    out["tool_calls"] = std::move(calls);
  }
  if (!message.tool_call_id().empty()) out["tool_call_id"] = message.tool_call_id();
  if (!message.reasoning_content().empty()) out["reasoning_content"] = message.reasoning_content();
  return out;
}

absl::StatusOr<model::ChatTemplateInputs> TemplateInputs(const v1::ChatInput& chat) {
  if (chat.messages_size() == 0) return InvalidParam("messages", "messages must not be empty");
  model::ChatTemplateInputs inputs;
  for (const v1::ChatMessage& message : chat.messages()) {
    SHOAL_ASSIGN_OR_RETURN(Json json, MessageJson(message));
    inputs.messages.push_back(std::move(json));
  }
  if (chat.tools_json_size() > 0) {
    inputs.tools = Json::array();
    for (const std::string& tool : chat.tools_json()) {
      SHOAL_ASSIGN_OR_RETURN(Json json, ParseJsonField(tool, "tools"));
      inputs.tools.push_back(std::move(json));
    }
  }
  if (!chat.template_kwargs_json().empty()) {
    SHOAL_ASSIGN_OR_RETURN(Json extra, ParseJsonField(chat.template_kwargs_json(),
                                                      "chat_template_kwargs"));
    if (!extra.is_object()) {
      return InvalidParam("chat_template_kwargs", "chat_template_kwargs must be an object");
    }
    inputs.extra = std::move(extra);
  }
  inputs.add_generation_prompt = chat.has_add_generation_prompt()
                                     ? chat.add_generation_prompt()
                                     : chat.messages(chat.messages_size() - 1).role() != "assistant";
  return inputs;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServedModel>> ServedModel::Open(const std::string& path,
                                                               std::vector<std::string> names) {
  auto served = absl::WrapUnique(new ServedModel());
  SHOAL_ASSIGN_OR_RETURN(served->file_, model::ModelFile::Open(path));
  if (names.empty()) names.push_back(std::filesystem::path(path).stem().string());
  for (const std::string& name : names) {
    if (name.empty()) return absl::InvalidArgumentError("a served model name is empty");
  }
  served->names_ = std::move(names);
  served->created_ = absl::ToUnixSeconds(absl::Now());
  return served;
}

bool ServedModel::Serves(const std::string& name) const {
  if (name.empty()) return true;
  for (const std::string& served : names_) {
    if (served == name) return true;
  }
  return false;
}

absl::StatusOr<std::vector<int32_t>> ServedModel::EncodeChat(const v1::ChatInput& chat) const {
  SHOAL_ASSIGN_OR_RETURN(const model::ChatTemplateInputs inputs, TemplateInputs(chat));
  absl::StatusOr<std::vector<int32_t>> ids = file_->EncodeChat(inputs);
  // A template that refuses the conversation (raise_exception: roles must alternate)
  // is the client's mistake.
  if (!ids.ok()) return InvalidParam("messages", MessageOf(ids.status()));
  return ids;
}

absl::StatusOr<PreparedPrompt> ServedModel::Prepare(const v1::GenerateRequest& request,
                                                    int64_t max_model_len) const {
  PreparedPrompt prepared;
  const model::Tokenizer& tokenizer = file_->tokenizer();
  switch (request.input_case()) {
    case v1::GenerateRequest::kChat: {
      SHOAL_ASSIGN_OR_RETURN(prepared.prompt_token_ids, EncodeChat(request.chat()));
      break;
    }
    case v1::GenerateRequest::kPrompt:
      prepared.prompt_token_ids =
          tokenizer.Encode(request.prompt(), {.add_special = true, .parse_special = true});
      break;
    case v1::GenerateRequest::kPromptTokenIds:
      for (int32_t id : request.prompt_token_ids().ids()) {
        if (!tokenizer.IsValid(id)) {
          return InvalidParam("prompt", fmt::format("token id {} is not in the vocabulary "
                                                    "(size {})", id, tokenizer.vocab_size()));
        }
      }
      prepared.prompt_token_ids.assign(request.prompt_token_ids().ids().begin(),
                                       request.prompt_token_ids().ids().end());
      break;
    default:
      return InvalidParam("prompt", "the request has no prompt (prompt, chat or token ids)");
  }
  const int64_t prompt_len = static_cast<int64_t>(prepared.prompt_token_ids.size());
  if (prompt_len == 0) return InvalidParam("prompt", "the prompt is empty");
  if (prompt_len >= max_model_len) {
    return InvalidParam(request.has_chat() ? "messages" : "prompt",
                        fmt::format("the prompt has {} tokens; this model's maximum "
                                                "context length is {} tokens",
                                                prompt_len, max_model_len));
  }
  prepared.sampling = request.sampling();
  prepared.sampling.clear_stop();
  const v1::SamplingParams& sampling = request.sampling();
  if (!sampling.has_max_tokens()) {
    prepared.sampling.set_max_tokens(static_cast<int32_t>(max_model_len - prompt_len));
  } else if (prompt_len + sampling.max_tokens() > max_model_len) {
    return InvalidParam("max_tokens",
                        fmt::format("max_tokens is {}, and the prompt has {} tokens: more than "
                                    "this model's maximum context length of {} tokens",
                                    sampling.max_tokens(), prompt_len, max_model_len));
  }
  prepared.stop_strings.assign(sampling.stop().begin(), sampling.stop().end());
  return prepared;
}

}  // namespace shoal::router
