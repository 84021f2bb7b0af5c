#include "model/chat_template.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using nlohmann::ordered_json;
using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

ChatTemplateInputs Inputs(const char* messages_json, bool add_generation_prompt = true) {
  ChatTemplateInputs inputs;
  inputs.messages = ordered_json::parse(messages_json);
  inputs.add_generation_prompt = add_generation_prompt;
  return inputs;
}

TEST(ChatTemplateTest, Gemma3BuiltinMergesSystemIntoFirstUserTurn) {
  ASSERT_OK_AND_ASSIGN(ChatTemplate chat, ChatTemplate::BuiltinFor("gemma3", "<bos>", "<eos>"));
  ASSERT_OK_AND_ASSIGN(std::string prompt, chat.Render(Inputs(R"([
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "  Hi there  "},
      {"role": "assistant", "content": "Hello!"},
      {"role": "user", "content": "Bye"}])")));
  EXPECT_EQ(prompt,
            "<bos><start_of_turn>user\nBe brief.\n\nHi there<end_of_turn>\n"
            "<start_of_turn>model\nHello!<end_of_turn>\n"
            "<start_of_turn>user\nBye<end_of_turn>\n"
            "<start_of_turn>model\n");
}

TEST(ChatTemplateTest, Gemma3WithoutGenerationPrompt) {
  ASSERT_OK_AND_ASSIGN(ChatTemplate chat, ChatTemplate::BuiltinFor("gemma3", "<bos>", "<eos>"));
  ASSERT_OK_AND_ASSIGN(std::string prompt,
                       chat.Render(Inputs(R"([{"role": "user", "content": "Hi"}])", false)));
  EXPECT_EQ(prompt, "<bos><start_of_turn>user\nHi<end_of_turn>\n");
}

TEST(ChatTemplateTest, Gemma3RejectsBrokenAlternationWithTheTemplatesMessage) {
  ASSERT_OK_AND_ASSIGN(ChatTemplate chat, ChatTemplate::BuiltinFor("gemma3", "<bos>", "<eos>"));
  EXPECT_THAT(chat.Render(Inputs(R"([{"role": "user", "content": "a"},
                                     {"role": "user", "content": "b"}])")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Conversation roles must alternate user/assistant/user/assistant/..."));
}

TEST(ChatTemplateTest, NoBuiltinForOtherArchitectures) {
  EXPECT_THAT(ChatTemplate::BuiltinFor("llama", "", "").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'llama'")));
}

TEST(ChatTemplateTest, TemplateSeesTokensToolsAndExtraVariables) {
  ASSERT_OK_AND_ASSIGN(
      ChatTemplate chat,
      ChatTemplate::Parse(
          "{{ bos_token }}|{{ eos_token }}|{{ tools is none }}|{{ documents is none }}|"
          "{{ add_generation_prompt }}|{{ enable_thinking }}|{{ messages | length }}",
          "<s>", "</s>"));
  ChatTemplateInputs inputs = Inputs(R"([{"role": "user", "content": "x"}])");
  inputs.extra = ordered_json::parse(R"({"enable_thinking": false})");
  ASSERT_OK_AND_ASSIGN(std::string out, chat.Render(inputs));
  EXPECT_EQ(out, "<s>|</s>|True|True|True|False|1");
  inputs.tools = ordered_json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  inputs.extra = ordered_json::object();
  ASSERT_OK_AND_ASSIGN(out, chat.Render(inputs));
  EXPECT_EQ(out, "<s>|</s>|False|True|True||1");
}

TEST(ChatTemplateTest, ToolArgumentsKeepTheirKeyOrder) {
  ASSERT_OK_AND_ASSIGN(
      ChatTemplate chat,
      ChatTemplate::Parse("{{ messages[0].tool_calls[0].function.arguments | tojson }}", "", ""));
  ASSERT_OK_AND_ASSIGN(std::string out, chat.Render(Inputs(R"([{"role": "assistant", "tool_calls": [
      {"function": {"name": "f", "arguments": {"zeta": 1, "alpha": "é"}}}]}])")));
  EXPECT_EQ(out, R"({"zeta": 1, "alpha": "é"})");
}

TEST(ChatTemplateTest, RejectsBadInputs) {
  ASSERT_OK_AND_ASSIGN(ChatTemplate chat, ChatTemplate::Parse("{{ messages }}", "", ""));
  ChatTemplateInputs inputs;
  inputs.messages = ordered_json::object();
  EXPECT_THAT(chat.Render(inputs),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("messages must be an array")));
  inputs = Inputs("[]");
  inputs.extra = ordered_json::parse(R"({"messages": []})");
  EXPECT_THAT(chat.Render(inputs),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("would replace an input")));
}

TEST(ChatTemplateTest, ParseErrorsSayTheyComeFromTheChatTemplate) {
  EXPECT_THAT(ChatTemplate::Parse("{% if %}", "", "").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("chat template: ")));
}

TEST(ChatTemplateTest, LimitsApplyToRendering) {
  jinja::Limits limits;
  limits.max_output_bytes = 100;
  ASSERT_OK_AND_ASSIGN(
      ChatTemplate chat,
      ChatTemplate::Parse("{% for m in messages %}{{ m.content }}{% endfor %}", "", "", limits));
  ChatTemplateInputs inputs;
  inputs.messages = ordered_json::array({{{"role", "user"}, {"content", std::string(101, 'x')}}});
  EXPECT_THAT(chat.Render(inputs), StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
}

}  // namespace
}  // namespace shoal::model
