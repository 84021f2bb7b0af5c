#include "model/jinja/filters.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "model/jinja/access.h"
#include "model/jinja/filters_internal.h"
#include "model/jinja/methods.h"
#include "model/jinja/str_util.h"
#include "model/jinja/utf8.h"
#include "model/jinja/value_format.h"

namespace shoal::model::jinja {
namespace {

using filters::FilterFn;

// jinja2 3.1's built-in filter names.
constexpr std::string_view kJinjaFilters[] = {
    "abs",    "attr",       "batch",       "capitalize", "center",   "count",
    "d",      "default",    "dictsort",    "e",          "escape",   "filesizeformat",
    "first",  "float",      "forceescape", "format",     "groupby",  "indent",
    "int",    "items",      "join",        "last",       "length",   "list",
    "lower",  "map",        "max",         "min",        "pprint",   "random",
    "reject", "rejectattr", "replace",     "reverse",    "round",    "safe",
    "select", "selectattr", "slice",       "sort",       "string",   "striptags",
    "sum",    "title",      "tojson",      "trim",       "truncate", "unique",
    "upper",  "urlencode",  "urlize",      "wordcount",  "wordwrap", "xmlattr",
};

absl::StatusOr<Value> Default(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(
      auto a, BindArgs("default", std::move(args),
                       {{"default_value", Value::String("")}, {"boolean", Value::Bool(false)}}));
  if (value.is_undefined() || (a[1].Truthy() && !value.Truthy())) return a[0];
  return value;
}

// transformers' override: json.dumps(x, ensure_ascii=False, indent=None, separators=None,
// sort_keys=False), in that positional order.
absl::StatusOr<Value> ToJson(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("tojson", std::move(args),
                                          {{"ensure_ascii", Value::Bool(false)},
                                           {"indent", Value::None()},
                                           {"separators", Value::None()},
                                           {"sort_keys", Value::Bool(false)}}));
  JsonOptions options;
  options.ensure_ascii = a[0].Truthy();
  const Value& indent = a[1];
  if (indent.is_undefined()) return UndefinedError(indent);
  if (indent.is_int() || indent.is_bool()) {
    options.has_indent = true;
    options.indent.assign(static_cast<size_t>(std::clamp<int64_t>(indent.AsIntLike(), 0, 64)), ' ');
  } else if (indent.is_string()) {
    options.has_indent = true;
    options.indent = indent.AsString();
  } else if (!indent.is_none()) {
    return TypeError(Cat("tojson indent must be an int or str, not ", indent.TypeName()));
  }
  if (options.has_indent) options.item_separator.assign(1, ',');
  const Value& separators = a[2];
  if (separators.is_list()) {
    if (separators.Items().size() != 2 || !separators.Items()[0].is_string() ||
        !separators.Items()[1].is_string()) {
      return TypeError("tojson separators must be a pair of strings");
    }
    options.item_separator = separators.Items()[0].AsString();
    options.key_separator = separators.Items()[1].AsString();
  } else if (!separators.is_none()) {
    return TypeError("tojson separators must be a pair of strings");
  }
  options.sort_keys = a[3].Truthy();
  std::string out;
  SHOAL_RETURN_IF_ERROR(AppendJson(value, options, rt.format_limits(), &out));
  SHOAL_RETURN_IF_ERROR(rt.ChargeString(out.size()));
  return Value::String(std::move(out));
}

// Python int(text, base) for ASCII digits, underscores and base prefixes.
std::optional<int64_t> ParsePyInt(std::string_view text, int base) {
  std::string_view s = utf8::Strip(text, nullptr, true, true);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.size() >= 2 && s[0] == '0') {
    const char p = absl::ascii_tolower(static_cast<unsigned char>(s[1]));
    if ((p == 'x' && base == 16) || (p == 'o' && base == 8) || (p == 'b' && base == 2)) {
      s.remove_prefix(2);
      if (!s.empty() && s[0] == '_') s.remove_prefix(1);
    }
  }
  if (s.empty() || s.front() == '_' || s.back() == '_') return std::nullopt;
  unsigned __int128 v = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = absl::ascii_tolower(static_cast<unsigned char>(s[i]));
    if (c == '_') {
      if (s[i + 1] == '_') return std::nullopt;
      continue;
    }
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99;
    if (d >= base) return std::nullopt;
    v = v * base + d;
    if (v > static_cast<unsigned __int128>(INT64_MAX) + 1) return std::nullopt;
  }
  if (!negative && v > INT64_MAX) return std::nullopt;
  return negative ? static_cast<int64_t>(-static_cast<__int128>(v)) : static_cast<int64_t>(v);
}

// Python float(text): decimal forms with underscores between digits, inf, nan.
std::optional<double> ParsePyFloat(std::string_view text) {
  const std::string_view s = utf8::Strip(text, nullptr, true, true);
  std::string clean;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean.push_back(s[i++]);
  const std::string rest = absl::AsciiStrToLower(std::string(s.substr(i)));
  if (rest == "inf" || rest == "infinity" || rest == "nan") {
    clean += rest;
    return std::strtod(clean.c_str(), nullptr);
  }
  bool digits = false, seen_dot = false, seen_exp = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digits = true;
      clean.push_back(c);
    } else if (c == '_' && i > 0 && i + 1 < s.size() &&
               absl::ascii_isdigit(static_cast<unsigned char>(s[i - 1])) &&
               absl::ascii_isdigit(static_cast<unsigned char>(s[i + 1]))) {
      continue;
    } else if (c == '.' && !seen_dot && !seen_exp) {
      seen_dot = true;
      clean.push_back(c);
    } else if ((c == 'e' || c == 'E') && digits && !seen_exp) {
      seen_exp = true;
      digits = false;
      clean.push_back('e');
      if (i + 1 < s.size() && (s[i + 1] == '+' || s[i + 1] == '-')) clean.push_back(s[++i]);
    } else {
      return std::nullopt;
    }
  }
  if (!digits) return std::nullopt;
  return std::strtod(clean.c_str(), nullptr);
}

absl::StatusOr<Value> ToInt(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("int", std::move(args),
                                          {{"default", Value::Int(0)}, {"base", Value::Int(10)}}));
  std::optional<double> as_float;
  // Python's int(Undefined) raises jinja2's UndefinedError, which the filter lets through.
  if (value.is_undefined()) return UndefinedError(value);
  if (value.is_int() || value.is_bool()) return Value::Int(value.AsIntLike());
  if (value.is_string()) {
    // An invalid base makes Python's int() raise, which jinja2 treats like unparsable text.
    const int64_t base = a[1].is_int() ? a[1].AsInt() : 10;
    if (base >= 2 && base <= 36) {
      if (auto v = ParsePyInt(value.AsString(), static_cast<int>(base))) return Value::Int(*v);
    }
    as_float = ParsePyFloat(value.AsString());
  } else if (value.is_float()) {
    as_float = value.AsFloat();
  }
  if (!as_float.has_value() || !std::isfinite(*as_float)) return a[0];
  const double truncated = std::trunc(*as_float);
  if (truncated >= 9.2233720368547758e18 || truncated < -9.2233720368547758e18) {
    return absl::InvalidArgumentError("integer result does not fit in 64 bits");
  }
  return Value::Int(static_cast<int64_t>(truncated));
}

absl::StatusOr<Value> ToFloat(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a,
                         BindArgs("float", std::move(args), {{"default", Value::Float(0)}}));
  if (value.is_undefined()) return UndefinedError(value);
  if (value.is_number()) return Value::Float(value.AsDouble());
  if (value.is_string()) {
    if (auto v = ParsePyFloat(value.AsString())) return Value::Float(*v);
  }
  return a[0];
}

absl::StatusOr<Value> Abs(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_RETURN_IF_ERROR(BindArgs("abs", std::move(args), {}).status());
  if (value.is_float()) return Value::Float(std::fabs(value.AsFloat()));
  if (value.is_int() || value.is_bool()) {
    const int64_t i = value.AsIntLike();
    if (i == INT64_MIN) return absl::InvalidArgumentError("integer result does not fit in 64 bits");
    return Value::Int(i < 0 ? -i : i);
  }
  return TypeError(Cat("bad operand type for abs(): '", value.TypeName(), "'"));
}

// Python round(x, n) for n >= 0: printf rounds the exact binary value half to even, as
// CPython's correctly rounded algorithm does.
double PyRound(double x, int64_t n) {
  if (!std::isfinite(x)) return x;
  if (n >= 0) {
    if (n > 330) return x;
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(n), x);
    return std::strtod(buf, nullptr);
  }
  const double scale = std::pow(10.0, static_cast<double>(-n));
  return std::nearbyint(x / scale) * scale;
}

absl::StatusOr<Value> Round(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(
      auto a, BindArgs("round", std::move(args),
                       {{"precision", Value::Int(0)}, {"method", Value::String("common")}}));
  if (!a[0].is_int() && !a[0].is_bool()) return TypeError("round() precision must be an integer");
  const int64_t precision = std::clamp<int64_t>(a[0].AsIntLike(), -400, 400);
  const std::string method = a[1].is_string() ? a[1].AsString() : "";
  if (method != "common" && method != "ceil" && method != "floor") {
    return absl::InvalidArgumentError("method must be common, ceil or floor");
  }
  if (!value.is_number()) {
    return TypeError(Cat("type ", value.TypeName(), " doesn't define __round__ method"));
  }
  if (method == "common") {
    if (!value.is_float() && precision >= 0) return Value::Int(value.AsIntLike());
    return Value::Float(PyRound(value.AsDouble(), precision));
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double scaled = value.AsDouble() * scale;
  return Value::Float((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
}

// attr(name) looks up a Python attribute only, never a dict key.
absl::StatusOr<Value> Attr(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("attr", std::move(args), {{"name", Value()}}));
  if (!a[0].is_string()) return TypeError("attribute name must be a string");
  if (value.is_dict()) {
    SHOAL_ASSIGN_OR_RETURN(std::optional<Value> method, FindMethod(value, a[0].AsString()));
    if (method.has_value()) return *method;
    return Value::Undefined(Cat("'dict object' has no attribute '", a[0].AsString(), "'"));
  }
  return GetAttr(value, a[0].AsString());
}

struct Entry {
  std::string_view name;
  FilterFn fn;
};

constexpr Entry kFilters[] = {
    {"abs", Abs},
    {"attr", Attr},
    {"capitalize", filters::Capitalize},
    {"center", filters::Center},
    {"count", filters::Length},
    {"d", Default},
    {"default", Default},
    {"dictsort", filters::Dictsort},
    {"e", filters::Escape},
    {"escape", filters::Escape},
    {"first", filters::First},
    {"float", ToFloat},
    {"forceescape", filters::Escape},
    {"indent", filters::Indent},
    {"int", ToInt},
    {"items", filters::Items},
    {"join", filters::Join},
    {"last", filters::Last},
    {"length", filters::Length},
    {"list", filters::List},
    {"lower", filters::Lower},
    {"map", filters::Map},
    {"max", filters::Max},
    {"min", filters::Min},
    {"reject", filters::Reject},
    {"rejectattr", filters::RejectAttr},
    {"replace", filters::Replace},
    {"reverse", filters::Reverse},
    {"round", Round},
    {"safe", filters::String},
    {"select", filters::Select},
    {"selectattr", filters::SelectAttr},
    {"sort", filters::Sort},
    {"string", filters::String},
    {"sum", filters::Sum},
    {"title", filters::Title},
    {"tojson", ToJson},
    {"trim", filters::Trim},
    {"truncate", filters::Truncate},
    {"unique", filters::Unique},
    {"upper", filters::Upper},
    {"wordcount", filters::Wordcount},
};

// Filters that are Python generators in jinja2: they run only when something iterates
// their result, so their errors must wait until then.
bool IsLazyInJinja2(std::string_view name) {
  return name == "map" || name == "select" || name == "reject" || name == "selectattr" ||
         name == "rejectattr" || name == "unique" || name == "items";
}

const Entry* Find(std::string_view name) {
  for (const Entry& e : kFilters) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace

bool IsKnownFilterName(std::string_view name) {
  return std::find(std::begin(kJinjaFilters), std::end(kJinjaFilters), name) !=
         std::end(kJinjaFilters);
}

bool IsSupportedFilterName(std::string_view name) { return Find(name) != nullptr; }

absl::StatusOr<Value> ApplyFilter(Runtime& rt, std::string_view name, const Value& value,
                                  CallArgs args) {
  const Entry* entry = Find(name);
  if (entry == nullptr) {
    if (IsKnownFilterName(name)) {
      return absl::UnimplementedError(Cat("unsupported filter '", name, "'"));
    }
    return absl::InvalidArgumentError(Cat("no filter named '", name, "'"));
  }
  SHOAL_RETURN_IF_ERROR(rt.Charge(1));
  absl::StatusOr<Value> result = entry->fn(rt, value, std::move(args));
  if (!result.ok() && IsLazyInJinja2(name) &&
      result.status().code() != absl::StatusCode::kResourceExhausted) {
    return Value::FailedGenerator(result.status());
  }
  return result;
}

}  // namespace shoal::model::jinja
