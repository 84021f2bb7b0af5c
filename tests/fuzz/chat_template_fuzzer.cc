// libFuzzer target: arbitrary bytes as a chat template, parsed and rendered with a small
// fixed conversation (with tools and a tool call). Any crash, hang, leak or sanitizer
// report is a bug: a bad template must come back as an error. Limits are tighter than the
// defaults so that each input stays fast.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/chat_template.h"
#include "nlohmann/json.hpp"

namespace {

const shoal::model::ChatTemplateInputs& Inputs() {
  static const auto* inputs = [] {
    auto* in = new shoal::model::ChatTemplateInputs;
    in->messages = nlohmann::ordered_json::parse(R"([
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Weather in Paris? é 🚀 {{ x }}"},
      {"role": "assistant", "content": "", "reasoning_content": "call the tool",
       "tool_calls": [{"id": "call12345", "type": "function",
                       "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
      {"role": "tool", "tool_call_id": "call12345", "content": "{\"t\": 22}"},
      {"role": "assistant", "content": "  Sunny.  "},
      {"role": "user", "content": ["not", "a", "string"]}
    ])");
    in->tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {
      "name": "get_weather", "description": "Weather.",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                     "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}}}])");
    in->extra = nlohmann::ordered_json::parse(R"({"enable_thinking": false, "n": 3,
                                                  "date_string": "26 Jul 2024"})");
    in->clock = [] { return std::chrono::system_clock::from_time_t(1721999109); };
    return in;
  }();
  return *inputs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  shoal::model::jinja::Limits limits;
  limits.max_steps = 200'000;
  limits.max_output_bytes = 1 << 20;
  limits.max_namespaces = 1'000;
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<shoal::model::ChatTemplate> chat =
      shoal::model::ChatTemplate::Parse(source, "<bos>", "<eos>", limits);
  if (!chat.ok()) return 0;
  (void)chat->Render(Inputs());
  return 0;
}
