// Python str methods, on UTF-8 strings with code-point semantics.
#ifndef SHOAL_MODEL_JINJA_STRING_METHODS_H_
#define SHOAL_MODEL_JINJA_STRING_METHODS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/jinja/runtime.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

// Whether Shoal implements str.<name>.
bool IsStringMethod(std::string_view name);

absl::StatusOr<Value> CallStringMethod(Runtime& rt, const std::string& s, std::string_view name,
                                       CallArgs args);

// str.split / str.rsplit; `sep` nullopt splits on runs of whitespace. maxsplit < 0: no limit.
std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep,
                                 int64_t maxsplit, bool from_right);

// str.replace(old, new, count); count < 0: all.
absl::StatusOr<std::string> PyReplace(Runtime& rt, std::string_view s, std::string_view old_text,
                                      std::string_view new_text, int64_t count);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_STRING_METHODS_H_
