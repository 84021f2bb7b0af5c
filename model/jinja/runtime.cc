#include "model/jinja/runtime.h"

#include "common/status_macros.h"
#include "model/jinja/str_util.h"

namespace shoal::model::jinja {

absl::Status Runtime::Charge(int64_t steps) {
  if (budget()->Consume(steps)) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      Cat("template exceeded its work limit of ", limits().max_steps, " steps"));
}

absl::Status Runtime::ChargeString(size_t bytes) {
  if (bytes > limits().max_output_bytes) {
    return absl::ResourceExhaustedError(
        Cat("string of ", bytes, " bytes exceeds the output limit of ", limits().max_output_bytes));
  }
  return Charge(static_cast<int64_t>(bytes / 64) + 1);
}

FormatLimits Runtime::format_limits() const {
  return FormatLimits{.max_depth = limits().max_depth, .max_bytes = limits().max_output_bytes};
}

absl::StatusOr<std::string> Runtime::Str(const Value& value) {
  if (value.is_string()) return value.AsString();
  std::string out;
  SHOAL_RETURN_IF_ERROR(AppendStr(value, format_limits(), &out));
  SHOAL_RETURN_IF_ERROR(ChargeString(out.size()));
  return out;
}

absl::StatusOr<std::vector<Value>> BindArgs(std::string_view function, CallArgs args,
                                            std::initializer_list<Param> params) {
  std::vector<Value> bound;
  std::vector<bool> given(params.size(), false);
  bound.reserve(params.size());
  for (const Param& p : params) bound.push_back(p.default_value);
  if (args.positional.size() > params.size()) {
    return TypeError(Cat(function, "() takes at most ", params.size(), " argument(s), got ",
                         args.positional.size()));
  }
  for (size_t i = 0; i < args.positional.size(); ++i) {
    bound[i] = std::move(args.positional[i]);
    given[i] = true;
  }
  for (auto& [name, value] : args.keyword) {
    size_t i = 0;
    for (const Param& p : params) {
      if (p.name == name) break;
      ++i;
    }
    if (i == params.size()) {
      return TypeError(Cat(function, "() got an unexpected keyword argument '", name, "'"));
    }
    if (given[i]) {
      return TypeError(Cat(function, "() got multiple values for argument '", name, "'"));
    }
    bound[i] = std::move(value);
    given[i] = true;
  }
  return bound;
}

absl::Status UndefinedError(const Value& value) {
  const std::string_view hint = value.undefined_hint();
  return absl::InvalidArgumentError(hint.empty() ? std::string("value is undefined")
                                                 : std::string(hint));
}

absl::Status TypeError(std::string_view message) {
  return absl::InvalidArgumentError(std::string(message));
}

}  // namespace shoal::model::jinja
