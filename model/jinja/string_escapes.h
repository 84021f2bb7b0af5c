// Decoding of string literals in templates. jinja2 decodes them with Python's
// "unicode-escape" codec, so '\x41', '\u00e9' and '\101' work and unknown escapes such as
// '\q' stay as written.
#ifndef SHOAL_MODEL_JINJA_STRING_ESCAPES_H_
#define SHOAL_MODEL_JINJA_STRING_ESCAPES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace shoal::model::jinja {

// Decodes the text between the quotes; InvalidArgument for malformed \x, \u, \U escapes
// and for \N{...}, which Shoal does not support.
absl::StatusOr<std::string> DecodePythonEscapes(std::string_view s);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_STRING_ESCAPES_H_
