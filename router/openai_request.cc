#include "router/openai_request.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "router/openai_chat_messages.h"
#include "router/openai_error.h"
#include "router/openai_json_fields.h"

namespace shoal::router {
namespace {

using internal::BoolOf;
using internal::FindField;
using internal::IntOf;
using internal::Json;
using internal::MustBe;
using internal::NumberIn;
using internal::StringOf;

constexpr int kMaxLogitBiasEntries = 1024;
constexpr size_t kMaxUserBytes = 256;
constexpr size_t kMaxCacheSaltBytes = 1024;
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

absl::Status NotSupported(std::string_view field) {
  return InvalidParam(field, std::string(field) + " is not supported yet");
}

// Fields Shoal does not implement yet: refused rather than silently ignored.
absl::Status CheckUnsupported(const Json& body, OpenAiEndpoint endpoint) {
  if (endpoint == OpenAiEndpoint::kChatCompletions) {
    for (const char* field : {"tools", "functions", "function_call"}) {
      if (FindField(body, field) != nullptr) return NotSupported(field);
    }
    if (const Json* choice = FindField(body, "tool_choice");
        choice != nullptr && *choice != Json("none")) {
      return NotSupported("tool_choice");
    }
  } else {
    if (const Json* suffix = FindField(body, "suffix"); suffix != nullptr && *suffix != Json("")) {
      return NotSupported("suffix");
    }
    if (const Json* best_of = FindField(body, "best_of"); best_of != nullptr) {
      // best_of == n (every candidate returned) is plain sampling; more is not.
      SHOAL_ASSIGN_OR_RETURN(int64_t value, IntOf(*best_of, "best_of", 0, kInt64Max));
      int64_t n = 1;
      if (const Json* n_value = FindField(body, "n"); n_value != nullptr) {
        SHOAL_ASSIGN_OR_RETURN(n, IntOf(*n_value, "n", 1, kMaxChoices));
      }
      if (value > 1 && value != n) return NotSupported("best_of");
    }
  }
  if (const Json* format = FindField(body, "response_format");
      format != nullptr && *format != Json{{"type", "text"}}) {
    return NotSupported("response_format");
  }
  if (const Json* echo = FindField(body, "echo"); echo != nullptr) {
    SHOAL_ASSIGN_OR_RETURN(bool value, BoolOf(*echo, "echo"));
    if (value) return NotSupported("echo");
  }
  return absl::OkStatus();
}

// Reads an optional field with `read` into `set` when it is present and not null.
template <typename Read, typename Set>
absl::Status Optional(const Json& body, const char* name, Read read, Set set) {
  const Json* value = FindField(body, name);
  if (value == nullptr) return absl::OkStatus();
  auto result = read(*value, name);
  if (!result.ok()) return result.status();
  set(*std::move(result));
  return absl::OkStatus();
}

auto IntIn(int64_t min, int64_t max) {
  return [min, max](const Json& value, std::string_view param) {
    return IntOf(value, param, min, max);
  };
}

auto NumberInRange(double lo, double hi, bool lo_open = false) {
  return [=](const Json& value, std::string_view param) {
    return NumberIn(value, param, {.lo = lo, .hi = hi, .lo_open = lo_open});
  };
}

absl::Status ParseStopString(const Json& value, std::string_view param,
                             v1::SamplingParams* sampling) {
  SHOAL_ASSIGN_OR_RETURN(std::string stop, StringOf(value, param));
  if (stop.empty()) return InvalidParam("stop", std::string(param) + " must not be empty");
  if (stop.size() > static_cast<size_t>(kMaxStopStringBytes)) {
    return InvalidParam("stop", absl::StrCat(std::string(param), " must be at most ",
                                             kMaxStopStringBytes, " bytes"));
  }
  sampling->add_stop(std::move(stop));
  return absl::OkStatus();
}

absl::Status ParseStop(const Json& body, v1::SamplingParams* sampling) {
  const Json* stop = FindField(body, "stop");
  if (stop == nullptr) return absl::OkStatus();
  if (stop->is_string()) return ParseStopString(*stop, "stop", sampling);
  if (!stop->is_array()) return MustBe("stop", "a string or an array of strings");
  if (stop->size() > static_cast<size_t>(kMaxStopStrings)) {
    return MustBe("stop", absl::StrCat("at most ", kMaxStopStrings, " strings"));
  }
  for (size_t i = 0; i < stop->size(); ++i) {
    const Json& item = (*stop)[i];
    if (!item.is_string()) return MustBe("stop", "a string or an array of strings");
    SHOAL_RETURN_IF_ERROR(ParseStopString(item, absl::StrCat("stop[", i, "]"), sampling));
  }
  return absl::OkStatus();
}

absl::Status ParseStopTokenIds(const Json& body, v1::SamplingParams* sampling) {
  const Json* ids = FindField(body, "stop_token_ids");
  if (ids == nullptr) return absl::OkStatus();
  if (!ids->is_array()) return MustBe("stop_token_ids", "an array of token ids");
  for (const Json& id : *ids) {
    SHOAL_ASSIGN_OR_RETURN(int64_t value, IntOf(id, "stop_token_ids", 0, kInt32Max));
    sampling->add_stop_token_ids(static_cast<int32_t>(value));
  }
  return absl::OkStatus();
}

// A decimal token id: digits only, below 2^31.
bool ParseTokenId(const std::string& text, int32_t* id) {
  if (text.empty() || text.size() > 10) return false;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > kInt32Max) return false;
  *id = static_cast<int32_t>(value);
  return true;
}

absl::Status ParseLogitBias(const Json& body, v1::SamplingParams* sampling) {
  const Json* bias = FindField(body, "logit_bias");
  if (bias == nullptr) return absl::OkStatus();
  if (!bias->is_object()) return MustBe("logit_bias", "an object");
  if (bias->size() > static_cast<size_t>(kMaxLogitBiasEntries)) {
    return MustBe("logit_bias", absl::StrCat("at most ", kMaxLogitBiasEntries, " entries"));
  }
  for (const auto& [key, value] : bias->items()) {
    int32_t id = 0;
    if (!ParseTokenId(key, &id)) {
      return InvalidParam("logit_bias",
                          absl::StrCat("logit_bias keys must be token ids, got \"", key, "\""));
    }
    SHOAL_ASSIGN_OR_RETURN(double b, NumberIn(value, "logit_bias", {.lo = -100, .hi = 100}));
    (*sampling->mutable_logit_bias())[id] = static_cast<float>(b);
  }
  return absl::OkStatus();
}

absl::Status ParseLogprobs(const Json& body, OpenAiEndpoint endpoint,
                           v1::SamplingParams* sampling) {
  const Json* logprobs = FindField(body, "logprobs");
  if (endpoint == OpenAiEndpoint::kCompletions) {
    if (logprobs == nullptr) return absl::OkStatus();
    SHOAL_ASSIGN_OR_RETURN(int64_t k, IntOf(*logprobs, "logprobs", 0, kMaxCompletionLogprobs));
    sampling->set_logprobs(static_cast<int32_t>(k));
    return absl::OkStatus();
  }
  bool wanted = false;
  if (logprobs != nullptr) {
    SHOAL_ASSIGN_OR_RETURN(wanted, BoolOf(*logprobs, "logprobs"));
  }
  int64_t top = 0;
  if (const Json* top_logprobs = FindField(body, "top_logprobs"); top_logprobs != nullptr) {
    SHOAL_ASSIGN_OR_RETURN(top, IntOf(*top_logprobs, "top_logprobs", 0, kMaxChatTopLogprobs));
    if (!wanted) return InvalidParam("top_logprobs", "top_logprobs requires logprobs to be true");
  }
  if (wanted) sampling->set_logprobs(static_cast<int32_t>(top));
  return absl::OkStatus();
}

absl::Status ParseLengths(const Json& body, OpenAiEndpoint endpoint, v1::SamplingParams* sampling) {
  const auto set_max = [&](int64_t v) { sampling->set_max_tokens(static_cast<int32_t>(v)); };
  SHOAL_RETURN_IF_ERROR(Optional(body, "max_tokens", IntIn(1, kInt32Max), set_max));
  if (endpoint == OpenAiEndpoint::kChatCompletions) {
    SHOAL_RETURN_IF_ERROR(Optional(body, "max_completion_tokens", IntIn(1, kInt32Max), set_max));
  }
  SHOAL_RETURN_IF_ERROR(Optional(body, "min_tokens", IntIn(0, kInt32Max), [&](int64_t v) {
    sampling->set_min_tokens(static_cast<int32_t>(v));
  }));
  if (sampling->has_max_tokens() && sampling->min_tokens() > sampling->max_tokens()) {
    return InvalidParam(
        "min_tokens", absl::StrCat("min_tokens (", sampling->min_tokens(),
                                   ") must be at most max_tokens (", sampling->max_tokens(), ")"));
  }
  return absl::OkStatus();
}

absl::Status ParseSampling(const Json& body, OpenAiEndpoint endpoint, v1::SamplingParams* s) {
  const auto as_float = [](auto setter) {
    return [setter](double v) { setter(static_cast<float>(v)); };
  };
  SHOAL_RETURN_IF_ERROR(Optional(body, "temperature", NumberInRange(0, 2),
                                 as_float([s](float v) { s->set_temperature(v); })));
  SHOAL_RETURN_IF_ERROR(Optional(body, "top_p", NumberInRange(0, 1, /*lo_open=*/true),
                                 as_float([s](float v) { s->set_top_p(v); })));
  SHOAL_RETURN_IF_ERROR(Optional(body, "top_k", IntIn(-1, kInt32Max), [s](int64_t v) {
    if (v > 0) s->set_top_k(static_cast<int32_t>(v));  // -1 and 0 mean off
  }));
  SHOAL_RETURN_IF_ERROR(
      Optional(body, "min_p", NumberInRange(0, 1), as_float([s](float v) { s->set_min_p(v); })));
  SHOAL_RETURN_IF_ERROR(Optional(body, "presence_penalty", NumberInRange(-2, 2),
                                 as_float([s](float v) { s->set_presence_penalty(v); })));
  SHOAL_RETURN_IF_ERROR(Optional(body, "frequency_penalty", NumberInRange(-2, 2),
                                 as_float([s](float v) { s->set_frequency_penalty(v); })));
  SHOAL_RETURN_IF_ERROR(Optional(body, "repetition_penalty", NumberInRange(0, 10, true),
                                 as_float([s](float v) { s->set_repetition_penalty(v); })));
  SHOAL_RETURN_IF_ERROR(Optional(body, "seed", IntIn(kInt64Min, kInt64Max),
                                 [s](int64_t v) { s->set_seed(static_cast<uint64_t>(v)); }));
  SHOAL_RETURN_IF_ERROR(ParseLengths(body, endpoint, s));
  SHOAL_RETURN_IF_ERROR(ParseStop(body, s));
  SHOAL_RETURN_IF_ERROR(ParseStopTokenIds(body, s));
  SHOAL_RETURN_IF_ERROR(
      Optional(body, "ignore_eos", BoolOf, [s](bool v) { s->set_ignore_eos(v); }));
  SHOAL_RETURN_IF_ERROR(Optional(body, "include_stop_str_in_output", BoolOf,
                                 [s](bool v) { s->set_include_stop_str_in_output(v); }));
  SHOAL_RETURN_IF_ERROR(ParseLogitBias(body, s));
  return ParseLogprobs(body, endpoint, s);
}

// user, cache_salt and priority (into `common`), n, stream, stream_options and
// skip_special_tokens (into `request`).
absl::Status ParseOptions(const Json& body, OpenAiRequest* request, v1::GenerateRequest* common) {
  SHOAL_RETURN_IF_ERROR(Optional(body, "n", IntIn(1, kMaxChoices),
                                 [&](int64_t v) { request->n = static_cast<int>(v); }));
  SHOAL_RETURN_IF_ERROR(Optional(body, "stream", BoolOf, [&](bool v) { request->stream = v; }));
  if (const Json* options = FindField(body, "stream_options"); options != nullptr) {
    if (!request->stream) {
      return InvalidParam("stream_options", "stream_options is only allowed when stream is true");
    }
    if (!options->is_object()) return MustBe("stream_options", "an object");
    if (const Json* usage = FindField(*options, "include_usage"); usage != nullptr) {
      SHOAL_ASSIGN_OR_RETURN(request->include_usage,
                             BoolOf(*usage, "stream_options.include_usage"));
    }
  }
  SHOAL_RETURN_IF_ERROR(Optional(body, "skip_special_tokens", BoolOf,
                                 [&](bool v) { request->skip_special_tokens = v; }));
  if (const Json* user = FindField(body, "user"); user != nullptr) {
    SHOAL_ASSIGN_OR_RETURN(*common->mutable_user(), StringOf(*user, "user"));
    if (common->user().size() > kMaxUserBytes) {
      return MustBe("user", absl::StrCat("at most ", kMaxUserBytes, " bytes"));
    }
  }
  if (const Json* salt = FindField(body, "cache_salt"); salt != nullptr) {
    SHOAL_ASSIGN_OR_RETURN(*common->mutable_cache_salt(), StringOf(*salt, "cache_salt"));
    if (common->cache_salt().empty() || common->cache_salt().size() > kMaxCacheSaltBytes) {
      return MustBe("cache_salt", absl::StrCat("a string of 1 to ", kMaxCacheSaltBytes, " bytes"));
    }
  }
  return Optional(body, "priority", IntIn(kInt32Min, kInt32Max),
                  [&](int64_t v) { common->set_priority(static_cast<int32_t>(v)); });
}

absl::Status ParseTokenIds(const Json& ids, std::string_view param, v1::TokenIds* out) {
  for (const Json& id : ids) {
    SHOAL_ASSIGN_OR_RETURN(int64_t value, IntOf(id, param, 0, kInt32Max));
    out->add_ids(static_cast<int32_t>(value));
  }
  return absl::OkStatus();
}

// `prompt`: a string, strings, token ids, or lists of token ids; one request each.
absl::Status ParsePrompts(const Json& body, const v1::GenerateRequest& common,
                          std::vector<v1::GenerateRequest>* prompts) {
  const Json* prompt = FindField(body, "prompt");
  if (prompt == nullptr) return InvalidParam("prompt", "prompt is required");
  constexpr std::string_view kShape =
      "a string, an array of strings, an array of token ids or an array of token id arrays";
  if (prompt->is_string()) {
    prompts->push_back(common);
    prompts->back().set_prompt(prompt->get<std::string>());
    return absl::OkStatus();
  }
  if (!prompt->is_array()) return MustBe("prompt", kShape);
  if (prompt->empty()) return MustBe("prompt", "a non-empty array");
  const Json& first = prompt->front();
  if (first.is_number()) {  // one tokenized prompt
    prompts->push_back(common);
    return ParseTokenIds(*prompt, "prompt", prompts->back().mutable_prompt_token_ids());
  }
  if (prompt->size() > static_cast<size_t>(kMaxPrompts)) {
    return MustBe("prompt", absl::StrCat("at most ", kMaxPrompts, " prompts"));
  }
  for (const Json& item : *prompt) {
    if (first.is_string() && item.is_string()) {
      prompts->push_back(common);
      prompts->back().set_prompt(item.get<std::string>());
    } else if (first.is_array() && item.is_array()) {
      if (item.empty()) return MustBe("prompt", "made of non-empty token id arrays");
      prompts->push_back(common);
      SHOAL_RETURN_IF_ERROR(
          ParseTokenIds(item, "prompt", prompts->back().mutable_prompt_token_ids()));
    } else {
      return MustBe("prompt", kShape);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OpenAiRequest> ParseOpenAiRequest(OpenAiEndpoint endpoint, std::string_view body) {
  SHOAL_ASSIGN_OR_RETURN(Json json, internal::ParseJsonObject(body));
  OpenAiRequest request;
  request.endpoint = endpoint;
  v1::GenerateRequest common;
  const Json* model = FindField(json, "model");
  if (model == nullptr) return InvalidParam("model", "model is required");
  SHOAL_ASSIGN_OR_RETURN(*common.mutable_model(), StringOf(*model, "model"));
  if (common.model().empty()) return MustBe("model", "a non-empty string");
  SHOAL_RETURN_IF_ERROR(CheckUnsupported(json, endpoint));
  SHOAL_RETURN_IF_ERROR(ParseSampling(json, endpoint, common.mutable_sampling()));
  SHOAL_RETURN_IF_ERROR(ParseOptions(json, &request, &common));
  if (endpoint == OpenAiEndpoint::kChatCompletions) {
    v1::ChatInput chat;
    SHOAL_RETURN_IF_ERROR(internal::ParseChatInput(json, &chat));
    request.prompts.push_back(std::move(common));
    *request.prompts.back().mutable_chat() = std::move(chat);
  } else {
    SHOAL_RETURN_IF_ERROR(ParsePrompts(json, common, &request.prompts));
  }
  return request;
}

}  // namespace shoal::router
