#include "router/openai_routes.h"

#include "absl/time/clock.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "prometheus/text_serializer.h"
#include "router/openai_completion.h"
#include "router/openai_error.h"
#include "router/openai_json_fields.h"
#include "router/openai_request.h"
#include "router/openai_response.h"

namespace shoal::router {
namespace {

HandlerResult ErrorResult(const OpenAiError& error) {
  HandlerResult result;
  result.response = {.status = error.http_status, .body = error.body};
  if (error.retry_after_seconds) {
    result.response.headers.emplace_back("Retry-After", std::to_string(*error.retry_after_seconds));
  }
  return result;
}

HandlerResult ErrorResult(const absl::Status& status) { return ErrorResult(ToOpenAiError(status)); }

HandlerResult JsonResult(const Json& json) {
  HandlerResult result;
  result.response.body = DumpJson(json);
  return result;
}

HandlerResult TextResult(int status, std::string body) {
  HandlerResult result;
  result.response = {
      .status = status, .content_type = "text/plain; charset=utf-8", .body = std::move(body)};
  return result;
}

using internal::ParseJsonObject;
using BodyJson = internal::Json;

// The optional "model" field of the body's object: checked when present.
absl::Status CheckBodyModel(const BodyJson& body, const RouterContext& context) {
  if (!body.contains("model") || body["model"].is_null()) return absl::OkStatus();
  if (!body["model"].is_string()) return InvalidParam("model", "model must be a string");
  return context.CheckModel(body["model"].get<std::string>());
}

}  // namespace

HandlerResult OpenAiRoutes::Handle(const HttpRequest& request) {
  const std::string& path = request.path;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  // The API needs a key when there is a key file; the operational routes never do.
  const bool api = path.starts_with("/v1/") || path == "/tokenize" || path == "/detokenize";
  TenantRef tenant;
  if (api) {
    absl::StatusOr<TenantRef> authenticated =
        context_.tenants().Authenticate(ApiKeyFrom(request.authorization, request.x_api_key));
    if (!authenticated.ok()) return ErrorResult(authenticated.status());
    tenant = std::move(*authenticated);
  }
  if (path == "/v1/chat/completions" && post) {
    return Completion(request, OpenAiEndpoint::kChatCompletions, std::move(tenant));
  }
  if (path == "/v1/completions" && post) {
    return Completion(request, OpenAiEndpoint::kCompletions, std::move(tenant));
  }
  if (path == "/v1/models" && get) return Models();
  if (path == "/tokenize" && post) return Tokenize(request);
  if (path == "/detokenize" && post) return Detokenize(request);
  if (path == "/health" && get) {
    return context_.healthy() ? TextResult(200, "ok\n")
                              : TextResult(503, "unhealthy: restart this process\n");
  }
  if (path == "/ready" && get) {
    if (context_.draining()) return TextResult(503, "draining\n");
    return context_.ready() ? TextResult(200, "ready\n")
                            : TextResult(503, "no scheduler replica is ready\n");
  }
  if (path == "/metrics" && get) return Metrics();
  for (const char* known : {"/v1/chat/completions", "/v1/completions", "/v1/models", "/tokenize",
                            "/detokenize", "/health", "/ready", "/metrics"}) {
    if (path == known) {
      return ErrorResult(
          MakeOpenAiError(405, fmt::format("{} does not accept {}", path, request.method)));
    }
  }
  return ErrorResult(MakeOpenAiError(404, fmt::format("no route for {} {}", request.method, path)));
}

HandlerResult OpenAiRoutes::Completion(const HttpRequest& http, OpenAiEndpoint endpoint,
                                       TenantRef tenant) {
  const absl::Time arrival = absl::Now();
  absl::StatusOr<OpenAiRequest> request = ParseOpenAiRequest(endpoint, http.body);
  if (!request.ok()) return ErrorResult(request.status());
  const std::string model_name = request->prompts.front().model();
  if (absl::Status status = context_.CheckModel(model_name); !status.ok()) {
    return ErrorResult(status);
  }
  const int64_t max_model_len = context_.max_model_len();
  std::vector<PreparedPrompt> prepared;
  TenantDemand demand;
  for (v1::GenerateRequest& prompt : request->prompts) {
    // OpenAI's completions default: 16 tokens; chat: up to the context.
    if (endpoint == OpenAiEndpoint::kCompletions && !prompt.sampling().has_max_tokens()) {
      prompt.mutable_sampling()->set_max_tokens(16);
    }
    absl::StatusOr<PreparedPrompt> ready = context_.model().Prepare(prompt, max_model_len);
    if (!ready.ok()) return ErrorResult(ready.status());
    if (absl::Status status = context_.tenants().CapMaxTokens(
            *tenant, prompt.sampling().has_max_tokens(), ready->sampling);
        !status.ok()) {
      return ErrorResult(status);
    }
    demand.prompt_tokens += static_cast<int64_t>(ready->prompt_token_ids.size());
    demand.max_tokens += int64_t{ready->sampling.max_tokens()} * request->n;
    prepared.push_back(std::move(*ready));
  }
  const v1::GenerateRequest& common = request->prompts.front();
  if (common.has_priority()) demand.priority = common.priority();
  demand.client_cache_salt = common.cache_salt();
  if (absl::Status status = context_.CheckAccepting(); !status.ok()) return ErrorResult(status);
  absl::StatusOr<TenantAdmission> admitted = context_.tenants().Admit(std::move(tenant), demand);
  if (!admitted.ok()) return ErrorResult(admitted.status());

  const bool chat = endpoint == OpenAiEndpoint::kChatCompletions;
  CompletionSetup setup{
      .header = {.endpoint = endpoint,
                 .id = context_.NewPublicId(chat ? "chatcmpl-" : "cmpl-"),
                 .created = absl::ToUnixSeconds(arrival),
                 .model = context_.model().name()},  // the first served name, like vLLM
      .internal_id_prefix = context_.NewInternalPrefix(),
      .arrival_unix_nanos = absl::ToUnixNanos(arrival),
      .on_inflight_change = context_.on_inflight_change(),
      .tenant = std::move(*admitted)};
  HandlerResult result;
  result.info = {.request_id = setup.header.id, .model = setup.header.model};
  result.deferred =
      std::make_unique<OpenAiCompletion>(*request, std::move(prepared), context_, std::move(setup));
  return result;
}

HandlerResult OpenAiRoutes::Models() {
  Json data = Json::array();
  const ServedModel& model = context_.model();
  for (const std::string& name : model.names()) {
    data.push_back({{"id", name},
                    {"object", "model"},
                    {"created", model.created_unix_seconds()},
                    {"owned_by", "shoal"},
                    {"root", model.name()},
                    {"parent", nullptr},
                    {"max_model_len", context_.max_model_len()}});
  }
  return JsonResult({{"object", "list"}, {"data", std::move(data)}});
}

HandlerResult OpenAiRoutes::Tokenize(const HttpRequest& request) {
  absl::StatusOr<BodyJson> body = ParseJsonObject(request.body);
  if (!body.ok()) return ErrorResult(body.status());
  if (absl::Status status = CheckBodyModel(*body, context_); !status.ok()) {
    return ErrorResult(status);
  }
  const model::Tokenizer& tokenizer = context_.model().tokenizer();
  std::vector<int32_t> ids;
  if (body->contains("messages")) {
    // The chat form: rendered through the template like a chat completion's prompt.
    BodyJson chat = *body;
    if (!chat.contains("model") || chat["model"].is_null()) chat["model"] = context_.model().name();
    absl::StatusOr<OpenAiRequest> parsed =
        ParseOpenAiRequest(OpenAiEndpoint::kChatCompletions,
                           chat.dump(-1, ' ', false, BodyJson::error_handler_t::replace));
    if (!parsed.ok()) return ErrorResult(parsed.status());
    absl::StatusOr<std::vector<int32_t>> encoded =
        context_.model().EncodeChat(parsed->prompts.front().chat());
    if (!encoded.ok()) return ErrorResult(encoded.status());
    ids = std::move(*encoded);
  } else {
    const auto prompt = body->find("prompt");
    if (prompt == body->end() || !prompt->is_string()) {
      return ErrorResult(InvalidParam("prompt", "prompt (a string) or messages is required"));
    }
    bool add_special = true;
    if (const auto it = body->find("add_special_tokens"); it != body->end() && !it->is_null()) {
      if (!it->is_boolean()) {
        return ErrorResult(
            InvalidParam("add_special_tokens", "add_special_tokens must be a boolean"));
      }
      add_special = it->get<bool>();
    }
    ids = tokenizer.Encode(prompt->get<std::string>(),
                           {.add_special = add_special, .parse_special = true});
  }
  Json pieces = Json::array();
  for (int32_t id : ids) {
    const absl::StatusOr<std::string_view> piece = tokenizer.TokenToPiece(id, true);
    pieces.push_back(piece.ok() ? std::string(*piece) : std::string());
  }
  return JsonResult({{"count", ids.size()},
                     {"max_model_len", context_.max_model_len()},
                     {"tokens", ids},
                     {"token_strs", std::move(pieces)}});
}

HandlerResult OpenAiRoutes::Detokenize(const HttpRequest& request) {
  absl::StatusOr<BodyJson> body = ParseJsonObject(request.body);
  if (!body.ok()) return ErrorResult(body.status());
  if (absl::Status status = CheckBodyModel(*body, context_); !status.ok()) {
    return ErrorResult(status);
  }
  const auto tokens = body->find("tokens");
  if (tokens == body->end() || !tokens->is_array()) {
    return ErrorResult(InvalidParam("tokens", "tokens (an array of token ids) is required"));
  }
  std::vector<int32_t> ids;
  for (const BodyJson& token : *tokens) {
    if (!token.is_number_integer() || token.get<int64_t>() < 0 ||
        token.get<int64_t>() >= context_.model().tokenizer().vocab_size()) {
      return ErrorResult(InvalidParam("tokens", "every token must be an id in the vocabulary"));
    }
    ids.push_back(token.get<int32_t>());
  }
  absl::StatusOr<std::string> text = context_.model().tokenizer().Decode(ids);
  if (!text.ok()) return ErrorResult(InvalidParam("tokens", MessageOf(text.status())));
  return JsonResult({{"prompt", *text}});
}

HandlerResult OpenAiRoutes::Metrics() {
  HandlerResult result;
  result.response = {.content_type = "text/plain; version=0.0.4; charset=utf-8",
                     .body = prometheus::TextSerializer().Serialize(context_.registry().Collect())};
  return result;
}

}  // namespace shoal::router
