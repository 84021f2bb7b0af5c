#include "model/chat_template.h"

#include <exception>
#include <utility>

#include "common/status_macros.h"
#include "model/jinja/builtin_templates.h"
#include "model/jinja/str_util.h"

namespace shoal::model {
namespace {

using jinja::Cat;
using jinja::Value;

absl::StatusOr<Value> ToValue(const nlohmann::ordered_json& json, const jinja::Limits& limits,
                              std::string_view what) {
  absl::StatusOr<Value> v = Value::FromJson(json, limits.max_depth);
  if (!v.ok())
    return absl::InvalidArgumentError(Cat(what, ": ", jinja::ToStd(v.status().message())));
  return v;
}

}  // namespace

absl::StatusOr<ChatTemplate> ChatTemplate::Parse(std::string_view source, std::string bos_token,
                                                 std::string eos_token,
                                                 const jinja::Limits& limits) {
  SHOAL_RETURN_IF_ERROR(limits.Validate());
  jinja::ParseOptions options;
  options.max_depth = limits.max_depth;
  absl::StatusOr<jinja::Template> parsed = jinja::Template::Parse(source, options);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        Cat("chat template: ", jinja::ToStd(parsed.status().message())));
  }
  return ChatTemplate(*std::move(parsed), std::string(source), std::move(bos_token),
                      std::move(eos_token), limits);
}

absl::StatusOr<ChatTemplate> ChatTemplate::BuiltinFor(std::string_view architecture,
                                                      std::string bos_token, std::string eos_token,
                                                      const jinja::Limits& limits) {
  const std::string_view source = jinja::BuiltinTemplateSource(architecture);
  if (source.empty()) {
    return absl::NotFoundError(
        Cat("no built-in chat template for architecture '", architecture, "'"));
  }
  return Parse(source, std::move(bos_token), std::move(eos_token), limits);
}

absl::StatusOr<std::string> ChatTemplate::Render(const ChatTemplateInputs& inputs) const {
  if (!inputs.messages.is_array()) {
    return absl::InvalidArgumentError("chat template: messages must be an array");
  }
  if (!inputs.extra.is_object() && !inputs.extra.is_null()) {
    return absl::InvalidArgumentError("chat template: extra variables must be an object");
  }
  jinja::Variables variables;
  // Order matters: like transformers, the special tokens come first and extra variables
  // may override them, but not the conversation itself.
  variables["bos_token"] = Value::String(bos_token_);
  variables["eos_token"] = Value::String(eos_token_);
  if (inputs.extra.is_object()) {
    for (const auto& [name, json] : inputs.extra.items()) {
      if (name == "messages" || name == "tools" || name == "add_generation_prompt" ||
          name == "documents") {
        return absl::InvalidArgumentError(
            Cat("chat template: extra variable '", name, "' would replace an input"));
      }
      SHOAL_ASSIGN_OR_RETURN(variables[name], ToValue(json, limits_, name));
    }
  }
  SHOAL_ASSIGN_OR_RETURN(variables["messages"], ToValue(inputs.messages, limits_, "messages"));
  SHOAL_ASSIGN_OR_RETURN(variables["tools"], ToValue(inputs.tools, limits_, "tools"));
  variables["documents"] = Value::None();
  variables["add_generation_prompt"] = Value::Bool(inputs.add_generation_prompt);
  jinja::RenderOptions options;
  options.limits = limits_;
  options.clock = inputs.clock;
  return template_.Render(variables, options);
}

}  // namespace shoal::model
