#include "router/openai_error.h"

#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace shoal::router {
namespace {

using ::nlohmann::json;

// The body parsed back, checked to have exactly the four keys of the OpenAI shape.
json ErrorOf(const std::string& body) {
  const json parsed = json::parse(body);
  EXPECT_TRUE(parsed.is_object());
  EXPECT_EQ(parsed.size(), 1u) << body;
  const json& error = parsed.at("error");
  EXPECT_EQ(error.size(), 4u) << body;
  for (const char* key : {"message", "type", "param", "code"}) {
    EXPECT_TRUE(error.contains(key)) << key << " missing in " << body;
  }
  return error;
}

TEST(OpenAiErrorTest, InvalidParamCarriesTheFieldIntoTheBody) {
  const absl::Status status = InvalidParam("temperature", "temperature must be in [0, 2]");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MessageOf(status), "temperature must be in [0, 2]");
  EXPECT_EQ(ParamOf(status), "temperature");

  const OpenAiError error = ToOpenAiError(status);
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.retry_after_seconds, std::nullopt);
  const json body = ErrorOf(error.body);
  EXPECT_EQ(body["message"], "temperature must be in [0, 2]");
  EXPECT_EQ(body["type"], "BadRequestError");
  EXPECT_EQ(body["param"], "temperature");
  EXPECT_EQ(body["code"], 400);
  EXPECT_TRUE(body["code"].is_number_integer());
}

TEST(OpenAiErrorTest, StatusWithoutParamHasNullParam) {
  const absl::Status status = absl::InvalidArgumentError("request body is not valid JSON");
  EXPECT_EQ(ParamOf(status), std::nullopt);
  const json body = ErrorOf(ToOpenAiError(status).body);
  EXPECT_TRUE(body["param"].is_null());
  EXPECT_EQ(body["message"], "request body is not valid JSON");
}

TEST(OpenAiErrorTest, MapsEveryStatusCodeToItsHttpStatusAndType) {
  const std::vector<std::tuple<absl::StatusCode, int, std::string>> cases = {
      {absl::StatusCode::kInvalidArgument, 400, "BadRequestError"},
      {absl::StatusCode::kOutOfRange, 400, "BadRequestError"},
      {absl::StatusCode::kFailedPrecondition, 400, "BadRequestError"},
      {absl::StatusCode::kAlreadyExists, 400, "BadRequestError"},
      {absl::StatusCode::kUnauthenticated, 401, "AuthenticationError"},
      {absl::StatusCode::kPermissionDenied, 403, "PermissionDeniedError"},
      {absl::StatusCode::kNotFound, 404, "NotFoundError"},
      {absl::StatusCode::kResourceExhausted, 429, "RateLimitError"},
      {absl::StatusCode::kUnimplemented, 501, "NotImplementedError"},
      {absl::StatusCode::kUnavailable, 503, "ServiceUnavailableError"},
      {absl::StatusCode::kDeadlineExceeded, 504, "TimeoutError"},
      {absl::StatusCode::kInternal, 500, "InternalServerError"},
      {absl::StatusCode::kUnknown, 500, "InternalServerError"},
      {absl::StatusCode::kDataLoss, 500, "InternalServerError"},
      {absl::StatusCode::kAborted, 500, "InternalServerError"},
      {absl::StatusCode::kCancelled, 500, "InternalServerError"},
  };
  for (const auto& [code, http_status, type] : cases) {
    SCOPED_TRACE(absl::StatusCodeToString(code));
    const OpenAiError error = ToOpenAiError(absl::Status(code, "something went wrong"));
    EXPECT_EQ(error.http_status, http_status);
    const json body = ErrorOf(error.body);
    EXPECT_EQ(body["type"], type);
    EXPECT_EQ(body["code"], http_status);
    EXPECT_EQ(body["message"], "something went wrong");
    EXPECT_TRUE(body["param"].is_null());
  }
}

TEST(OpenAiErrorTest, RateLimitAlwaysHasRetryAfter) {
  EXPECT_EQ(ToOpenAiError(absl::ResourceExhaustedError("queue full")).retry_after_seconds, 1);
  EXPECT_EQ(ToOpenAiError(WithRetryAfter(absl::ResourceExhaustedError("queue full"), 7))
                .retry_after_seconds,
            7);
}

TEST(OpenAiErrorTest, UnavailableHasRetryAfterOnlyWhenTheStatusSaysSo) {
  EXPECT_EQ(ToOpenAiError(absl::UnavailableError("no replica")).retry_after_seconds, std::nullopt);
  EXPECT_EQ(
      ToOpenAiError(WithRetryAfter(absl::UnavailableError("draining"), 3)).retry_after_seconds, 3);
  // Other codes never get one, payload or not.
  EXPECT_EQ(ToOpenAiError(WithRetryAfter(absl::InternalError("x"), 3)).retry_after_seconds,
            std::nullopt);
}

TEST(OpenAiErrorTest, MakeOpenAiErrorForStatusesTheHttpLayerDecides) {
  const std::vector<std::tuple<int, std::string>> cases = {
      {413, "RequestTooLargeError"},  {431, "RequestHeaderFieldsTooLargeError"},
      {404, "NotFoundError"},         {401, "AuthenticationError"},
      {405, "MethodNotAllowedError"}, {503, "ServiceUnavailableError"},
      {500, "InternalServerError"},   {400, "BadRequestError"},
  };
  for (const auto& [http_status, type] : cases) {
    SCOPED_TRACE(http_status);
    const OpenAiError error = MakeOpenAiError(http_status, "nope");
    EXPECT_EQ(error.http_status, http_status);
    const json body = ErrorOf(error.body);
    EXPECT_EQ(body["type"], type);
    EXPECT_EQ(body["code"], http_status);
    EXPECT_EQ(body["message"], "nope");
    EXPECT_TRUE(body["param"].is_null());
  }
  const json with_param = ErrorOf(MakeOpenAiError(404, "no such model", "model").body);
  EXPECT_EQ(with_param["param"], "model");
  EXPECT_EQ(MakeOpenAiError(429, "slow down").retry_after_seconds, 1);
  EXPECT_EQ(MakeOpenAiError(413, "too big").retry_after_seconds, std::nullopt);
}

TEST(OpenAiErrorTest, ErrorObjectJsonIsTheInnerObject) {
  const json error = json::parse(OpenAiErrorObjectJson(InvalidParam("stop", "stop is bad")));
  EXPECT_EQ(error, json({{"message", "stop is bad"},
                         {"type", "BadRequestError"},
                         {"param", "stop"},
                         {"code", 400}}));
  const json unavailable = json::parse(OpenAiErrorObjectJson(absl::UnavailableError("gone")));
  EXPECT_EQ(unavailable["code"], 503);
  EXPECT_EQ(unavailable["type"], "ServiceUnavailableError");
}

TEST(OpenAiErrorTest, MessagesWithInvalidUtf8StillGiveValidJson) {
  const OpenAiError error = ToOpenAiError(absl::InvalidArgumentError("bad byte \xFF here"));
  const json body = ErrorOf(error.body);
  EXPECT_EQ(body["message"], "bad byte \xEF\xBF\xBD here");
}

TEST(OpenAiErrorTest, SpecialCharactersAreEscaped) {
  const std::string message = "quote \" backslash \\ newline \n tab \t";
  const json body = ErrorOf(ToOpenAiError(InvalidParam("messages[0].content", message)).body);
  EXPECT_EQ(body["message"], message);
  EXPECT_EQ(body["param"], "messages[0].content");
}

TEST(OpenAiErrorTest, OkStatusIsAnInternalError) {
  const OpenAiError error = ToOpenAiError(absl::OkStatus());
  EXPECT_EQ(error.http_status, 500);
  EXPECT_EQ(ErrorOf(error.body)["type"], "InternalServerError");
}

}  // namespace
}  // namespace shoal::router
