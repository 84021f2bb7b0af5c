// Text forms of values, as Python prints them: str() for `{{ x }}` and `~`, repr() inside
// lists and dicts, and json.dumps() for the `tojson` filter. Chat templates print numbers,
// booleans and tool schemas, so these must match Python byte for byte.
#ifndef SHOAL_MODEL_JINJA_VALUE_FORMAT_H_
#define SHOAL_MODEL_JINJA_VALUE_FORMAT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

// Bounds on one conversion: nesting (namespaces can refer to themselves) and output size
// (shared sub-lists can make a small value print enormously).
struct FormatLimits {
  int max_depth = 200;
  size_t max_bytes = 16 << 20;
};

// Python str(value); Undefined prints as "".
absl::Status AppendStr(const Value& value, const FormatLimits& limits, std::string* out);
// Python repr(value).
absl::Status AppendRepr(const Value& value, const FormatLimits& limits, std::string* out);
// Python repr(str).
void AppendReprString(std::string_view s, std::string* out);
// Python repr(float): "1.0", "1e-05", "1.5e+16", "inf", "nan".
std::string FormatFloat(double d);

// json.dumps(value, ensure_ascii=..., indent=..., separators=..., sort_keys=...).
struct JsonOptions {
  bool ensure_ascii = false;
  bool has_indent = false;  // indent=None when false
  std::string indent;       // one level of indentation
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
};
absl::Status AppendJson(const Value& value, const JsonOptions& options, const FormatLimits& limits,
                        std::string* out);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_VALUE_FORMAT_H_
