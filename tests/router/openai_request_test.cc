// ParseOpenAiRequest on well-formed bodies: every field lands where it should, exactly.
// (openai_request_errors_test.cc has the bodies it must refuse.)
#include "router/openai_request.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::router {
namespace {

using ::google::protobuf::TextFormat;
using ::google::protobuf::util::MessageDifferencer;

constexpr OpenAiEndpoint kChat = OpenAiEndpoint::kChatCompletions;
constexpr OpenAiEndpoint kCompletions = OpenAiEndpoint::kCompletions;

v1::GenerateRequest FromText(const std::string& text) {
  v1::GenerateRequest request;
  EXPECT_TRUE(TextFormat::ParseFromString(text, &request)) << text;
  return request;
}

MATCHER_P(EqualsProto, text, "equals the proto " + std::string(text)) {
  const v1::GenerateRequest expected = FromText(text);
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(expected, arg)) return true;
  *result_listener << "differences: " << diff << "\nactual: " << arg.ShortDebugString();
  return false;
}

TEST(OpenAiRequestTest, MinimalChat) {
  ASSERT_OK_AND_ASSIGN(OpenAiRequest r, ParseOpenAiRequest(kChat, R"({"model": "gemma",
                           "messages": [{"role": "user", "content": "Hi"}]})"));
  EXPECT_EQ(r.endpoint, kChat);
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.include_usage);
  EXPECT_TRUE(r.skip_special_tokens);
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_THAT(r.prompts[0], EqualsProto(R"pb(
                model: "gemma"
                chat { messages { role: "user" content: "Hi" } }
                sampling {}
              )pb"));
  EXPECT_FALSE(r.prompts[0].sampling().has_temperature());
  EXPECT_FALSE(r.prompts[0].sampling().has_logprobs());
  EXPECT_FALSE(r.prompts[0].chat().has_add_generation_prompt());
}

TEST(OpenAiRequestTest, ChatWithEverySamplingField) {
  ASSERT_OK_AND_ASSIGN(OpenAiRequest r, ParseOpenAiRequest(kChat, R"({
      "model": "m", "messages": [{"role": "user", "content": "x"}],
      "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "seed": 1234,
      "max_tokens": 100, "max_completion_tokens": 50, "stop": ["END", "\n\n"],
      "stop_token_ids": [1, 106], "ignore_eos": true, "min_tokens": 3,
      "presence_penalty": -1.5, "frequency_penalty": 2, "repetition_penalty": 1.1,
      "logit_bias": {"5": -100, "17": 2.5}, "include_stop_str_in_output": true,
      "skip_special_tokens": false, "logprobs": true, "top_logprobs": 5, "n": 3,
      "stream": true, "stream_options": {"include_usage": true}, "user": "u-1",
      "cache_salt": "tenant-a", "priority": -5})"));
  EXPECT_EQ(r.n, 3);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_FALSE(r.skip_special_tokens);
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_THAT(r.prompts[0], EqualsProto(R"pb(
                model: "m"
                chat { messages { role: "user" content: "x" } }
                sampling {
                  temperature: 0.7
                  top_p: 0.9
                  top_k: 40
                  min_p: 0.05
                  seed: 1234
                  max_tokens: 50
                  stop: "END"
                  stop: "\n\n"
                  stop_token_ids: 1
                  stop_token_ids: 106
                  ignore_eos: true
                  min_tokens: 3
                  presence_penalty: -1.5
                  frequency_penalty: 2
                  repetition_penalty: 1.1
                  logit_bias { key: 5 value: -100 }
                  logit_bias { key: 17 value: 2.5 }
                  include_stop_str_in_output: true
                  logprobs: 5
                }
                user: "u-1"
                cache_salt: "tenant-a"
                priority: -5
              )pb"));
}

TEST(OpenAiRequestTest, ChatMessagesOfEveryRole) {
  ASSERT_OK_AND_ASSIGN(OpenAiRequest r, ParseOpenAiRequest(kChat, R"({
      "model": "m",
      "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": "Use JSON.", "name": "dev"},
        {"role": "user", "content": [{"type": "text", "text": "a"},
                                     {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": null, "reasoning_content": "think",
         "tool_calls": [{"id": "call_1", "type": "function",
                         "function": {"name": "get", "arguments": "{\"x\": 1}"}},
                        {"id": "call_2", "function": {"name": "put", "arguments": ""}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
        {"role": "tool", "tool_call_id": "call_2"},
        {"role": "assistant", "content": "Done", "extra": 1}
      ],
      "add_generation_prompt": false,
      "chat_template_kwargs": {"enable_thinking": false, "depth": [1, {"a": null}]}})"));
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_THAT(r.prompts[0], EqualsProto(R"pb(
                model: "m"
                sampling {}
                chat {
                  messages { role: "system" content: "Be brief." }
                  messages { role: "developer" content: "Use JSON." name: "dev" }
                  messages {
                    role: "user"
                    parts { type: "text" text: "a" }
                    parts { type: "text" text: "b" }
                  }
                  messages {
                    role: "assistant"
                    reasoning_content: "think"
                    tool_calls {
                      id: "call_1"
                      type: "function"
                      function_name: "get"
                      function_arguments_json: "{\"x\": 1}"
                    }
                    tool_calls { id: "call_2" type: "function" function_name: "put" }
                  }
                  messages { role: "tool" tool_call_id: "call_1" content: "42" }
                  messages { role: "tool" tool_call_id: "call_2" }
                  messages { role: "assistant" content: "Done" }
                  add_generation_prompt: false
                  template_kwargs_json: "{\"depth\":[1,{\"a\":null}],\"enable_thinking\":false}"
                }
              )pb"));
  EXPECT_TRUE(r.prompts[0].chat().has_add_generation_prompt());
}

TEST(OpenAiRequestTest, MaxCompletionTokensWinsOverMaxTokensEitherOrder) {
  for (const char* body : {
           R"({"model":"m","messages":[{"role":"user","content":"x"}],
               "max_tokens": 10, "max_completion_tokens": 20})",
           R"({"model":"m","messages":[{"role":"user","content":"x"}],
               "max_completion_tokens": 20, "max_tokens": 10})"}) {
    ASSERT_OK_AND_ASSIGN(OpenAiRequest r, ParseOpenAiRequest(kChat, body));
    EXPECT_EQ(r.prompts[0].sampling().max_tokens(), 20);
  }
  ASSERT_OK_AND_ASSIGN(OpenAiRequest only_max, ParseOpenAiRequest(kChat, R"({"model":"m",
      "messages":[{"role":"user","content":"x"}], "max_tokens": 10})"));
  EXPECT_EQ(only_max.prompts[0].sampling().max_tokens(), 10);
}

TEST(OpenAiRequestTest, NumbersAtTheEdgesOfTheirRanges) {
  ASSERT_OK_AND_ASSIGN(OpenAiRequest r, ParseOpenAiRequest(kChat, R"({"model":"m",
      "messages":[{"role":"user","content":"x"}], "temperature": 0, "top_p": 1, "min_p": 1,
      "presence_penalty": 2, "frequency_penalty": -2, "repetition_penalty": 10,
      "max_tokens": 2147483647, "min_tokens": 2147483647, "n": 128, "top_k": 1,
      "seed": -1, "priority": -2147483648, "logit_bias": {"2147483647": 100, "0": -100}})"));
  EXPECT_THAT(r.prompts[0], EqualsProto(R"pb(
                model: "m"
                chat { messages { role: "user" content: "x" } }
                sampling {
                  temperature: 0
                  top_p: 1
                  min_p: 1
                  presence_penalty: 2
                  frequency_penalty: -2
                  repetition_penalty: 10
                  max_tokens: 2147483647
                  min_tokens: 2147483647
                  top_k: 1
                  seed: 18446744073709551615
                  logit_bias { key: 2147483647 value: 100 }
                  logit_bias { key: 0 value: -100 }
                }
                priority: -2147483648
              )pb"));
  EXPECT_EQ(r.n, 128);
}

TEST(OpenAiRequestTest, LongestUserAndCacheSalt) {
  const std::string user(256, 'u');
  const std::string salt(1024, 's');
  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest r,
      ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":"p","user":")" + user +
                                           R"(","cache_salt":")" + salt + "\"}"));
  EXPECT_EQ(r.prompts[0].user(), user);
  EXPECT_EQ(r.prompts[0].cache_salt(), salt);
}

TEST(OpenAiRequestTest, IntegralFloatsAreIntegers) {
  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest r,
      ParseOpenAiRequest(
          kCompletions,
          R"({"model":"m","prompt":[1.0, 2e1], "max_tokens": 2.0, "n": 1e0, "seed": -3.0})"));
  EXPECT_THAT(r.prompts[0], EqualsProto(R"pb(
                model: "m"
                prompt_token_ids { ids: 1 ids: 20 }
                sampling { max_tokens: 2 seed: 18446744073709551613 }
              )pb"));
}

TEST(OpenAiRequestTest, TopKOffValuesLeaveItUnset) {
  for (const char* top_k : {"-1", "0", "null"}) {
    SCOPED_TRACE(top_k);
    ASSERT_OK_AND_ASSIGN(
        OpenAiRequest r,
        ParseOpenAiRequest(kCompletions,
                           std::string(R"({"model":"m","prompt":"p","top_k":)") + top_k + "}"));
    EXPECT_FALSE(r.prompts[0].sampling().has_top_k());
  }
}

TEST(OpenAiRequestTest, ChatLogprobs) {
  const std::string head = R"({"model":"m","messages":[{"role":"user","content":"x"}])";
  ASSERT_OK_AND_ASSIGN(OpenAiRequest with_top,
                       ParseOpenAiRequest(kChat, head + R"(,"logprobs":true,"top_logprobs":20})"));
  EXPECT_EQ(with_top.prompts[0].sampling().logprobs(), 20);
  ASSERT_OK_AND_ASSIGN(OpenAiRequest plain,
                       ParseOpenAiRequest(kChat, head + R"(,"logprobs":true})"));
  ASSERT_TRUE(plain.prompts[0].sampling().has_logprobs());
  EXPECT_EQ(plain.prompts[0].sampling().logprobs(), 0);
  for (const char* off : {R"(,"logprobs":false})", R"(,"logprobs":null})",
                          R"(,"logprobs":false,"top_logprobs":null})", "}"}) {
    ASSERT_OK_AND_ASSIGN(OpenAiRequest r, ParseOpenAiRequest(kChat, head + off));
    EXPECT_FALSE(r.prompts[0].sampling().has_logprobs()) << off;
  }
}

TEST(OpenAiRequestTest, CompletionLogprobs) {
  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest five,
      ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":"p","logprobs":5})"));
  EXPECT_EQ(five.prompts[0].sampling().logprobs(), 5);
  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest zero,
      ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":"p","logprobs":0})"));
  ASSERT_TRUE(zero.prompts[0].sampling().has_logprobs());
  EXPECT_EQ(zero.prompts[0].sampling().logprobs(), 0);
  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest none,
      ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":"p","logprobs":null})"));
  EXPECT_FALSE(none.prompts[0].sampling().has_logprobs());
}

TEST(OpenAiRequestTest, CompletionPromptShapes) {
  ASSERT_OK_AND_ASSIGN(OpenAiRequest text,
                       ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":"Once"})"));
  ASSERT_EQ(text.prompts.size(), 1u);
  EXPECT_THAT(text.prompts[0], EqualsProto(R"pb(model: "m"
                                                prompt: "Once"
                                                sampling {})pb"));

  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest ids,
      ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":[0, 5, 2147483647]})"));
  ASSERT_EQ(ids.prompts.size(), 1u);
  EXPECT_THAT(ids.prompts[0], EqualsProto(R"pb(
                model: "m"
                prompt_token_ids { ids: 0 ids: 5 ids: 2147483647 }
                sampling {}
              )pb"));

  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest texts,
      ParseOpenAiRequest(kCompletions,
                         R"({"model":"m","prompt":["a", "", "c"], "temperature": 0.5, "user": "u",
          "cache_salt": "s", "priority": 3, "stop": "X"})"));
  ASSERT_EQ(texts.prompts.size(), 3u);
  const char* expected[] = {"a", "", "c"};
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(texts.prompts[i], EqualsProto(std::string("model: 'm' prompt: '") + expected[i] +
                                              "' sampling { temperature: 0.5 stop: 'X' } "
                                              "user: 'u' cache_salt: 's' priority: 3"));
  }

  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest lists,
      ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":[[1, 2], [3]], "max_tokens": 4})"));
  ASSERT_EQ(lists.prompts.size(), 2u);
  EXPECT_THAT(lists.prompts[0], EqualsProto(R"pb(
                model: "m"
                prompt_token_ids { ids: 1 ids: 2 }
                sampling { max_tokens: 4 })pb"));
  EXPECT_THAT(lists.prompts[1], EqualsProto(R"pb(
                model: "m"
                prompt_token_ids { ids: 3 }
                sampling { max_tokens: 4 })pb"));
}

TEST(OpenAiRequestTest, AtMostMaxPromptsStrings) {
  std::string body = R"({"model":"m","prompt":[)";
  for (int i = 0; i < kMaxPrompts; ++i) body += (i ? ",\"p" : "\"p") + std::to_string(i) + "\"";
  ASSERT_OK_AND_ASSIGN(OpenAiRequest r, ParseOpenAiRequest(kCompletions, body + "]}"));
  ASSERT_EQ(r.prompts.size(), static_cast<size_t>(kMaxPrompts));
  EXPECT_EQ(r.prompts[127].prompt(), "p127");
}

TEST(OpenAiRequestTest, StopAsOneString) {
  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest r,
      ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":"p","stop":"\n"})"));
  EXPECT_THAT(r.prompts[0].sampling().stop(), ::testing::ElementsAre("\n"));
  std::string sixteen = R"({"model":"m","prompt":"p","stop":[)";
  for (int i = 0; i < kMaxStopStrings; ++i)
    sixteen += (i ? ",\"s" : "\"s") + std::to_string(i) + "\"";
  ASSERT_OK_AND_ASSIGN(OpenAiRequest many, ParseOpenAiRequest(kCompletions, sixteen + "]}"));
  EXPECT_EQ(many.prompts[0].sampling().stop_size(), kMaxStopStrings);
  const std::string longest(kMaxStopStringBytes, 'z');
  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest big,
      ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":"p","stop":")" + longest + "\"}"));
  EXPECT_THAT(big.prompts[0].sampling().stop(), ::testing::ElementsAre(longest));
}

TEST(OpenAiRequestTest, NullMeansAbsentAndUnknownFieldsAreIgnored) {
  ASSERT_OK_AND_ASSIGN(OpenAiRequest r, ParseOpenAiRequest(kChat, R"({
      "model": "m", "messages": [{"role": "user", "content": "x", "name": null}],
      "temperature": null, "top_p": null, "seed": null, "max_tokens": null, "stop": null,
      "stop_token_ids": null, "logit_bias": null, "n": null, "stream": null,
      "stream_options": null, "user": null, "cache_salt": null, "priority": null,
      "tools": null, "tool_choice": null, "functions": null, "function_call": null,
      "response_format": null, "echo": null, "chat_template_kwargs": null,
      "parallel_tool_calls": true, "metadata": {"a": "b"}, "store": false,
      "prompt": 5, "suffix": "x", "best_of": 4, "service_tier": "auto"})"));
  EXPECT_THAT(r.prompts[0], EqualsProto(R"pb(
                model: "m"
                chat { messages { role: "user" content: "x" } }
                sampling {})pb"));
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.stream);
}

TEST(OpenAiRequestTest, HarmlessValuesOfUnsupportedFieldsAreAccepted) {
  ASSERT_OK(ParseOpenAiRequest(kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],
      "tool_choice": "none", "response_format": {"type": "text"}, "echo": false})"));
  ASSERT_OK(ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":"p", "suffix": "",
      "echo": false, "best_of": 1, "response_format": {"type": "text"}})"));
  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest same_n,
      ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":"p","best_of":3,"n":3})"));
  EXPECT_EQ(same_n.n, 3);
  // Chat-only fields mean nothing to completions and are ignored there, and vice versa.
  ASSERT_OK(ParseOpenAiRequest(kCompletions, R"({"model":"m","prompt":"p","tools":[{}],
      "max_completion_tokens": 0, "top_logprobs": 99})"));
  ASSERT_OK(ParseOpenAiRequest(kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],
      "suffix": "s", "best_of": 7})"));
}

TEST(OpenAiRequestTest, StreamOptionsWithoutIncludeUsage) {
  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest r,
      ParseOpenAiRequest(
          kCompletions,
          R"({"model":"m","prompt":"p","stream":true,"stream_options":{"continuous_usage_stats":true}})"));
  EXPECT_TRUE(r.stream);
  EXPECT_FALSE(r.include_usage);
}

TEST(OpenAiRequestTest, NonAsciiTextSurvives) {
  ASSERT_OK_AND_ASSIGN(
      OpenAiRequest r,
      ParseOpenAiRequest(
          kChat,
          "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"h\xC3\xA9 \\u20ac "
          "\\ud83d\\ude00 \xF0\x9F\x98\x80\"}],\"stop\":\"\xE2\x82\xAC\"}"));
  EXPECT_EQ(r.prompts[0].chat().messages(0).content(),
            "h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF0\x9F\x98\x80");
  EXPECT_THAT(r.prompts[0].sampling().stop(), ::testing::ElementsAre("\xE2\x82\xAC"));
}

}  // namespace
}  // namespace shoal::router
