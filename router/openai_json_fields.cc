#include "router/openai_json_fields.h"

#include <cmath>
#include <exception>

#include "absl/strings/str_cat.h"
#include "router/openai_error.h"

namespace shoal::router::internal {
namespace {

struct TooDeep {};  // thrown by the parser callback to stop at once

absl::StatusOr<Json> ParseJsonValue(std::string_view body) {
  const Json::parser_callback_t limit_depth = [](int depth, Json::parse_event_t event, Json&) {
    const bool opens =
        event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start;
    if (opens && depth >= kMaxJsonDepth) throw TooDeep{};
    return true;
  };
  try {
    return Json::parse(body.begin(), body.end(), limit_depth);
  } catch (const TooDeep&) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request body nests objects and arrays deeper than ", kMaxJsonDepth, " levels"));
  } catch (const Json::parse_error& e) {
    std::string_view what = e.what();
    if (what.find("ill-formed UTF-8") != std::string_view::npos) {
      return absl::InvalidArgumentError("request body is not valid UTF-8");
    }
    if (const size_t end = what.find("] ");
        what.rfind("[json.exception", 0) == 0 && end != std::string_view::npos) {
      what.remove_prefix(end + 2);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("request body is not valid JSON: ", std::string(what)));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("request body could not be read: ", e.what()));
  }
}

}  // namespace

absl::StatusOr<Json> ParseJsonObject(std::string_view body) {
  auto json = ParseJsonValue(body);
  if (json.ok() && !json->is_object()) {
    return absl::InvalidArgumentError("request body must be a JSON object");
  }
  return json;
}

const Json* FindField(const Json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::Status MustBe(std::string_view param, std::string_view what) {
  std::string message(param);
  message += " must be ";
  message += what;
  return InvalidParam(param, message);
}

absl::StatusOr<bool> BoolOf(const Json& value, std::string_view param) {
  if (!value.is_boolean()) return MustBe(param, "a boolean");
  return value.get<bool>();
}

absl::StatusOr<std::string> StringOf(const Json& value, std::string_view param) {
  if (!value.is_string()) return MustBe(param, "a string");
  return value.get<std::string>();
}

absl::StatusOr<double> NumberOf(const Json& value, std::string_view param) {
  if (!value.is_number()) return MustBe(param, "a number");
  return value.get<double>();
}

absl::StatusOr<int64_t> IntOf(const Json& value, std::string_view param, int64_t min, int64_t max) {
  int64_t result = 0;
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) return MustBe(param, absl::StrCat("at most ", max));
    result = static_cast<int64_t>(u);
  } else if (value.is_number_integer()) {
    result = value.get<int64_t>();
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::trunc(d) != d) return MustBe(param, "an integer");
    // 2^63: the doubles in [-2^63, 2^63) convert to int64 exactly.
    constexpr double kTwo63 = 9223372036854775808.0;
    if (d < -kTwo63 || d >= kTwo63) {
      return MustBe(param, absl::StrCat("an integer in [", min, ", ", max, "]"));
    }
    result = static_cast<int64_t>(d);
  } else {
    return MustBe(param, "an integer");
  }
  if (result < min) return MustBe(param, absl::StrCat("at least ", min, ", got ", result));
  if (result > max) return MustBe(param, absl::StrCat("at most ", max, ", got ", result));
  return result;
}

absl::StatusOr<double> NumberIn(const Json& value, std::string_view param, NumberRange range) {
  auto number = NumberOf(value, param);
  if (!number.ok()) return number.status();
  const double v = *number;
  const bool above_lo = range.lo_open ? v > range.lo : v >= range.lo;
  if (!above_lo || v > range.hi) {
    return MustBe(param, absl::StrCat("in ", range.lo_open ? "(" : "[", range.lo, ", ", range.hi,
                                      "], got ", v));
  }
  return v;
}

}  // namespace shoal::router::internal
