// What built-in filters, tests, methods and globals may ask of the render that calls them:
// limits and the work budget, other filters and tests by name (for map / select), new
// namespaces and the clock. The interpreter implements it; builtins never see its frames.
#ifndef SHOAL_MODEL_JINJA_RUNTIME_H_
#define SHOAL_MODEL_JINJA_RUNTIME_H_

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/jinja/template.h"
#include "model/jinja/value.h"
#include "model/jinja/value_format.h"

namespace shoal::model::jinja {

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual const Limits& limits() const = 0;
  virtual WorkBudget* budget() = 0;
  virtual absl::StatusOr<Value> CallFilter(std::string_view name, const Value& operand,
                                           CallArgs args) = 0;
  virtual absl::StatusOr<bool> CallTest(std::string_view name, const Value& operand,
                                        CallArgs args) = 0;
  virtual absl::StatusOr<Namespace*> NewNamespace() = 0;
  virtual std::chrono::system_clock::time_point Now() const = 0;

  // Spends `steps` of the work budget.
  absl::Status Charge(int64_t steps);
  // Charges for building a string of `bytes` and checks it against the output limit.
  absl::Status ChargeString(size_t bytes);
  FormatLimits format_limits() const;
  // Python str(value), bounded by the limits.
  absl::StatusOr<std::string> Str(const Value& value);
};

// One parameter of a builtin's Python signature and the value it takes when not passed.
struct Param {
  std::string_view name;
  Value default_value;
};

// Binds positional and keyword arguments to `params` like a Python call; errors for
// unknown keywords, duplicates and too many arguments.
absl::StatusOr<std::vector<Value>> BindArgs(std::string_view function, CallArgs args,
                                            std::initializer_list<Param> params);

// The error jinja2 raises when an undefined value is used (`'x' is undefined`).
absl::Status UndefinedError(const Value& value);

// InvalidArgument "<what> expected <type>, got <type>"-style helper.
absl::Status TypeError(std::string_view message);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_RUNTIME_H_
