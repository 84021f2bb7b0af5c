// Renders every case of tests/data_gen/templates.py (published chat templates over many
// conversations, plus one-feature snippets) and requires Python jinja2's exact output, or
// an error where jinja2 failed (with jinja2's message when the template raised it).
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/chat_template.h"
#include "model/jinja/template.h"
#include "nlohmann/json.hpp"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using nlohmann::ordered_json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const ordered_json& Document() {
  static const ordered_json* document = [] {
    const std::string path = std::string(SHOAL_TESTDATA_DIR) + "/templates/cases.json";
    const std::string text = ReadFile(path);
    auto* json = new ordered_json(ordered_json::parse(text, nullptr, /*allow_exceptions=*/false));
    return json;
  }();
  return *document;
}

jinja::Clock FixedClock() {
  const int64_t unix_seconds = Document().value("fixed_now_unix", int64_t{0});
  return [unix_seconds] { return std::chrono::system_clock::from_time_t(unix_seconds); };
}

absl::StatusOr<std::string> RenderSnippet(const ordered_json& c) {
  absl::StatusOr<jinja::Template> parsed = jinja::Template::Parse(c["source"].get<std::string>());
  if (!parsed.ok()) return parsed.status();
  jinja::Variables variables;
  for (const auto& [name, value] : c["variables"].items()) {
    absl::StatusOr<jinja::Value> v = jinja::Value::FromJson(value);
    if (!v.ok()) return v.status();
    variables[name] = *v;
  }
  jinja::RenderOptions options;
  options.clock = FixedClock();
  return parsed->Render(variables, options);
}

absl::StatusOr<std::string> RenderChat(const ordered_json& c) {
  static std::map<std::string, std::string> sources;
  const std::string path = c["template"].get<std::string>();
  if (!sources.count(path)) sources[path] = ReadFile(std::string(SHOAL_SOURCE_DIR) + "/" + path);
  absl::StatusOr<ChatTemplate> chat = ChatTemplate::Parse(
      sources[path], c["bos_token"].get<std::string>(), c["eos_token"].get<std::string>());
  if (!chat.ok()) return chat.status();
  ChatTemplateInputs inputs;
  inputs.messages = c["messages"];
  inputs.tools = c["tools"];
  inputs.add_generation_prompt = c["add_generation_prompt"].get<bool>();
  inputs.extra = c["extra"];
  inputs.clock = FixedClock();
  return chat->Render(inputs);
}

// Runs the cases of one group; returns how many there were.
void RunGroup(const std::string& group, size_t min_cases) {
  const ordered_json& document = Document();
  ASSERT_TRUE(document.is_object() && document.contains("cases"))
      << "missing or unreadable " << SHOAL_TESTDATA_DIR << "/templates/cases.json";
  size_t total = 0, passed = 0;
  for (const ordered_json& c : document["cases"]) {
    if (c["group"] != group) continue;
    ++total;
    const std::string name = c["name"].get<std::string>();
    SCOPED_TRACE(name);
    const absl::StatusOr<std::string> rendered =
        c.contains("source") ? RenderSnippet(c) : RenderChat(c);
    if (c.contains("expected")) {
      const std::string expected = c["expected"].get<std::string>();
      EXPECT_THAT(rendered, testing::IsOk())
          << (c.contains("source") ? c["source"] : c["template"]);
      if (!rendered.ok()) continue;
      EXPECT_EQ(*rendered, expected)
          << (c.contains("source") ? c["source"].get<std::string>() : "");
      if (*rendered == expected) ++passed;
      continue;
    }
    const ordered_json& error = c["error"];
    EXPECT_FALSE(rendered.ok()) << "jinja2 failed with " << error["type"] << ": "
                                << error["message"]
                                << "\nbut Shoal rendered: " << (rendered.ok() ? *rendered : "");
    if (rendered.ok()) continue;
    if (error["raised"].get<bool>()) {
      EXPECT_EQ(std::string(rendered.status().message()), error["message"].get<std::string>());
      if (std::string(rendered.status().message()) == error["message"].get<std::string>()) ++passed;
    } else {
      ++passed;
    }
  }
  std::printf("[ golden   ] %s: %zu/%zu cases match jinja2\n", group.c_str(), passed, total);
  EXPECT_GE(total, min_cases);
}

TEST(ChatTemplateGoldenTest, Gemma3Builtin) { RunGroup("gemma3", 20); }
TEST(ChatTemplateGoldenTest, Qwen3) { RunGroup("qwen3", 30); }
TEST(ChatTemplateGoldenTest, Llama31) { RunGroup("llama31", 30); }
TEST(ChatTemplateGoldenTest, Llama32) { RunGroup("llama32", 30); }
TEST(ChatTemplateGoldenTest, Llama33) { RunGroup("llama33", 30); }
TEST(ChatTemplateGoldenTest, Gemma4) { RunGroup("gemma4", 30); }
TEST(ChatTemplateGoldenTest, Qwen25) { RunGroup("qwen25", 20); }
TEST(ChatTemplateGoldenTest, Qwen3Coder) { RunGroup("qwen3_coder", 20); }
TEST(ChatTemplateGoldenTest, MistralNemo) { RunGroup("mistral_nemo", 20); }
TEST(ChatTemplateGoldenTest, Phi35) { RunGroup("phi35", 10); }
TEST(ChatTemplateGoldenTest, GptOss) { RunGroup("gpt_oss", 30); }
TEST(ChatTemplateGoldenTest, DeepSeekR1) { RunGroup("deepseek_r1", 30); }
TEST(ChatTemplateGoldenTest, Snippets) { RunGroup("snippets", 150); }

}  // namespace
}  // namespace shoal::model
