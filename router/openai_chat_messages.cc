#include "router/openai_chat_messages.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "router/openai_error.h"
#include "router/openai_request.h"

namespace shoal::router::internal {
namespace {

bool IsKnownRole(const std::string& role) {
  return role == "system" || role == "developer" || role == "user" || role == "assistant" ||
         role == "tool";
}

// An optional string field of a message object.
absl::Status OptionalString(const Json& message, const char* name, const std::string& prefix,
                            std::string* out) {
  const Json* value = FindField(message, name);
  if (value == nullptr) return absl::OkStatus();
  SHOAL_ASSIGN_OR_RETURN(*out, StringOf(*value, absl::StrCat(prefix, ".", name)));
  return absl::OkStatus();
}

absl::Status ParseContentParts(const Json& parts, const std::string& param,
                               v1::ChatMessage* message) {
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string part_param = absl::StrCat(param, "[", i, "]");
    const Json& part = parts[i];
    if (!part.is_object()) return MustBe(part_param, "an object");
    const Json* type = FindField(part, "type");
    if (type == nullptr) return MustBe(part_param + ".type", "given");
    SHOAL_ASSIGN_OR_RETURN(std::string type_name, StringOf(*type, part_param + ".type"));
    if (type_name != "text") {
      return InvalidParam(
          part_param + ".type",
          absl::StrCat("only text content parts are supported, got \"", type_name, "\""));
    }
    const Json* text = FindField(part, "text");
    if (text == nullptr) return MustBe(part_param + ".text", "a string");
    v1::ContentPart* out = message->add_parts();
    out->set_type("text");
    SHOAL_ASSIGN_OR_RETURN(*out->mutable_text(), StringOf(*text, part_param + ".text"));
  }
  return absl::OkStatus();
}

absl::Status ParseToolCall(const Json& call, const std::string& param, v1::ToolCall* out) {
  if (!call.is_object()) return MustBe(param, "an object");
  const Json* id = FindField(call, "id");
  if (id == nullptr) return MustBe(param + ".id", "a string");
  SHOAL_ASSIGN_OR_RETURN(*out->mutable_id(), StringOf(*id, param + ".id"));
  out->set_type("function");
  if (const Json* type = FindField(call, "type"); type != nullptr) {
    SHOAL_ASSIGN_OR_RETURN(std::string type_name, StringOf(*type, param + ".type"));
    if (type_name != "function") return MustBe(param + ".type", "\"function\"");
  }
  const Json* function = FindField(call, "function");
  if (function == nullptr || !function->is_object()) {
    return MustBe(param + ".function", "an object");
  }
  const Json* name = FindField(*function, "name");
  if (name == nullptr) return MustBe(param + ".function.name", "a string");
  SHOAL_ASSIGN_OR_RETURN(*out->mutable_function_name(), StringOf(*name, param + ".function.name"));
  const Json* arguments = FindField(*function, "arguments");
  if (arguments == nullptr) return MustBe(param + ".function.arguments", "a string");
  SHOAL_ASSIGN_OR_RETURN(*out->mutable_function_arguments_json(),
                         StringOf(*arguments, param + ".function.arguments"));
  return absl::OkStatus();
}

absl::Status ParseToolCalls(const Json& message, const std::string& prefix, v1::ChatMessage* out) {
  const Json* calls = FindField(message, "tool_calls");
  if (calls == nullptr) return absl::OkStatus();
  const std::string param = prefix + ".tool_calls";
  if (!calls->is_array()) return MustBe(param, "an array");
  for (size_t i = 0; i < calls->size(); ++i) {
    SHOAL_RETURN_IF_ERROR(
        ParseToolCall((*calls)[i], absl::StrCat(param, "[", i, "]"), out->add_tool_calls()));
  }
  return absl::OkStatus();
}

absl::Status ParseContent(const Json& message, const std::string& prefix, v1::ChatMessage* out) {
  const std::string param = prefix + ".content";
  const Json* content = FindField(message, "content");
  if (content == nullptr) {
    // Only a turn that carries something else may leave its content out.
    if (out->role() == "tool" || (out->role() == "assistant" && out->tool_calls_size() > 0)) {
      return absl::OkStatus();
    }
    return MustBe(param, "a string or an array of text parts");
  }
  if (content->is_string()) {
    out->set_content(content->get<std::string>());
    return absl::OkStatus();
  }
  if (content->is_array()) return ParseContentParts(*content, param, out);
  return MustBe(param, "a string or an array of text parts");
}

absl::Status ParseMessage(const Json& message, const std::string& prefix, v1::ChatMessage* out) {
  if (!message.is_object()) return MustBe(prefix, "an object");
  const Json* role = FindField(message, "role");
  if (role == nullptr) return MustBe(prefix + ".role", "given");
  SHOAL_ASSIGN_OR_RETURN(*out->mutable_role(), StringOf(*role, prefix + ".role"));
  if (!IsKnownRole(out->role())) {
    return MustBe(prefix + ".role", "one of system, developer, user, assistant, tool");
  }
  if (out->role() == "assistant") {
    SHOAL_RETURN_IF_ERROR(ParseToolCalls(message, prefix, out));
    SHOAL_RETURN_IF_ERROR(
        OptionalString(message, "reasoning_content", prefix, out->mutable_reasoning_content()));
  }
  if (out->role() == "tool") {
    SHOAL_RETURN_IF_ERROR(
        OptionalString(message, "tool_call_id", prefix, out->mutable_tool_call_id()));
  }
  SHOAL_RETURN_IF_ERROR(OptionalString(message, "name", prefix, out->mutable_name()));
  return ParseContent(message, prefix, out);
}

}  // namespace

absl::Status ParseChatInput(const Json& body, v1::ChatInput* chat) {
  const Json* messages = FindField(body, "messages");
  if (messages == nullptr) return InvalidParam("messages", "messages is required");
  if (!messages->is_array()) return MustBe("messages", "an array");
  if (messages->empty()) return MustBe("messages", "a non-empty array");
  if (messages->size() > static_cast<size_t>(kMaxMessages)) {
    return MustBe("messages", absl::StrCat("at most ", kMaxMessages, " messages"));
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    SHOAL_RETURN_IF_ERROR(
        ParseMessage((*messages)[i], absl::StrCat("messages[", i, "]"), chat->add_messages()));
  }
  if (const Json* value = FindField(body, "add_generation_prompt"); value != nullptr) {
    SHOAL_ASSIGN_OR_RETURN(bool add, BoolOf(*value, "add_generation_prompt"));
    chat->set_add_generation_prompt(add);
  }
  if (const Json* value = FindField(body, "chat_template_kwargs"); value != nullptr) {
    if (!value->is_object()) return MustBe("chat_template_kwargs", "an object");
    chat->set_template_kwargs_json(
        value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return absl::OkStatus();
}

}  // namespace shoal::router::internal
