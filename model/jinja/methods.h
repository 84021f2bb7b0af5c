// Python methods of str, dict and list (and loop.cycle) that chat templates call:
// `content.startswith('<tool_response>')`, `message.get('reasoning')`, `tools.items()`.
// Methods Python has but Shoal does not implement are an Unimplemented error naming them.
#ifndef SHOAL_MODEL_JINJA_METHODS_H_
#define SHOAL_MODEL_JINJA_METHODS_H_

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "model/jinja/runtime.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

// A method of `receiver` bound to it; nullopt when Python has no such method.
absl::StatusOr<std::optional<Value>> FindMethod(const Value& receiver, std::string_view name);

// Calls a bound method made by FindMethod.
absl::StatusOr<Value> CallMethod(Runtime& rt, const Callable& method, CallArgs args);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_METHODS_H_
