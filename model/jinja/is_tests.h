// jinja2's `is` tests: `x is defined`, `x is string`, `x is divisibleby 3`, ...
#ifndef SHOAL_MODEL_JINJA_IS_TESTS_H_
#define SHOAL_MODEL_JINJA_IS_TESTS_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "model/jinja/runtime.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

// Whether jinja2 has a test of this name. An unknown name is an error when the test runs
// (jinja2 defers it to run time inside if blocks too, so templates can guard with `is test`).
bool IsKnownTestName(std::string_view name);

// Runs test `name`; Unimplemented for jinja2 tests outside the subset, InvalidArgument for
// unknown names.
absl::StatusOr<bool> ApplyTest(Runtime& rt, std::string_view name, const Value& value,
                               CallArgs args);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_IS_TESTS_H_
