// A model's chat template: turns OpenAI-style messages (and tool definitions) into the
// prompt text the model was trained on, by rendering the Jinja template shipped with the
// model (GGUF `tokenizer.chat_template`) exactly as Hugging Face transformers would.
// Models without one (the Gemma 3 270M GGUF) fall back to a built-in template per
// architecture, like llama.cpp.
//
// The rendered prompt starts with the BOS token's text when the template writes
// `{{ bos_token }}`; a tokenizer that also adds BOS must strip it first (REFERENCE.md §7.1).
#ifndef SHOAL_MODEL_CHAT_TEMPLATE_H_
#define SHOAL_MODEL_CHAT_TEMPLATE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/jinja/template.h"
#include "nlohmann/json.hpp"

namespace shoal::model {

struct ChatTemplateInputs {
  // [{"role": "user", "content": "..."}, ...]; content may also be a list of parts, and
  // assistant messages may carry tool_calls / reasoning_content, as templates expect.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  // Tool definitions ([{"type": "function", "function": {...}}]), or null for none. Like
  // transformers, the template always sees `tools` (as none when there are none).
  nlohmann::ordered_json tools = nullptr;
  bool add_generation_prompt = true;
  // Further template variables, e.g. {"enable_thinking": false, "date_string": "..."}.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  // Time for strftime_now(); empty: the system clock.
  jinja::Clock clock;
};

// Immutable after construction; Render may be called from many threads at once.
class ChatTemplate {
 public:
  // Parses `source`. bos/eos are the model's token strings, visible to the template as
  // bos_token / eos_token.
  static absl::StatusOr<ChatTemplate> Parse(std::string_view source, std::string bos_token,
                                            std::string eos_token,
                                            const jinja::Limits& limits = {});

  // The built-in template for a GGUF `general.architecture` ("gemma3"); NotFound for
  // architectures without one.
  static absl::StatusOr<ChatTemplate> BuiltinFor(std::string_view architecture,
                                                 std::string bos_token, std::string eos_token,
                                                 const jinja::Limits& limits = {});

  // Renders the prompt. InvalidArgument for bad inputs and template errors (the message of
  // a template's raise_exception() is passed through unchanged), Unimplemented for
  // template features outside the supported Jinja subset, ResourceExhausted past a limit.
  absl::StatusOr<std::string> Render(const ChatTemplateInputs& inputs) const;

  const std::string& source() const { return source_; }
  const std::string& bos_token() const { return bos_token_; }
  const std::string& eos_token() const { return eos_token_; }

 private:
  ChatTemplate(jinja::Template parsed, std::string source, std::string bos_token,
               std::string eos_token, const jinja::Limits& limits)
      : template_(std::move(parsed)),
        source_(std::move(source)),
        bos_token_(std::move(bos_token)),
        eos_token_(std::move(eos_token)),
        limits_(limits) {}

  jinja::Template template_;
  std::string source_;
  std::string bos_token_;
  std::string eos_token_;
  jinja::Limits limits_;
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_CHAT_TEMPLATE_H_
