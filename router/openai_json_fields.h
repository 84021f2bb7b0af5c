// An OpenAI request body (openai_request.h) parsed with bounded nesting, and typed reads
// of its fields: each mistake is an InvalidParam (openai_error.h) naming the field.
// Private to router/ (the HTTP routes parse their other JSON bodies with it too).
//
// JSON rules, as the OpenAI API and vLLM (pydantic, strict) apply them: an integer
// field takes an integral number only (1.5 and 1e300 are refused, 2.0 is 2); a number
// field takes numbers only (never the string "0.5"); booleans are strict; null for an
// optional field means the field is absent.
#ifndef SHOAL_ROUTER_OPENAI_JSON_FIELDS_H_
#define SHOAL_ROUTER_OPENAI_JSON_FIELDS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace shoal::router::internal {

using Json = nlohmann::json;

// Nested objects and arrays a request body may have (a body nesting deeper is refused
// while it is parsed: a 4-million-deep "[[[[..." cannot exhaust memory or the stack).
inline constexpr int kMaxJsonDepth = 64;

// A request body parsed: InvalidArgument (no param) for malformed JSON, invalid UTF-8,
// nesting deeper than kMaxJsonDepth, or a value that is not an object. Never throws.
absl::StatusOr<Json> ParseJsonObject(std::string_view body);

// The value of `name` in `object` (an object); nullptr when absent or null.
const Json* FindField(const Json& object, const char* name);

absl::StatusOr<bool> BoolOf(const Json& value, std::string_view param);
absl::StatusOr<std::string> StringOf(const Json& value, std::string_view param);
absl::StatusOr<double> NumberOf(const Json& value, std::string_view param);
// An integral number in [min, max].
absl::StatusOr<int64_t> IntOf(const Json& value, std::string_view param, int64_t min, int64_t max);

// A number in the interval from `lo` to `hi`; `lo_open` excludes `lo` itself.
struct NumberRange {
  double lo;
  double hi;
  bool lo_open = false;
};
absl::StatusOr<double> NumberIn(const Json& value, std::string_view param, NumberRange range);

// "`param` must be <what>" as an InvalidParam.
absl::Status MustBe(std::string_view param, std::string_view what);

}  // namespace shoal::router::internal

#endif  // SHOAL_ROUTER_OPENAI_JSON_FIELDS_H_
