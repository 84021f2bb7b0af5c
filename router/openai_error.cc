#include "router/openai_error.h"

#include <utility>

#include "absl/strings/cord.h"
#include "common/status_util.h"
#include "nlohmann/json.hpp"

namespace shoal::router {
namespace {

// The status payload that carries the blamed request field.
constexpr char kParamPayloadUrl[] = "shoal.dev/openai-param";

// vLLM's (and openai-python's) class names for each HTTP status.
const char* ErrorType(int http_status) {
  switch (http_status) {
    case 400:
      return "BadRequestError";
    case 401:
      return "AuthenticationError";
    case 403:
      return "PermissionDeniedError";
    case 404:
      return "NotFoundError";
    case 405:
      return "MethodNotAllowedError";
    case 408:
      return "RequestTimeoutError";
    case 409:
      return "ConflictError";
    case 413:
      return "RequestTooLargeError";
    case 422:
      return "UnprocessableEntityError";
    case 429:
      return "RateLimitError";
    case 431:
      return "RequestHeaderFieldsTooLargeError";
    case 500:
      return "InternalServerError";
    case 501:
      return "NotImplementedError";
    case 503:
      return "ServiceUnavailableError";
    case 504:
      return "TimeoutError";
    default:
      return http_status >= 400 && http_status < 500 ? "BadRequestError" : "InternalServerError";
  }
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

nlohmann::json ErrorObject(int http_status, std::string_view message,
                           const std::optional<std::string>& param) {
  nlohmann::json error = nlohmann::json::object();
  error["message"] = std::string(message);
  error["type"] = ErrorType(http_status);
  error["param"] = param ? nlohmann::json(*param) : nlohmann::json(nullptr);
  error["code"] = http_status;
  return error;
}

// Messages may quote request bytes; never let a bad byte turn into an exception.
std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string BodyOf(nlohmann::json error) {
  nlohmann::json body = nlohmann::json::object();
  body["error"] = std::move(error);
  return Dump(body);
}

std::string MessageFor(const absl::Status& status) {
  if (status.ok()) return "internal error: an OK status was reported as an error";
  return MessageOf(status);
}

std::optional<int> RetryAfterFor(int http_status, int seconds) {
  if (http_status == 429) return seconds > 0 ? seconds : 1;
  if (http_status == 503 && seconds > 0) return seconds;
  return std::nullopt;
}

}  // namespace

absl::Status InvalidParam(std::string_view param, std::string_view message) {
  absl::Status status =
      absl::InvalidArgumentError(absl::string_view(message.data(), message.size()));
  status.SetPayload(kParamPayloadUrl, absl::Cord(absl::string_view(param.data(), param.size())));
  return status;
}

std::optional<std::string> ParamOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kParamPayloadUrl);  // absl::optional<absl::Cord>
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

OpenAiError ToOpenAiError(const absl::Status& status) {
  OpenAiError error;
  error.http_status = HttpStatusOf(status.code());
  error.body = BodyOf(ErrorObject(error.http_status, MessageFor(status), ParamOf(status)));
  error.retry_after_seconds = RetryAfterFor(error.http_status, RetryAfterSeconds(status));
  return error;
}

OpenAiError MakeOpenAiError(int http_status, std::string_view message,
                            std::optional<std::string> param) {
  OpenAiError error;
  error.http_status = http_status;
  error.body = BodyOf(ErrorObject(http_status, message, param));
  error.retry_after_seconds = RetryAfterFor(http_status, 0);
  return error;
}

std::string OpenAiErrorObjectJson(const absl::Status& status) {
  const int http_status = HttpStatusOf(status.code());
  return Dump(ErrorObject(http_status, MessageFor(status), ParamOf(status)));
}

}  // namespace shoal::router
