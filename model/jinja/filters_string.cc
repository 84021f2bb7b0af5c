// Filters that work on text. Like jinja2, most convert their input with str() first, so
// `none | upper` is "NONE" and `undefined | trim` is "".
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "model/jinja/filters_internal.h"
#include "model/jinja/str_util.h"
#include "model/jinja/string_methods.h"
#include "model/jinja/utf8.h"

namespace shoal::model::jinja::filters {
namespace {

absl::StatusOr<std::string> NoArgsStr(Runtime& rt, std::string_view name, const Value& value,
                                      CallArgs args) {
  SHOAL_RETURN_IF_ERROR(BindArgs(name, std::move(args), {}).status());
  return rt.Str(value);
}

// jinja2's title splits on runs of "-", whitespace and opening brackets.
bool IsTitleSeparator(char32_t cp) {
  return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || utf8::IsSpace(cp);
}

bool IsWordChar(char32_t cp) { return cp == '_' || utf8::IsAlnum(cp); }

}  // namespace

absl::StatusOr<Value> Upper(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(std::string s, NoArgsStr(rt, "upper", value, std::move(args)));
  return Value::String(utf8::Upper(s));
}

absl::StatusOr<Value> Lower(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(std::string s, NoArgsStr(rt, "lower", value, std::move(args)));
  return Value::String(utf8::Lower(s));
}

absl::StatusOr<Value> Capitalize(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(std::string s, NoArgsStr(rt, "capitalize", value, std::move(args)));
  return Value::String(utf8::Capitalize(s));
}

absl::StatusOr<Value> Title(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(std::string s, NoArgsStr(rt, "title", value, std::move(args)));
  std::string out;
  out.reserve(s.size());
  bool run_start = true;
  bool in_separator = false;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = utf8::Next(s, &pos);
    const bool sep = IsTitleSeparator(cp);
    if (sep != in_separator) run_start = true;
    in_separator = sep;
    if (run_start) {
      utf8::AppendUpper(cp, &out);
    } else {
      utf8::AppendLower(cp, &out);
    }
    run_start = false;
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> Trim(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("trim", std::move(args), {{"chars", Value::None()}}));
  SHOAL_ASSIGN_OR_RETURN(std::string s, rt.Str(value));
  if (a[0].is_none() || a[0].is_undefined()) {
    return Value::String(std::string(utf8::Strip(s, nullptr, true, true)));
  }
  if (!a[0].is_string()) return TypeError("trim chars must be str or None");
  const std::string_view chars = a[0].AsString();
  return Value::String(std::string(utf8::Strip(s, &chars, true, true)));
}

absl::StatusOr<Value> Replace(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a,
                         BindArgs("replace", std::move(args),
                                  {{"old", Value()}, {"new", Value()}, {"count", Value::None()}}));
  SHOAL_ASSIGN_OR_RETURN(std::string s, rt.Str(value));
  SHOAL_ASSIGN_OR_RETURN(std::string old_text, rt.Str(a[0]));
  SHOAL_ASSIGN_OR_RETURN(std::string new_text, rt.Str(a[1]));
  int64_t count = -1;
  if (a[2].is_int() || a[2].is_bool()) {
    count = a[2].AsIntLike();
  } else if (!a[2].is_none()) {
    return TypeError("replace count must be an integer");
  }
  SHOAL_ASSIGN_OR_RETURN(std::string out, PyReplace(rt, s, old_text, new_text, count));
  return Value::String(std::move(out));
}

absl::StatusOr<Value> Indent(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("indent", std::move(args),
                                          {{"width", Value::Int(4)},
                                           {"first", Value::Bool(false)},
                                           {"blank", Value::Bool(false)}}));
  std::string indentation;
  if (a[0].is_string()) {
    indentation = a[0].AsString();
  } else if (a[0].is_int() || a[0].is_bool()) {
    indentation.assign(static_cast<size_t>(std::clamp<int64_t>(a[0].AsIntLike(), 0, 4096)), ' ');
  } else {
    return TypeError("indent width must be an int or str");
  }
  // jinja2 starts with `s += "\n"`, which only a string survives.
  if (value.is_undefined()) return UndefinedError(value);
  if (!value.is_string()) {
    return TypeError(Cat("unsupported operand type(s) for +=: '", value.TypeName(), "' and 'str'"));
  }
  std::string s = value.AsString();
  s.push_back('\n');  // so that splitlines keeps a trailing empty line
  const std::vector<std::string_view> lines = utf8::SplitLines(s);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out.push_back('\n');
    const bool add = i == 0 ? a[1].Truthy() : (a[2].Truthy() || !lines[i].empty());
    if (add) out.append(indentation);
    out.append(lines[i]);
    SHOAL_RETURN_IF_ERROR(rt.ChargeString(out.size()));
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> Wordcount(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(std::string s, NoArgsStr(rt, "wordcount", value, std::move(args)));
  int64_t words = 0;
  bool in_word = false;
  for (size_t pos = 0; pos < s.size();) {
    const bool word = IsWordChar(utf8::Next(s, &pos));
    if (word && !in_word) ++words;
    in_word = word;
  }
  return Value::Int(words);
}

absl::StatusOr<Value> Center(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("center", std::move(args), {{"width", Value::Int(80)}}));
  if (!a[0].is_int()) return TypeError("center width must be an integer");
  SHOAL_ASSIGN_OR_RETURN(std::string s, rt.Str(value));
  const int64_t len = static_cast<int64_t>(utf8::Length(s));
  const int64_t width = a[0].AsInt();
  if (width <= len) return Value::String(std::move(s));
  SHOAL_RETURN_IF_ERROR(rt.ChargeString(s.size() + static_cast<size_t>(width - len)));
  // CPython's str.center puts the odd space on the left when the width is odd.
  const int64_t pad = width - len;
  const int64_t left = pad / 2 + (pad & width & 1);
  return Value::String(std::string(left, ' ') + s + std::string(pad - left, ' '));
}

absl::StatusOr<Value> Truncate(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("truncate", std::move(args),
                                          {{"length", Value::Int(255)},
                                           {"killwords", Value::Bool(false)},
                                           {"end", Value::String("...")},
                                           {"leeway", Value::Int(5)}}));
  if (!a[0].is_int() || !a[2].is_string() || !(a[3].is_int() || a[3].is_none())) {
    return TypeError("truncate expects integer length and leeway and a string end");
  }
  const std::string& end = a[2].AsString();
  // jinja2 measures the value itself; only a string can actually be cut.
  if (!value.is_string()) {
    int64_t n = 0;
    if (value.is_list() && !value.is_generator()) n = static_cast<int64_t>(value.Items().size());
    if (value.is_dict()) n = static_cast<int64_t>(value.AsDict().size());
    if (!value.is_undefined() && !value.is_list() && !value.is_dict()) {
      return TypeError(Cat("object of type '", value.TypeName(), "' has no len()"));
    }
    if (n <= a[0].AsInt() + (a[3].is_none() ? 5 : a[3].AsInt())) return value;
    return absl::UnimplementedError("unsupported truncate of a long non-string value");
  }
  std::string s = value.AsString();
  const int64_t length = a[0].AsInt();
  const int64_t leeway = a[3].is_none() ? 5 : a[3].AsInt();
  const int64_t end_len = static_cast<int64_t>(utf8::Length(end));
  if (length < end_len) return absl::InvalidArgumentError("truncate length is shorter than end");
  if (leeway < 0) return absl::InvalidArgumentError("truncate leeway must be >= 0");
  const std::vector<size_t> offsets = utf8::Offsets(s);
  const int64_t n = static_cast<int64_t>(offsets.size()) - 1;
  if (n <= length + leeway) return Value::String(std::move(s));
  std::string kept = s.substr(0, offsets[length - end_len]);
  if (!a[1].Truthy()) {
    const size_t space = kept.rfind(' ');
    if (space != std::string::npos) kept.resize(space);
  }
  return Value::String(kept + end);
}

absl::StatusOr<Value> String(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(std::string s, NoArgsStr(rt, "string", value, std::move(args)));
  return Value::String(std::move(s));
}

absl::StatusOr<Value> Escape(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(std::string s, NoArgsStr(rt, "escape", value, std::move(args)));
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&#34;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
  SHOAL_RETURN_IF_ERROR(rt.ChargeString(out.size()));
  return Value::String(std::move(out));
}

}  // namespace shoal::model::jinja::filters
