#include "model/jinja/string_methods.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "common/status_macros.h"
#include "model/jinja/access.h"
#include "model/jinja/str_util.h"
#include "model/jinja/utf8.h"

namespace shoal::model::jinja {
namespace {

constexpr std::string_view kMethods[] = {
    "startswith", "endswith", "split",      "rsplit",       "strip",        "lstrip",  "rstrip",
    "upper",      "lower",    "title",      "capitalize",   "replace",      "find",    "rfind",
    "count",      "join",     "splitlines", "isdigit",      "isalpha",      "isalnum", "isspace",
    "islower",    "isupper",  "format",     "removeprefix", "removesuffix",
};

// Python's str.isX(): true when non-empty and every character passes.
bool AllChars(const std::string& s, bool (*pred)(char32_t)) {
  if (s.empty()) return false;
  for (size_t pos = 0; pos < s.size();) {
    if (!pred(utf8::Next(s, &pos))) return false;
  }
  return true;
}

// str.islower / str.isupper: some cased character, and every cased one in that case.
bool CaseIs(const std::string& s, bool lower) {
  bool cased = false;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = utf8::Next(s, &pos);
    const bool in_case = lower ? utf8::IsLowerChar(cp) : utf8::IsUpperChar(cp);
    if (utf8::IsCased(cp) && !in_case) return false;
    cased |= in_case;
  }
  return cased;
}

absl::StatusOr<std::optional<std::string>> OptionalString(const Value& v, std::string_view what) {
  if (v.is_none() || v.is_undefined()) return std::optional<std::string>();
  if (!v.is_string()) {
    return TypeError(Cat(what, " must be str or None, not ", v.TypeName()));
  }
  return std::optional<std::string>(v.AsString());
}

absl::StatusOr<int64_t> IntArg(const Value& v, std::string_view what) {
  if (v.is_int() || v.is_bool()) return v.AsIntLike();
  return TypeError(Cat(what, " must be an integer, not ", v.TypeName()));
}

// startswith / endswith accept a string or a tuple of strings.
absl::StatusOr<Value> Affix(const std::string& s, const Value& arg, bool prefix) {
  std::vector<const std::string*> candidates;
  if (arg.is_string()) {
    candidates.push_back(&arg.AsString());
  } else if (arg.is_list() && arg.is_tuple()) {
    for (const Value& v : arg.Items()) {
      if (!v.is_string())
        return TypeError("tuple for startswith/endswith must contain only strings");
      candidates.push_back(&v.AsString());
    }
  } else {
    return TypeError(
        Cat("startswith/endswith first arg must be str or a tuple of str, not ", arg.TypeName()));
  }
  for (const std::string* c : candidates) {
    if (prefix ? s.starts_with(*c) : s.ends_with(*c)) return Value::Bool(true);
  }
  return Value::Bool(false);
}

// Counts non-overlapping occurrences, in code points for the empty string.
int64_t CountOccurrences(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(utf8::Length(s)) + 1;
  int64_t count = 0;
  for (size_t pos = s.find(sub); pos != std::string_view::npos;
       pos = s.find(sub, pos + sub.size())) {
    ++count;
  }
  return count;
}

int64_t CodePointIndex(std::string_view s, size_t byte_offset) {
  return static_cast<int64_t>(utf8::Length(s.substr(0, byte_offset)));
}

absl::StatusOr<Value> Join(Runtime& rt, const std::string& sep, const Value& iterable);

// str.format with automatic, numbered and named fields; format specs and conversions are
// outside the subset.
absl::StatusOr<Value> Format(Runtime& rt, const std::string& s, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '}') {
      if (i + 1 < s.size() && s[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      return absl::InvalidArgumentError("Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    const size_t close = s.find('}', i);
    if (close == std::string::npos) {
      return absl::InvalidArgumentError("Single '{' encountered in format string");
    }
    const std::string_view field = std::string_view(s).substr(i + 1, close - i - 1);
    if (field.find_first_of("!:.[{") != std::string_view::npos) {
      return absl::UnimplementedError(Cat("unsupported str.format field '{", field, "}'"));
    }
    const Value* arg = nullptr;
    size_t index = 0;
    if (field.empty() || ParseDecimal(field, &index)) {
      if (field.empty()) index = auto_index++;
      if (index >= args.positional.size()) {
        return absl::InvalidArgumentError("Replacement index out of range for str.format");
      }
      arg = &args.positional[index];
    } else {
      for (const auto& [name, v] : args.keyword) {
        if (name == field) arg = &v;
      }
      if (arg == nullptr) return absl::InvalidArgumentError(Cat("KeyError: '", field, "'"));
    }
    SHOAL_ASSIGN_OR_RETURN(std::string text, rt.Str(*arg));
    out.append(text);
    SHOAL_RETURN_IF_ERROR(rt.ChargeString(out.size()));
    i = close;
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> Join(Runtime& rt, const std::string& sep, const Value& iterable) {
  if (iterable.is_undefined()) return UndefinedError(iterable);
  SHOAL_ASSIGN_OR_RETURN(std::shared_ptr<const ListData> items, Iterate(iterable));
  std::string out;
  for (size_t i = 0; i < items->items.size(); ++i) {
    const Value& item = items->items[i];
    if (!item.is_string()) {
      return TypeError(
          Cat("sequence item ", i, ": expected str instance, ", item.TypeName(), " found"));
    }
    if (i > 0) out.append(sep);
    out.append(item.AsString());
    SHOAL_RETURN_IF_ERROR(rt.ChargeString(out.size()));
  }
  return Value::String(std::move(out));
}

}  // namespace

bool IsStringMethod(std::string_view name) {
  return std::find(std::begin(kMethods), std::end(kMethods), name) != std::end(kMethods);
}

std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep,
                                 int64_t maxsplit, bool from_right) {
  std::vector<std::string> parts;
  int64_t budget = maxsplit < 0 ? INT64_MAX : maxsplit;
  if (sep.has_value()) {
    if (!from_right) {
      size_t i = 0;
      while (budget-- > 0) {
        const size_t pos = s.find(*sep, i);
        if (pos == std::string_view::npos) break;
        parts.emplace_back(s.substr(i, pos - i));
        i = pos + sep->size();
      }
      parts.emplace_back(s.substr(i));
      return parts;
    }
    size_t j = s.size();
    while (budget-- > 0 && j >= sep->size()) {
      const size_t pos = s.substr(0, j).rfind(*sep);
      if (pos == std::string_view::npos) break;
      parts.emplace_back(s.substr(pos + sep->size(), j - pos - sep->size()));
      j = pos;
    }
    parts.emplace_back(s.substr(0, j));
    std::reverse(parts.begin(), parts.end());
    return parts;
  }
  // Whitespace mode works on code points.
  const std::vector<size_t> off = utf8::Offsets(s);
  const int64_t n = static_cast<int64_t>(off.size()) - 1;
  auto space = [&](int64_t k) {
    size_t pos = off[k];
    return utf8::IsSpace(utf8::Next(s, &pos));
  };
  auto piece = [&](int64_t a, int64_t b) { return std::string(s.substr(off[a], off[b] - off[a])); };
  if (!from_right) {
    int64_t i = 0;
    while (budget-- > 0) {
      while (i < n && space(i)) ++i;
      if (i == n) break;
      const int64_t j = i++;
      while (i < n && !space(i)) ++i;
      parts.push_back(piece(j, i));
    }
    while (i < n && space(i)) ++i;
    if (i < n) parts.push_back(piece(i, n));
    return parts;
  }
  int64_t i = n - 1;
  while (budget-- > 0) {
    while (i >= 0 && space(i)) --i;
    if (i < 0) break;
    const int64_t j = i--;
    while (i >= 0 && !space(i)) --i;
    parts.push_back(piece(i + 1, j + 1));
  }
  while (i >= 0 && space(i)) --i;
  if (i >= 0) parts.push_back(piece(0, i + 1));
  std::reverse(parts.begin(), parts.end());
  return parts;
}

absl::StatusOr<std::string> PyReplace(Runtime& rt, std::string_view s, std::string_view old_text,
                                      std::string_view new_text, int64_t count) {
  std::string out;
  int64_t done = 0;
  if (old_text.empty()) {
    // Python inserts `new` before every character and at the end.
    for (size_t pos = 0; pos <= s.size();) {
      if (count < 0 || done < count) {
        out.append(new_text);
        ++done;
      }
      if (pos == s.size()) break;
      const size_t start = pos;
      utf8::Next(s, &pos);
      out.append(s.substr(start, pos - start));
      SHOAL_RETURN_IF_ERROR(rt.ChargeString(out.size()));
    }
    return out;
  }
  size_t i = 0;
  while (count < 0 || done < count) {
    const size_t pos = s.find(old_text, i);
    if (pos == std::string_view::npos) break;
    out.append(s.substr(i, pos - i)).append(new_text);
    SHOAL_RETURN_IF_ERROR(rt.ChargeString(out.size()));
    i = pos + old_text.size();
    ++done;
  }
  out.append(s.substr(i));
  SHOAL_RETURN_IF_ERROR(rt.ChargeString(out.size()));
  return out;
}

absl::StatusOr<Value> CallStringMethod(Runtime& rt, const std::string& s, std::string_view name,
                                       CallArgs args) {
  const std::string fn = Cat("str.", name);
  if (name == "startswith" || name == "endswith") {
    SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs(fn, std::move(args), {{"prefix", Value()}}));
    return Affix(s, a[0], name == "startswith");
  }
  if (name == "split" || name == "rsplit") {
    SHOAL_ASSIGN_OR_RETURN(
        auto a,
        BindArgs(fn, std::move(args), {{"sep", Value::None()}, {"maxsplit", Value::Int(-1)}}));
    SHOAL_ASSIGN_OR_RETURN(std::optional<std::string> sep, OptionalString(a[0], "sep"));
    if (sep.has_value() && sep->empty()) return absl::InvalidArgumentError("empty separator");
    SHOAL_ASSIGN_OR_RETURN(int64_t maxsplit, IntArg(a[1], "maxsplit"));
    std::vector<Value> items;
    for (std::string& part : PySplit(s, sep, maxsplit, name == "rsplit")) {
      items.push_back(Value::String(std::move(part)));
    }
    SHOAL_RETURN_IF_ERROR(rt.Charge(static_cast<int64_t>(items.size())));
    return Value::List(std::move(items));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs(fn, std::move(args), {{"chars", Value::None()}}));
    SHOAL_ASSIGN_OR_RETURN(std::optional<std::string> chars, OptionalString(a[0], "chars"));
    std::string_view chars_view = chars.has_value() ? std::string_view(*chars) : std::string_view();
    return Value::String(std::string(
        utf8::Strip(s, chars ? &chars_view : nullptr, name != "rstrip", name != "lstrip")));
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" ||
      name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" ||
      name == "islower" || name == "isupper" || name == "splitlines") {
    SHOAL_RETURN_IF_ERROR(BindArgs(fn, std::move(args), {}).status());
    if (name == "upper") return Value::String(utf8::Upper(s));
    if (name == "lower") return Value::String(utf8::Lower(s));
    if (name == "title") return Value::String(utf8::PyTitle(s));
    if (name == "capitalize") return Value::String(utf8::Capitalize(s));
    if (name == "isdigit") return Value::Bool(AllChars(s, utf8::IsDigit));
    if (name == "isalpha") return Value::Bool(AllChars(s, utf8::IsAlpha));
    if (name == "isalnum") return Value::Bool(AllChars(s, utf8::IsAlnum));
    if (name == "isspace") return Value::Bool(AllChars(s, utf8::IsSpace));
    if (name == "islower") return Value::Bool(CaseIs(s, true));
    if (name == "isupper") return Value::Bool(CaseIs(s, false));
    std::vector<Value> lines;
    for (std::string_view line : utf8::SplitLines(s))
      lines.push_back(Value::String(std::string(line)));
    return Value::List(std::move(lines));
  }
  if (name == "replace") {
    SHOAL_ASSIGN_OR_RETURN(
        auto a, BindArgs(fn, std::move(args),
                         {{"old", Value()}, {"new", Value()}, {"count", Value::Int(-1)}}));
    if (!a[0].is_string() || !a[1].is_string())
      return TypeError("str.replace() arguments must be str");
    SHOAL_ASSIGN_OR_RETURN(int64_t count, IntArg(a[2], "count"));
    SHOAL_ASSIGN_OR_RETURN(std::string out,
                           PyReplace(rt, s, a[0].AsString(), a[1].AsString(), count));
    return Value::String(std::move(out));
  }
  if (name == "find" || name == "rfind" || name == "count" || name == "removeprefix" ||
      name == "removesuffix") {
    SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs(fn, std::move(args), {{"sub", Value()}}));
    if (!a[0].is_string()) {
      return TypeError(Cat(fn, "() argument must be str, not ", a[0].TypeName()));
    }
    const std::string& sub = a[0].AsString();
    if (name == "count") return Value::Int(CountOccurrences(s, sub));
    if (name == "removeprefix") {
      return Value::String(s.starts_with(sub) ? s.substr(sub.size()) : s);
    }
    if (name == "removesuffix") {
      return Value::String(s.ends_with(sub) ? s.substr(0, s.size() - sub.size()) : s);
    }
    const size_t pos = name == "find" ? s.find(sub) : s.rfind(sub);
    return Value::Int(pos == std::string::npos ? -1 : CodePointIndex(s, pos));
  }
  if (name == "join") {
    SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs(fn, std::move(args), {{"iterable", Value()}}));
    return Join(rt, s, a[0]);
  }
  if (name == "format") return Format(rt, s, args);
  return absl::UnimplementedError(Cat("unsupported method '", fn, "'"));
}

}  // namespace shoal::model::jinja
