// ParseOpenAiRequest on bodies it must refuse: each a 400 (InvalidArgument) naming the
// field at fault as `param` (null for the body as a whole).
#include <optional>
#include <string>
#include <vector>

#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "router/openai_error.h"
#include "router/openai_request.h"
#include "tests/support/status_matchers.h"

namespace shoal::router {
namespace {

using ::testing::HasSubstr;

constexpr OpenAiEndpoint kChat = OpenAiEndpoint::kChatCompletions;
constexpr OpenAiEndpoint kCompletions = OpenAiEndpoint::kCompletions;

// A chat body with `extra` fields after a valid model and messages.
std::string ChatWith(const std::string& extra) {
  return R"({"model":"m","messages":[{"role":"user","content":"x"}],)" + extra + "}";
}
std::string CompletionWith(const std::string& extra) {
  return R"({"model":"m","prompt":"p",)" + extra + "}";
}
std::string ChatMessages(const std::string& messages) {
  return R"({"model":"m","messages":)" + messages + "}";
}

struct BadBody {
  OpenAiEndpoint endpoint;
  std::string body;
  std::optional<std::string> param;  // nullopt: the error blames no field
  std::string message;               // a substring of the expected message
};

std::string Repeat(const std::string& item, int count, const std::string& separator = ",") {
  std::string out;
  for (int i = 0; i < count; ++i) out += (i ? separator : "") + item;
  return out;
}

std::vector<BadBody> BadBodies() {
  const std::string bytes1025(1025, 'a');
  std::vector<BadBody> cases = {
      // The body as a whole.
      {kChat, "", std::nullopt, "not valid JSON"},
      {kChat, "{", std::nullopt, "not valid JSON"},
      {kChat, R"({"model":"m"} x)", std::nullopt, "not valid JSON"},
      {kChat, R"({"model":"m",})", std::nullopt, "not valid JSON"},
      {kChat, "[]", std::nullopt, "must be a JSON object"},
      {kCompletions, "\"text\"", std::nullopt, "must be a JSON object"},
      {kCompletions, "null", std::nullopt, "must be a JSON object"},
      {kChat, "42", std::nullopt, "must be a JSON object"},
      // model
      {kChat, R"({"messages":[{"role":"user","content":"x"}]})", "model", "model is required"},
      {kChat, R"({"model":null,"messages":[{"role":"user","content":"x"}]})", "model", "required"},
      {kChat, R"({"model":1,"messages":[{"role":"user","content":"x"}]})", "model", "a string"},
      {kCompletions, R"({"model":"","prompt":"p"})", "model", "non-empty"},
      // messages
      {kChat, R"({"model":"m"})", "messages", "messages is required"},
      {kChat, ChatMessages("{}"), "messages", "an array"},
      {kChat, ChatMessages("[]"), "messages", "non-empty"},
      {kChat, ChatMessages("[1]"), "messages[0]", "an object"},
      {kChat, ChatMessages(R"([{"content":"x"}])"), "messages[0].role", "given"},
      {kChat, ChatMessages(R"([{"role":"robot","content":"x"}])"), "messages[0].role", "one of"},
      {kChat, ChatMessages(R"([{"role":5,"content":"x"}])"), "messages[0].role", "a string"},
      {kChat, ChatMessages(R"([{"role":"user","content":5}])"), "messages[0].content", ""},
      {kChat, ChatMessages(R"([{"role":"user","content":null}])"), "messages[0].content", ""},
      {kChat, ChatMessages(R"([{"role":"user"}])"), "messages[0].content", ""},
      {kChat, ChatMessages(R"([{"role":"user","content":"x"},{"role":"assistant"}])"),
       "messages[1].content", ""},
      {kChat, ChatMessages(R"([{"role":"assistant","content":null,"tool_calls":[]}])"),
       "messages[0].content", ""},
      {kChat, ChatMessages(R"([{"role":"system","content":null}])"), "messages[0].content", ""},
      {kChat, ChatMessages(R"([{"role":"user","content":{"type":"text","text":"x"}}])"),
       "messages[0].content", ""},
      {kChat, ChatMessages(R"([{"role":"user","content":[{"type":"text","text":"a"},
          {"type":"image_url","image_url":{"url":"http://x/y.png"}}]}])"),
       "messages[0].content[1].type", "only text content parts are supported"},
      {kChat, ChatMessages(R"([{"role":"user","content":[{"type":"input_audio"}]}])"),
       "messages[0].content[0].type", "only text content parts are supported"},
      {kChat, ChatMessages(R"([{"role":"user","content":[{"text":"a"}]}])"),
       "messages[0].content[0].type", ""},
      {kChat, ChatMessages(R"([{"role":"user","content":[{"type":"text"}]}])"),
       "messages[0].content[0].text", ""},
      {kChat, ChatMessages(R"([{"role":"user","content":[{"type":"text","text":1}]}])"),
       "messages[0].content[0].text", ""},
      {kChat, ChatMessages(R"([{"role":"user","content":["a"]}])"), "messages[0].content[0]",
       "an object"},
      {kChat, ChatMessages(R"([{"role":"user","content":"x","name":3}])"), "messages[0].name", ""},
      {kChat, ChatMessages(R"([{"role":"user","content":"x"},
          {"role":"assistant","tool_calls":{}}])"),
       "messages[1].tool_calls", "an array"},
      {kChat, ChatMessages(R"([{"role":"assistant","tool_calls":[{"id":"c"}]}])"),
       "messages[0].tool_calls[0].function", ""},
      {kChat, ChatMessages(R"([{"role":"assistant","tool_calls":[
          {"function":{"name":"f","arguments":"{}"}}]}])"),
       "messages[0].tool_calls[0].id", ""},
      {kChat, ChatMessages(R"([{"role":"assistant","tool_calls":[
          {"id":"c","type":"code","function":{"name":"f","arguments":"{}"}}]}])"),
       "messages[0].tool_calls[0].type", ""},
      {kChat, ChatMessages(R"([{"role":"assistant","tool_calls":[
          {"id":"c","function":{"arguments":"{}"}}]}])"),
       "messages[0].tool_calls[0].function.name", ""},
      {kChat, ChatMessages(R"([{"role":"assistant","tool_calls":[
          {"id":"c","function":{"name":"f","arguments":{"x":1}}}]}])"),
       "messages[0].tool_calls[0].function.arguments", "a string"},
      {kChat, ChatMessages(R"([{"role":"tool","tool_call_id":7,"content":"x"}])"),
       "messages[0].tool_call_id", ""},
      {kChat, ChatMessages(R"([{"role":"assistant","content":"x","reasoning_content":1}])"),
       "messages[0].reasoning_content", ""},
      {kChat, ChatWith(R"("add_generation_prompt":"yes")"), "add_generation_prompt", "boolean"},
      {kChat, ChatWith(R"("chat_template_kwargs":[])"), "chat_template_kwargs", "an object"},
      // prompt
      {kCompletions, R"({"model":"m"})", "prompt", "prompt is required"},
      {kCompletions, R"({"model":"m","prompt":5})", "prompt", ""},
      {kCompletions, R"({"model":"m","prompt":{}})", "prompt", ""},
      {kCompletions, R"({"model":"m","prompt":[]})", "prompt", "non-empty"},
      {kCompletions, R"({"model":"m","prompt":[[]]})", "prompt", "non-empty"},
      {kCompletions, R"({"model":"m","prompt":[[1],[]]})", "prompt", "non-empty"},
      {kCompletions, R"({"model":"m","prompt":[1,"a"]})", "prompt", "an integer"},
      {kCompletions, R"({"model":"m","prompt":["a",1]})", "prompt", ""},
      {kCompletions, R"({"model":"m","prompt":["a",["b"]]})", "prompt", ""},
      {kCompletions, R"({"model":"m","prompt":[[1],[2,"x"]]})", "prompt", "an integer"},
      {kCompletions, R"({"model":"m","prompt":[[1],2]})", "prompt", ""},
      {kCompletions, R"({"model":"m","prompt":[-1]})", "prompt", "at least 0"},
      {kCompletions, R"({"model":"m","prompt":[2147483648]})", "prompt", "at most"},
      {kCompletions, R"({"model":"m","prompt":[1.5]})", "prompt", "an integer"},
      {kCompletions, R"({"model":"m","prompt":[true]})", "prompt", ""},
      {kCompletions, R"({"model":"m","prompt":[null]})", "prompt", ""},
      {kCompletions, R"({"model":"m","prompt":[)" + Repeat("\"p\"", kMaxPrompts + 1) + "]}",
       "prompt", "at most 128"},
      {kCompletions, R"({"model":"m","prompt":[)" + Repeat("[1]", kMaxPrompts + 1) + "]}", "prompt",
       "at most 128"},
  };
  struct FieldCase {
    std::string field;
    std::string value;
    std::string message;
  };
  // Sampling and request options: the same on both endpoints.
  const std::vector<FieldCase> common = {
      {"temperature", "-0.1", "in [0, 2]"},
      {"temperature", "2.5", "in [0, 2]"},
      {"temperature", "\"0.5\"", "a number"},
      {"temperature", "true", "a number"},
      {"top_p", "0", "in (0, 1]"},
      {"top_p", "1.5", "in (0, 1]"},
      {"top_p", "[]", "a number"},
      {"top_k", "-2", "at least -1"},
      {"top_k", "1.5", "an integer"},
      {"top_k", "\"3\"", "an integer"},
      {"top_k", "2147483648", "at most"},
      {"min_p", "1.5", "in [0, 1]"},
      {"min_p", "-0.5", "in [0, 1]"},
      {"seed", "1.5", "an integer"},
      {"seed", "1e300", ""},
      {"seed", "\"1\"", "an integer"},
      {"seed", "18446744073709551615", "at most"},
      {"seed", "-1e19", ""},
      {"max_tokens", "0", "at least 1"},
      {"max_tokens", "-1", "at least 1"},
      {"max_tokens", "1.5", "an integer"},
      {"max_tokens", "1e300", ""},
      {"max_tokens", "\"10\"", "an integer"},
      {"max_tokens", "2147483648", "at most"},
      {"max_tokens", "false", "an integer"},
      {"stop", "\"\"", "must not be empty"},
      {"stop", "[\"\"]", "stop[0] must not be empty"},
      {"stop", "[\"a\",1]", ""},
      {"stop", "5", ""},
      {"stop", "{}", ""},
      {"stop", "[" + Repeat("\"s\"", kMaxStopStrings + 1) + "]", "at most 16"},
      {"stop", "\"" + bytes1025 + "\"", "at most 1024 bytes"},
      {"stop", "[\"a\",\"" + bytes1025 + "\"]", "stop[1] must be at most 1024 bytes"},
      {"stop_token_ids", "[-1]", "at least 0"},
      {"stop_token_ids", "\"1\"", "an array"},
      {"stop_token_ids", "[1.5]", "an integer"},
      {"stop_token_ids", "[2147483648]", "at most"},
      {"stop_token_ids", "5", "an array"},
      {"ignore_eos", "\"true\"", "a boolean"},
      {"ignore_eos", "1", "a boolean"},
      {"min_tokens", "-1", "at least 0"},
      {"min_tokens", "0.5", "an integer"},
      {"presence_penalty", "2.5", "in [-2, 2]"},
      {"presence_penalty", "\"0\"", "a number"},
      {"frequency_penalty", "-3", "in [-2, 2]"},
      {"repetition_penalty", "0", "in (0, 10]"},
      {"repetition_penalty", "10.5", "in (0, 10]"},
      {"repetition_penalty", "-1", "in (0, 10]"},
      {"logit_bias", "[]", "an object"},
      {"logit_bias", "{\"abc\":1}", "token ids"},
      {"logit_bias", "{\"-1\":1}", "token ids"},
      {"logit_bias", "{\"1\":101}", "[-100, 100]"},
      {"logit_bias", "{\"1\":-100.5}", "[-100, 100]"},
      {"logit_bias", "{\"1\":\"5\"}", "a number"},
      {"logit_bias", "{\"2147483648\":1}", "token ids"},
      {"logit_bias", "{\" 1\":1}", "token ids"},
      {"logit_bias", "{\"\":1}", "token ids"},
      {"logit_bias", "{\"1.0\":1}", "token ids"},
      {"include_stop_str_in_output", "\"yes\"", "a boolean"},
      {"skip_special_tokens", "0", "a boolean"},
      {"n", "0", "at least 1"},
      {"n", "129", "at most 128"},
      {"n", "1.5", "an integer"},
      {"stream", "\"true\"", "a boolean"},
      {"stream_options", "{\"include_usage\":true}", "only allowed when stream is true"},
      {"user", "1", "a string"},
      {"user", "\"" + std::string(257, 'u') + "\"", "at most 256"},
      {"cache_salt", "\"\"", "1 to 1024 bytes"},
      {"cache_salt", "5", "a string"},
      {"cache_salt", "\"" + bytes1025 + "\"", "1 to 1024 bytes"},
      {"priority", "2147483648", "at most"},
      {"priority", "-2147483649", "at least"},
      {"priority", "1.5", "an integer"},
      {"response_format", "{\"type\":\"json_object\"}", "response_format is not supported yet"},
      {"response_format", "\"text\"", "response_format is not supported yet"},
      {"echo", "true", "echo is not supported yet"},
      {"echo", "1", "a boolean"},
  };
  for (const FieldCase& c : common) {
    const std::string extra = "\"" + c.field + "\":" + c.value;
    cases.push_back({kChat, ChatWith(extra), c.field, c.message});
    cases.push_back({kCompletions, CompletionWith(extra), c.field, c.message});
  }
  const std::vector<BadBody> more = {
      {kChat, ChatWith(R"("max_tokens":10,"min_tokens":11)"), "min_tokens", "at most max_tokens"},
      {kCompletions, CompletionWith(R"("max_tokens":10,"min_tokens":11)"), "min_tokens", ""},
      {kChat, ChatWith(R"("max_completion_tokens":0)"), "max_completion_tokens", "at least 1"},
      {kChat, ChatWith(R"("max_completion_tokens":"1")"), "max_completion_tokens", ""},
      {kChat, ChatWith(R"("max_tokens":50,"max_completion_tokens":5,"min_tokens":6)"), "min_tokens",
       ""},
      {kChat, ChatWith(R"("stream":false,"stream_options":{"include_usage":true})"),
       "stream_options", "only allowed when stream is true"},
      {kChat, ChatWith(R"("stream":true,"stream_options":[])"), "stream_options", "an object"},
      {kChat, ChatWith(R"("stream":true,"stream_options":{"include_usage":"yes"})"),
       "stream_options.include_usage", "a boolean"},
      {kChat, ChatWith(R"("logprobs":1)"), "logprobs", "a boolean"},
      {kChat, ChatWith(R"("logprobs":"true")"), "logprobs", "a boolean"},
      {kChat, ChatWith(R"("top_logprobs":5)"), "top_logprobs", "requires logprobs"},
      {kChat, ChatWith(R"("logprobs":false,"top_logprobs":0)"), "top_logprobs", "requires"},
      {kChat, ChatWith(R"("logprobs":true,"top_logprobs":21)"), "top_logprobs", "at most 20"},
      {kChat, ChatWith(R"("logprobs":true,"top_logprobs":-1)"), "top_logprobs", "at least 0"},
      {kCompletions, CompletionWith(R"("logprobs":6)"), "logprobs", "at most 5"},
      {kCompletions, CompletionWith(R"("logprobs":-1)"), "logprobs", "at least 0"},
      {kCompletions, CompletionWith(R"("logprobs":true)"), "logprobs", "an integer"},
      {kCompletions, CompletionWith(R"("best_of":"2")"), "best_of", "an integer"},
      {kCompletions, CompletionWith(R"("n":"2","best_of":2)"), "n", "an integer"},
  };
  cases.insert(cases.end(), more.begin(), more.end());
  std::string bias = "{";
  for (int i = 0; i <= 1024; ++i) bias += (i ? ",\"" : "\"") + std::to_string(i) + "\":1";
  cases.push_back(
      {kChat, ChatWith("\"logit_bias\":" + bias + "}"), "logit_bias", "at most 1024 entries"});
  cases.push_back(
      {kChat,
       ChatMessages("[" + Repeat(R"({"role":"user","content":"x"})", kMaxMessages + 1) + "]"),
       "messages", "at most 4096"});
  return cases;
}

TEST(OpenAiRequestErrorsTest, EveryBadBodyIsA400NamingItsField) {
  const std::vector<BadBody> cases = BadBodies();
  for (size_t i = 0; i < cases.size(); ++i) {
    const BadBody& c = cases[i];
    SCOPED_TRACE(::testing::Message() << "case " << i << ": " << c.body.substr(0, 300));
    const auto result = ParseOpenAiRequest(c.endpoint, c.body);
    ASSERT_FALSE(result.ok());
    EXPECT_THAT(result.status(),
                shoal::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
    EXPECT_EQ(ParamOf(result.status()), c.param) << result.status();
    const OpenAiError error = ToOpenAiError(result.status());
    EXPECT_EQ(error.http_status, 400);
  }
}

TEST(OpenAiRequestErrorsTest, RefusesEveryUnsupportedFeatureByName) {
  struct Refused {
    OpenAiEndpoint endpoint;
    std::string extra;
    std::string field;
  };
  const std::vector<Refused> cases = {
      {kChat, R"("tools":[{"type":"function","function":{"name":"f","parameters":{}}}])", "tools"},
      {kChat, R"("tools":[])", "tools"},
      {kChat, R"("tool_choice":"auto")", "tool_choice"},
      {kChat, R"("tool_choice":"required")", "tool_choice"},
      {kChat, R"("tool_choice":{"type":"function","function":{"name":"f"}})", "tool_choice"},
      {kChat, R"("functions":[{"name":"f"}])", "functions"},
      {kChat, R"("function_call":"auto")", "function_call"},
      {kChat, R"("response_format":{"type":"json_object"})", "response_format"},
      {kChat, R"("response_format":{"type":"json_schema","json_schema":{"name":"x"}})",
       "response_format"},
      {kChat, R"("response_format":{"type":"text","extra":1})", "response_format"},
      {kChat, R"("echo":true)", "echo"},
      {kCompletions, R"("echo":true)", "echo"},
      {kCompletions, R"("suffix":"tail")", "suffix"},
      {kCompletions, R"("best_of":2)", "best_of"},
      {kCompletions, R"("best_of":3,"n":2)", "best_of"},
      {kCompletions, R"("response_format":{"type":"json_object"})", "response_format"},
  };
  for (const Refused& c : cases) {
    SCOPED_TRACE(c.extra);
    const std::string body = c.endpoint == kChat ? ChatWith(c.extra) : CompletionWith(c.extra);
    const auto result = ParseOpenAiRequest(c.endpoint, body);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(MessageOf(result.status()), c.field + " is not supported yet");
    EXPECT_EQ(ParamOf(result.status()), c.field);
  }
}

// {"model", "messages", "chat_template_kwargs": {"a": [[...]]}}: `arrays` nested arrays
// inside two objects.
std::string NestedKwargs(int arrays) {
  return ChatWith(R"("chat_template_kwargs":{"a":)" + std::string(arrays, '[') +
                  std::string(arrays, ']') + "}");
}

TEST(OpenAiRequestErrorsTest, NestingUpTo64LevelsIsAcceptedAndDeeperIsRefused) {
  ASSERT_OK_AND_ASSIGN(OpenAiRequest ok, ParseOpenAiRequest(kChat, NestedKwargs(62)));
  EXPECT_EQ(ok.prompts[0].chat().template_kwargs_json(),
            "{\"a\":" + std::string(62, '[') + std::string(62, ']') + "}");
  const auto deep = ParseOpenAiRequest(kChat, NestedKwargs(63));
  EXPECT_THAT(deep, shoal::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("deeper than 64")));
  EXPECT_EQ(ParamOf(deep.status()), std::nullopt);
}

TEST(OpenAiRequestErrorsTest, MillionsDeepBodyIsRefusedWithoutRecursion) {
  const std::string arrays(4'000'000, '[');
  EXPECT_THAT(
      ParseOpenAiRequest(kCompletions, arrays),
      shoal::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("deeper than 64")));
  std::string objects;
  for (int i = 0; i < 1'000'000; ++i) objects += "{\"a\":";
  EXPECT_THAT(
      ParseOpenAiRequest(kChat, objects),
      shoal::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("deeper than 64")));
  // Balanced, and inside a valid request.
  EXPECT_THAT(
      ParseOpenAiRequest(kChat, NestedKwargs(1'000'000)),
      shoal::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("deeper than 64")));
}

TEST(OpenAiRequestErrorsTest, InvalidUtf8IsRefusedClearly) {
  for (const std::string& bad : {std::string("\xFF"), std::string("\xC3"), std::string("\xC0\xAF"),
                                 std::string("\xED\xA0\x80"), std::string("a\x80")}) {
    const auto result =
        ParseOpenAiRequest(kChat, ChatMessages(R"([{"role":"user","content":")" + bad + "\"}]"));
    EXPECT_THAT(result, shoal::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                                 HasSubstr("not valid UTF-8")));
    EXPECT_EQ(ParamOf(result.status()), std::nullopt);
    // The error body itself is valid JSON.
    EXPECT_TRUE(nlohmann::json::accept(ToOpenAiError(result.status()).body));
  }
}

TEST(OpenAiRequestErrorsTest, JsonErrorMessagesLoseTheLibraryPrefix) {
  const auto result = ParseOpenAiRequest(kChat, "{\"model\": tru}");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(MessageOf(result.status()),
              ::testing::StartsWith("request body is not valid JSON: "));
  EXPECT_THAT(MessageOf(result.status()), ::testing::Not(HasSubstr("json.exception")));
}

}  // namespace
}  // namespace shoal::router
