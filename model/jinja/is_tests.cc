#include "model/jinja/is_tests.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/status_macros.h"
#include "model/jinja/filters.h"
#include "model/jinja/operators.h"
#include "model/jinja/str_util.h"
#include "model/jinja/string_methods.h"

namespace shoal::model::jinja {
namespace {

constexpr std::string_view kJinjaTests[] = {
    "odd",     "even",   "divisibleby", "defined",  "undefined", "filter", "test",    "none",
    "boolean", "false",  "true",        "integer",  "float",     "lower",  "upper",   "string",
    "mapping", "number", "sequence",    "iterable", "callable",  "sameas", "escaped", "in",
    "==",      "eq",     "equalto",     "!=",       "ne",        ">",      "gt",      "greaterthan",
    ">=",      "ge",     "<",           "lt",       "lessthan",  "<=",     "le",
};

absl::StatusOr<Value> OneArg(std::string_view name, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs(name, std::move(args), {{"other", Value()}}));
  return a[0];
}

absl::StatusOr<bool> Compare(Runtime& rt, CompareOp op, std::string_view name, const Value& value,
                             CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(Value other, OneArg(name, std::move(args)));
  return CompareOperation(rt, op, value, other);
}

// value % divisor == remainder, with Python's modulo.
absl::StatusOr<bool> ModuloIs(Runtime& rt, const Value& value, const Value& divisor,
                              int64_t remainder) {
  SHOAL_ASSIGN_OR_RETURN(Value mod, BinaryOperation(rt, BinaryOp::kMod, value, divisor));
  return Equals(mod, Value::Int(remainder), rt.budget());
}

bool SameAs(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kBool:
      return a.AsBool() == b.AsBool();
    // CPython caches small ints, so `5 is 5` holds but `500 is 500` need not.
    case Value::Kind::kInt:
      return a.AsInt() == b.AsInt() && a.AsInt() >= -5 && a.AsInt() <= 256;
    case Value::Kind::kFloat:
      return false;
    default:
      return a.identity() == b.identity();
  }
}

}  // namespace

bool IsKnownTestName(std::string_view name) {
  return std::find(std::begin(kJinjaTests), std::end(kJinjaTests), name) != std::end(kJinjaTests);
}

absl::StatusOr<bool> ApplyTest(Runtime& rt, std::string_view name, const Value& value,
                               CallArgs args) {
  SHOAL_RETURN_IF_ERROR(rt.Charge(1));
  const std::string fn = Cat("test '", name, "'");
  const bool no_args = args.positional.empty() && args.keyword.empty();
  if (no_args) {
    if (name == "defined") return !value.is_undefined();
    if (name == "undefined") return value.is_undefined();
    if (name == "none") return value.is_none();
    if (name == "boolean") return value.is_bool();
    if (name == "false") return value.is_bool() && !value.AsBool();
    if (name == "true") return value.is_bool() && value.AsBool();
    if (name == "integer") return value.is_int();
    if (name == "float") return value.is_float();
    if (name == "number") return value.is_number();
    if (name == "string") return value.is_string();
    if (name == "mapping") return value.is_dict();
    // Python: len() and __getitem__ (jinja2's Undefined has both).
    if (name == "sequence") {
      return value.is_string() || value.is_dict() || value.is_undefined() ||
             (value.is_list() && (value.is_list_or_tuple() || value.seq_kind() == SeqKind::kRange));
    }
    if (name == "iterable") {
      return value.is_string() || value.is_list() || value.is_dict() || value.is_undefined() ||
             value.is_loop();
    }
    // jinja2's Undefined defines __call__ (to raise), so Python calls it callable.
    if (name == "callable") return value.is_callable() || value.is_loop() || value.is_undefined();
    if (name == "odd") return ModuloIs(rt, value, Value::Int(2), 1);
    if (name == "even") return ModuloIs(rt, value, Value::Int(2), 0);
    if (name == "lower" || name == "upper") {
      SHOAL_ASSIGN_OR_RETURN(std::string s, rt.Str(value));
      SHOAL_ASSIGN_OR_RETURN(Value r,
                             CallStringMethod(rt, s, name == "lower" ? "islower" : "isupper", {}));
      return r.AsBool();
    }
  }
  if (name == "divisibleby") {
    SHOAL_ASSIGN_OR_RETURN(Value num, OneArg(fn, std::move(args)));
    return ModuloIs(rt, value, num, 0);
  }
  if (name == "sameas") {
    SHOAL_ASSIGN_OR_RETURN(Value other, OneArg(fn, std::move(args)));
    return SameAs(value, other);
  }
  if (name == "in") {
    SHOAL_ASSIGN_OR_RETURN(Value seq, OneArg(fn, std::move(args)));
    return Contains(rt, seq, value);
  }
  if (name == "filter" || name == "test") {
    SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs(fn, std::move(args), {}));
    if (!value.is_string()) return false;
    return name == "filter" ? IsSupportedFilterName(value.AsString())
                            : IsKnownTestName(value.AsString()) && value.AsString() != "escaped";
  }
  static constexpr std::pair<std::string_view, CompareOp> kComparisons[] = {
      {"==", CompareOp::kEq},       {"eq", CompareOp::kEq},          {"equalto", CompareOp::kEq},
      {"!=", CompareOp::kNe},       {"ne", CompareOp::kNe},          {">", CompareOp::kGt},
      {"gt", CompareOp::kGt},       {"greaterthan", CompareOp::kGt}, {">=", CompareOp::kGe},
      {"ge", CompareOp::kGe},       {"<", CompareOp::kLt},           {"lt", CompareOp::kLt},
      {"lessthan", CompareOp::kLt}, {"<=", CompareOp::kLe},          {"le", CompareOp::kLe},
  };
  for (const auto& [test_name, op] : kComparisons) {
    if (name == test_name) return Compare(rt, op, fn, value, std::move(args));
  }
  if (IsKnownTestName(name) && name != "escaped") {
    // A test that takes no arguments was given some.
    return TypeError(Cat(fn, " takes no arguments"));
  }
  if (IsKnownTestName(name)) return absl::UnimplementedError(Cat("unsupported test '", name, "'"));
  return absl::InvalidArgumentError(Cat("no test named '", name, "'"));
}

}  // namespace shoal::model::jinja
