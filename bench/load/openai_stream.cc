#include "bench/load/openai_stream.h"

#include <utility>

#include "nlohmann/json.hpp"

namespace shoal::bench {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxQuotedBytes = 200;  // of a body or an event quoted in an error

// The member `key` of `object`, or null when `object` is not an object or lacks it
// (nlohmann's operator[] on a const object asserts instead).
const Json* Find(const Json* object, const char* key) {
  if (object == nullptr || !object->is_object()) return nullptr;
  const auto it = object->find(key);
  return it == object->end() ? nullptr : &*it;
}

std::string_view StringOf(const Json* value) {
  return value != nullptr && value->is_string()
             ? std::string_view(value->get_ref<const std::string&>())
             : std::string_view();
}

int64_t IntOr(const Json* value, int64_t fallback) {
  return value != nullptr && value->is_number_integer() ? value->get<int64_t>() : fallback;
}

std::string Cut(std::string_view text) { return std::string(text.substr(0, kMaxQuotedBytes)); }

// What an error value says: its message, itself when a string, else its JSON.
std::string MessageOf(const Json& error) {
  if (error.is_string()) return error.get<std::string>();
  if (const std::string_view message = StringOf(Find(&error, "message")); !message.empty()) {
    return std::string(message);
  }
  return Cut(error.dump(-1, ' ', false, Json::error_handler_t::replace));
}

bool Truthy(const Json& value) {
  if (value.is_null()) return false;
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_string() || value.is_object() || value.is_array()) return !value.empty();
  return true;  // a number: the SDK's test is Python truthiness, close enough
}

bool IsTokenArrival(const Json& choice, Api api) {
  const Json* finish = Find(&choice, "finish_reason");
  const bool finished = finish != nullptr && !finish->is_null();
  if (api == Api::kCompletions) return !StringOf(Find(&choice, "text")).empty() || !finished;
  const Json* delta = Find(&choice, "delta");
  if (!StringOf(Find(delta, "content")).empty() ||
      !StringOf(Find(delta, "reasoning_content")).empty() ||
      !StringOf(Find(delta, "reasoning")).empty()) {
    return true;
  }
  const bool role_chunk = Find(delta, "role") != nullptr;
  return !role_chunk && !finished;
}

}  // namespace

std::string StreamingRequestBody(const RequestSpec& spec, Api api, const std::string& model) {
  Json body = Json::object();
  if (!model.empty()) body["model"] = model;
  if (api == Api::kChatCompletions) {
    Json messages = Json::array();
    for (const auto& [role, content] : spec.messages) {
      messages.push_back({{"role", role}, {"content", content}});
    }
    if (messages.empty()) messages.push_back({{"role", "user"}, {"content", spec.prompt_text}});
    body["messages"] = std::move(messages);
  } else if (!spec.prompt_token_ids.empty()) {
    body["prompt"] = spec.prompt_token_ids;
  } else {
    body["prompt"] = spec.prompt_text;
  }
  body["max_tokens"] = spec.max_tokens;
  body["n_predict"] = spec.max_tokens;
  body["temperature"] = 0;
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  body["ignore_eos"] = spec.ignore_eos;
  if (spec.min_tokens > 0) body["min_tokens"] = spec.min_tokens;
  // Replace, not throw, on a prompt text that is not valid UTF-8.
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string ErrorMessageOf(std::string_view body) {
  const Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (const Json* error = Find(&json, "error"); error != nullptr && Truthy(*error)) {
    return MessageOf(*error);
  }
  for (const char* key : {"message", "detail"}) {
    if (const Json* value = Find(&json, key); value != nullptr && Truthy(*value)) {
      return MessageOf(*value);
    }
  }
  return Cut(body);
}

StreamReader::Result StreamReader::OnEvent(std::string_view data, double now) {
  if (data.empty()) return Result::kMore;  // a named event without data (a ping)
  saw_event_ = true;
  // The SDK's test: [DONE] may be followed by anything.
  if (data.substr(0, 6) == "[DONE]") return Result::kDone;
  const Json chunk = Json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!chunk.is_object()) {
    error_ = "an event that is not a JSON object: " + Cut(data);
    return Result::kError;
  }
  if (const Json* error = Find(&chunk, "error"); error != nullptr && Truthy(*error)) {
    error_code_ = static_cast<int>(IntOr(Find(error, "code"), 0));
    error_ = MessageOf(*error);
    return Result::kError;
  }
  if (const Json* usage = Find(&chunk, "usage"); usage != nullptr && usage->is_object()) {
    record_->prompt_tokens = IntOr(Find(usage, "prompt_tokens"), record_->prompt_tokens);
    if (const Json* completion = Find(usage, "completion_tokens");
        completion != nullptr && completion->is_number_integer()) {
      record_->output_tokens = completion->get<int64_t>();
      saw_usage_ = true;
    }
    record_->cached_prompt_tokens = IntOr(
        Find(Find(usage, "prompt_tokens_details"), "cached_tokens"), record_->cached_prompt_tokens);
  }
  const Json* choices = Find(&chunk, "choices");
  if (choices != nullptr && choices->is_array() && !choices->empty() &&
      IsTokenArrival((*choices)[0], api_)) {
    if (record_->first_token < 0) record_->first_token = now;
    record_->token_times.push_back(now);
    ++arrivals_;
  }
  return Result::kMore;
}

void StreamReader::Finish() {
  if (!saw_usage_) record_->output_tokens = arrivals_;
}

}  // namespace shoal::bench
