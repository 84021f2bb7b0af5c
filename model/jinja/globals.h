// Global functions templates call: range, dict, namespace (jinja2's), and raise_exception
// and strftime_now (transformers' additions).
#ifndef SHOAL_MODEL_JINJA_GLOBALS_H_
#define SHOAL_MODEL_JINJA_GLOBALS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/jinja/runtime.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

bool IsGlobal(std::string_view name);
// The callable value of a global.
Value GlobalFunction(std::string_view name);
absl::StatusOr<Value> CallGlobal(Runtime& rt, std::string_view name, CallArgs args);

// The error raise_exception(message) produces: InvalidArgument with exactly `message`.
absl::Status RaisedError(std::string_view message);
bool IsRaisedError(const absl::Status& status);

// jinja2's sandbox refuses ranges longer than this.
inline constexpr int64_t kMaxRange = 100000;

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_GLOBALS_H_
