#include "model/jinja/globals.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "model/jinja/str_util.h"

namespace shoal::model::jinja {
namespace {

constexpr char kRaisedPayload[] = "type.shoal.dev/jinja.raise_exception";

constexpr std::string_view kGlobals[] = {
    "range",
    "dict",
    "namespace",
    "raise_exception",
    "strftime_now",
    // jinja2 defaults outside the subset; calling one is a clear error.
    "lipsum",
    "cycler",
    "joiner",
};

absl::StatusOr<int64_t> IntArg(const Value& v) {
  if (v.is_int() || v.is_bool()) return v.AsIntLike();
  return TypeError(Cat("'", v.TypeName(), "' object cannot be interpreted as an integer"));
}

absl::StatusOr<Value> Range(Runtime& rt, const CallArgs& args) {
  if (!args.keyword.empty()) return TypeError("range() takes no keyword arguments");
  const size_t n = args.positional.size();
  if (n < 1 || n > 3) return TypeError(Cat("range expected 1 to 3 arguments, got ", n));
  int64_t start = 0, stop = 0, step = 1;
  if (n == 1) {
    SHOAL_ASSIGN_OR_RETURN(stop, IntArg(args.positional[0]));
  } else {
    SHOAL_ASSIGN_OR_RETURN(start, IntArg(args.positional[0]));
    SHOAL_ASSIGN_OR_RETURN(stop, IntArg(args.positional[1]));
    if (n == 3) {
      SHOAL_ASSIGN_OR_RETURN(step, IntArg(args.positional[2]));
    }
  }
  if (step == 0) return absl::InvalidArgumentError("range() arg 3 must not be zero");
  // Length computed in 128 bits, as Python's ints cannot overflow.
  __int128 length = 0;
  const __int128 s = start, e = stop, st = step;
  if (st > 0 && s < e) length = (e - s + st - 1) / st;
  if (st < 0 && s > e) length = (s - e - st - 1) / -st;
  if (length > kMaxRange) {
    return absl::InvalidArgumentError(
        Cat("Range too big. The sandbox blocks ranges larger than MAX_RANGE (", kMaxRange, ")."));
  }
  SHOAL_RETURN_IF_ERROR(rt.Charge(static_cast<int64_t>(length)));
  return Value::Range(start, stop, step);
}

// dict(mapping, **kwargs) / namespace(mapping, **kwargs).
absl::StatusOr<DictData> MappingArgs(std::string_view fn, CallArgs args) {
  DictData dict;
  if (args.positional.size() > 1) {
    return TypeError(Cat(fn, "() takes at most 1 positional argument"));
  }
  if (args.positional.size() == 1) {
    const Value& m = args.positional[0];
    if (!m.is_dict()) {
      return absl::UnimplementedError(
          Cat("unsupported ", fn, "() argument of type '", m.TypeName(), "'"));
    }
    dict = m.AsDict();
  }
  for (auto& [name, value] : args.keyword) dict.Set(name, std::move(value));
  return dict;
}

absl::StatusOr<Value> StrftimeNow(Runtime& rt, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("strftime_now", std::move(args), {{"format", Value()}}));
  if (!a[0].is_string()) return TypeError("strftime_now() argument must be str");
  const std::string& format = a[0].AsString();
  if (format.size() > 4096) return absl::InvalidArgumentError("strftime_now() format is too long");
  if (format.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("embedded null character in strftime_now() format");
  }
  const auto now = rt.Now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          now - std::chrono::system_clock::from_time_t(seconds))
                          .count();
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  // Python's datetime.strftime handles %f, %z and %Z itself (a naive datetime has no zone)
  // and hands the rest to the C library, as done here.
  std::string rewritten;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '%' && i + 1 < format.size()) {
      const char d = format[i + 1];
      if (d == 'f') {
        absl::StrAppendFormat(&rewritten, "%06d", static_cast<int>(micros));
        ++i;
        continue;
      }
      if (d == 'z' || d == 'Z') {
        ++i;
        continue;
      }
      rewritten.push_back('%');
      rewritten.push_back(d);
      ++i;
      continue;
    }
    rewritten.push_back(format[i]);
  }
  std::vector<char> buffer(256 + 64 * rewritten.size());
  const size_t n = std::strftime(buffer.data(), buffer.size(), rewritten.c_str(), &tm);
  return Value::String(std::string(buffer.data(), n));
}

}  // namespace

bool IsGlobal(std::string_view name) {
  return std::find(std::begin(kGlobals), std::end(kGlobals), name) != std::end(kGlobals);
}

Value GlobalFunction(std::string_view name) {
  auto callable = std::make_shared<Callable>();
  callable->kind = Callable::Kind::kGlobal;
  callable->name = std::string(name);
  return Value::Function(std::move(callable));
}

absl::StatusOr<Value> CallGlobal(Runtime& rt, std::string_view name, CallArgs args) {
  SHOAL_RETURN_IF_ERROR(rt.Charge(1));
  if (name == "range") return Range(rt, args);
  if (name == "dict") {
    SHOAL_ASSIGN_OR_RETURN(DictData dict, MappingArgs(name, std::move(args)));
    return Value::Dict(std::move(dict));
  }
  if (name == "namespace") {
    SHOAL_ASSIGN_OR_RETURN(DictData dict, MappingArgs(name, std::move(args)));
    SHOAL_ASSIGN_OR_RETURN(Namespace * ns, rt.NewNamespace());
    ns->attrs() = std::move(dict);
    return Value::NamespaceRef(ns);
  }
  if (name == "raise_exception") {
    SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs(name, std::move(args), {{"message", Value()}}));
    SHOAL_ASSIGN_OR_RETURN(std::string message, rt.Str(a[0]));
    return RaisedError(message);
  }
  if (name == "strftime_now") return StrftimeNow(rt, std::move(args));
  return absl::UnimplementedError(Cat("unsupported global function '", name, "'"));
}

absl::Status RaisedError(std::string_view message) {
  absl::Status status = absl::InvalidArgumentError(std::string(message));
  status.SetPayload(kRaisedPayload, absl::Cord("1"));
  return status;
}

bool IsRaisedError(const absl::Status& status) {
  return status.GetPayload(kRaisedPayload).has_value();
}

}  // namespace shoal::model::jinja
