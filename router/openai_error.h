// The one mapping from absl::Status to the OpenAI error shape and HTTP status
// (REFERENCE.md §9.1.5; CONVENTIONS.md: TGI maps one error type to HTTP codes in exactly
// one place). Errors carry the request field they blame as a status payload, so that
// parsing code can say which `param` was wrong without knowing about HTTP.
#ifndef SHOAL_ROUTER_OPENAI_ERROR_H_
#define SHOAL_ROUTER_OPENAI_ERROR_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace shoal::router {

// InvalidArgument naming the request field at fault (`param` in the error body).
absl::Status InvalidParam(std::string_view param, std::string_view message);
// The field a status blames, if any.
std::optional<std::string> ParamOf(const absl::Status& status);

struct OpenAiError {
  int http_status = 500;
  std::string body;                        // {"error": {"message", "type", "param", "code"}}
  std::optional<int> retry_after_seconds;  // for a Retry-After header (429, 503)
};

// InvalidArgument/OutOfRange/FailedPrecondition/AlreadyExists 400, Unauthenticated
// 401, PermissionDenied 403, NotFound 404, ResourceExhausted 429 (with the retry-after
// of common/status_util.h), Unimplemented 501, Unavailable 503, DeadlineExceeded 504,
// anything else 500. A 413 is built by the HTTP layer (MakeOpenAiError).
OpenAiError ToOpenAiError(const absl::Status& status);

// An error body for a status the HTTP layer decides itself (413, 431, 405, 404 route).
OpenAiError MakeOpenAiError(int http_status, std::string_view message,
                            std::optional<std::string> param = std::nullopt);

// The `error` object alone (the mid-stream SSE error event carries it).
std::string OpenAiErrorObjectJson(const absl::Status& status);

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_OPENAI_ERROR_H_
