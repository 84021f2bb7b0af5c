// Conversations to prompt token ids through ModelFile (template + tokenizer), against
// llama.cpp's server behaviour recorded by scripts/make_golden_chat.py: jinja2 renders
// the template, BOS text the tokenizer would add again is dropped, llama.cpp tokenizes.
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/model_file.h"
#include "nlohmann/json.hpp"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using json = nlohmann::ordered_json;

json LoadGolden() {
  std::ifstream in(std::filesystem::path(SHOAL_GOLDEN_DIR) / "chat_encoding.json");
  return json::parse(in);
}

std::string ModelPathFor(const std::string& name) {
  if (name == "gemma3-270m") return ::shoal::testing::Gemma3Path();
  if (name == "gemma3-test") return ::shoal::testing::TestModelPath("gemma3", "f32");
  if (name == "qwen3-test") return ::shoal::testing::TestModelPath("qwen3", "f32");
  ADD_FAILURE() << "unknown model in golden file: " << name;
  return "";
}

TEST(ChatEncodingTest, MatchesLlamaCppForEveryModelAndConversation) {
  const json golden = LoadGolden();
  int cases = 0;
  for (const auto& [name, conversations] : golden.at("models").items()) {
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(auto model, ModelFile::Open(ModelPathFor(name)));
    ASSERT_NE(model->chat_template(), nullptr);
    for (const json& conversation : conversations) {
      SCOPED_TRACE(conversation.at("messages").dump());
      ChatTemplateInputs inputs;
      inputs.messages = conversation.at("messages");
      inputs.add_generation_prompt = conversation.at("add_generation_prompt").get<bool>();
      inputs.extra = conversation.at("extra");
      ASSERT_OK_AND_ASSIGN(std::string prompt, model->RenderChat(inputs));
      EXPECT_EQ(prompt, conversation.at("prompt").get<std::string>());
      ASSERT_OK_AND_ASSIGN(std::vector<int32_t> ids, model->EncodeChat(inputs));
      EXPECT_EQ(ids, conversation.at("ids").get<std::vector<int32_t>>());
      ++cases;
    }
  }
  EXPECT_EQ(cases, 18);
}

TEST(ChatEncodingTest, GemmaPromptHasExactlyOneBos) {
  ASSERT_OK_AND_ASSIGN(auto model, ModelFile::Open(::shoal::testing::Gemma3Path()));
  EXPECT_EQ(model->chat_template_source(), ChatTemplateSource::kBuiltin);
  ChatTemplateInputs inputs;
  inputs.messages = json::array({{{"role", "user"}, {"content", "Hello"}}});
  // The template itself writes the BOS text...
  ASSERT_OK_AND_ASSIGN(std::string rendered, model->chat_template()->Render(inputs));
  EXPECT_TRUE(rendered.starts_with("<bos><start_of_turn>user\n"));
  // ...which becomes the one BOS the tokenizer adds, not a second.
  ASSERT_OK_AND_ASSIGN(std::vector<int32_t> ids, model->EncodeChat(inputs));
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids[0], model->tokenizer().bos_id());
  EXPECT_NE(ids[1], model->tokenizer().bos_id());
  EXPECT_EQ(ids[1], model->tokenizer().FindToken("<start_of_turn>"));
}

TEST(ChatEncodingTest, TemplateErrorsAreClear) {
  ASSERT_OK_AND_ASSIGN(auto model, ModelFile::Open(::shoal::testing::Gemma3Path()));
  ChatTemplateInputs inputs;
  inputs.messages = json::array({{{"role", "assistant"}, {"content", "I speak first"}}});
  EXPECT_THAT(
      model->EncodeChat(inputs),
      ::shoal::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                 ::testing::HasSubstr("Conversation roles must alternate")));
}

TEST(ChatEncodingTest, ModelWithoutTemplateSaysSo) {
  ASSERT_OK_AND_ASSIGN(auto model,
                       ModelFile::Open(::shoal::testing::TestModelPath("llama", "f32")));
  EXPECT_EQ(model->chat_template_source(), ChatTemplateSource::kNone);
  EXPECT_THAT(model->EncodeChat({}),
              ::shoal::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                         ::testing::HasSubstr("no chat template")));
}

}  // namespace
}  // namespace shoal::model
