#include "model/jinja/value_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "model/jinja/str_util.h"
#include "model/jinja/utf8.h"

namespace shoal::model::jinja {
namespace {

absl::Status TooDeep() {
  return absl::ResourceExhaustedError("value is nested too deeply to print");
}
absl::Status TooLong() {
  return absl::ResourceExhaustedError("printed value exceeds the output limit");
}

class Printer {
 public:
  Printer(const FormatLimits& limits, std::string* out) : limits_(limits), out_(out) {}

  absl::Status Str(const Value& v, int depth) {
    switch (v.kind()) {
      case Value::Kind::kUndefined:
        return absl::OkStatus();
      case Value::Kind::kString:
        out_->append(v.AsString());
        return CheckSize();
      default:
        return Repr(v, depth);
    }
  }

  absl::Status Repr(const Value& v, int depth) {
    if (depth > limits_.max_depth) return TooDeep();
    switch (v.kind()) {
      case Value::Kind::kUndefined:
        out_->append("Undefined");
        break;
      case Value::Kind::kNone:
        out_->append("None");
        break;
      case Value::Kind::kBool:
        out_->append(v.AsBool() ? "True" : "False");
        break;
      case Value::Kind::kInt:
        CatTo(out_, v.AsInt());
        break;
      case Value::Kind::kFloat:
        out_->append(FormatFloat(v.AsFloat()));
        break;
      case Value::Kind::kString:
        AppendReprString(v.AsString(), out_);
        break;
      case Value::Kind::kList:
        return List(v, depth);
      case Value::Kind::kDict:
        return Dict(v.AsDict(), depth);
      case Value::Kind::kNamespace:
        out_->append("<Namespace ");
        if (absl::Status s = Dict(v.AsNamespace()->attrs(), depth); !s.ok()) return s;
        out_->append(">");
        break;
      case Value::Kind::kLoop: {
        const LoopState& loop = v.AsLoop();
        CatTo(out_, "<LoopContext ", loop.index + 1, "/", loop.items->items.size(), ">");
        break;
      }
      case Value::Kind::kCallable: {
        const Callable& c = v.AsCallable();
        if (c.kind == Callable::Kind::kMacro) {
          CatTo(out_, "<Macro '", c.name, "'>");
        } else if (c.kind == Callable::Kind::kMethod) {
          CatTo(out_, "<built-in method ", c.name, " of ", c.receiver.TypeName(), " object>");
        } else {
          CatTo(out_, "<function ", c.name, ">");
        }
        break;
      }
    }
    return CheckSize();
  }

 private:
  absl::Status List(const Value& v, int depth) {
    const ListData& list = v.AsList();
    const char* open = "[";
    const char* close = "]";
    switch (list.kind) {
      case SeqKind::kList:
        break;
      case SeqKind::kTuple:
        open = "(", close = list.items.size() == 1 ? ",)" : ")";
        break;
      case SeqKind::kRange:
        CatTo(out_, "range(", list.range_start, ", ", list.range_stop);
        if (list.range_step != 1) CatTo(out_, ", ", list.range_step);
        out_->append(")");
        return CheckSize();
      case SeqKind::kKeysView:
        open = "dict_keys([", close = "])";
        break;
      case SeqKind::kValuesView:
        open = "dict_values([", close = "])";
        break;
      case SeqKind::kItemsView:
        open = "dict_items([", close = "])";
        break;
      case SeqKind::kGenerator:
        // Python adds the object's address, which no two runs share anyway.
        CatTo(out_, "<", list.label, " object>");
        return CheckSize();
    }
    out_->append(open);
    for (size_t i = 0; i < list.items.size(); ++i) {
      if (i > 0) out_->append(", ");
      if (absl::Status s = Repr(list.items[i], depth + 1); !s.ok()) return s;
    }
    out_->append(close);
    return CheckSize();
  }

  absl::Status Dict(const DictData& dict, int depth) {
    out_->push_back('{');
    bool first = true;
    for (const auto& [key, item] : dict.entries()) {
      if (!first) out_->append(", ");
      first = false;
      AppendReprString(key, out_);
      out_->append(": ");
      if (absl::Status s = Repr(item, depth + 1); !s.ok()) return s;
    }
    out_->push_back('}');
    return CheckSize();
  }

  absl::Status CheckSize() {
    return out_->size() > limits_.max_bytes ? TooLong() : absl::OkStatus();
  }

  const FormatLimits& limits_;
  std::string* out_;
};

void AppendJsonString(std::string_view s, bool ensure_ascii, std::string* out) {
  out->push_back('"');
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    const char32_t cp = utf8::Next(s, &pos);
    switch (cp) {
      case '"':
        out->append("\\\"");
        continue;
      case '\\':
        out->append("\\\\");
        continue;
      case '\n':
        out->append("\\n");
        continue;
      case '\r':
        out->append("\\r");
        continue;
      case '\t':
        out->append("\\t");
        continue;
      case '\b':
        out->append("\\b");
        continue;
      case '\f':
        out->append("\\f");
        continue;
      default:
        break;
    }
    if (cp < 0x20) {
      absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned>(cp));
    } else if (ensure_ascii && cp >= 0x80) {
      if (cp >= 0x10000) {
        const char32_t v = cp - 0x10000;
        absl::StrAppendFormat(out, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      } else {
        absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned>(cp));
      }
    } else {
      out->append(s.substr(start, pos - start));
    }
  }
  out->push_back('"');
}

class JsonWriter {
 public:
  JsonWriter(const JsonOptions& options, const FormatLimits& limits, std::string* out)
      : options_(options), limits_(limits), out_(out) {}

  absl::Status Write(const Value& v, int level) {
    if (level > limits_.max_depth) return TooDeep();
    switch (v.kind()) {
      case Value::Kind::kNone:
        out_->append("null");
        break;
      case Value::Kind::kBool:
        out_->append(v.AsBool() ? "true" : "false");
        break;
      case Value::Kind::kInt:
        CatTo(out_, v.AsInt());
        break;
      case Value::Kind::kFloat: {
        const double d = v.AsFloat();
        if (std::isnan(d)) {
          out_->append("NaN");
        } else if (std::isinf(d)) {
          out_->append(d > 0 ? "Infinity" : "-Infinity");
        } else {
          out_->append(FormatFloat(d));
        }
        break;
      }
      case Value::Kind::kString:
        AppendJsonString(v.AsString(), options_.ensure_ascii, out_);
        break;
      case Value::Kind::kList:
        if (!v.is_list_or_tuple()) {
          return absl::InvalidArgumentError(
              Cat("Object of type ", v.TypeName(), " is not JSON serializable"));
        }
        return List(v.Items(), level);
      case Value::Kind::kDict:
        return Dict(v.AsDict(), level);
      default:
        return absl::InvalidArgumentError(
            Cat("Object of type ", v.TypeName(), " is not JSON serializable"));
    }
    return out_->size() > limits_.max_bytes ? TooLong() : absl::OkStatus();
  }

 private:
  void NewLine(int level) {
    if (!options_.has_indent) return;
    out_->push_back('\n');
    for (int i = 0; i < level; ++i) out_->append(options_.indent);
  }

  absl::Status List(const std::vector<Value>& items, int level) {
    if (items.empty()) {
      out_->append("[]");
      return absl::OkStatus();
    }
    out_->push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_->append(options_.item_separator);
      NewLine(level + 1);
      if (absl::Status s = Write(items[i], level + 1); !s.ok()) return s;
    }
    NewLine(level);
    out_->push_back(']');
    return absl::OkStatus();
  }

  absl::Status Dict(const DictData& dict, int level) {
    if (dict.empty()) {
      out_->append("{}");
      return absl::OkStatus();
    }
    std::vector<const std::pair<std::string, Value>*> entries;
    entries.reserve(dict.size());
    for (const auto& entry : dict.entries()) entries.push_back(&entry);
    if (options_.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto* a, const auto* b) { return a->first < b->first; });
    }
    out_->push_back('{');
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out_->append(options_.item_separator);
      NewLine(level + 1);
      AppendJsonString(entries[i]->first, options_.ensure_ascii, out_);
      out_->append(options_.key_separator);
      if (absl::Status s = Write(entries[i]->second, level + 1); !s.ok()) return s;
    }
    NewLine(level);
    out_->push_back('}');
    return absl::OkStatus();
  }

  const JsonOptions& options_;
  const FormatLimits& limits_;
  std::string* out_;
};

}  // namespace

absl::Status AppendStr(const Value& value, const FormatLimits& limits, std::string* out) {
  return Printer(limits, out).Str(value, 0);
}

absl::Status AppendRepr(const Value& value, const FormatLimits& limits, std::string* out) {
  return Printer(limits, out).Repr(value, 0);
}

void AppendReprString(std::string_view s, std::string* out) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  out->push_back(quote);
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    const char32_t cp = utf8::Next(s, &pos);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(cp));
    } else if (cp == '\t') {
      out->append("\\t");
    } else if (cp == '\n') {
      out->append("\\n");
    } else if (cp == '\r') {
      out->append("\\r");
    } else if (cp < 0x20 || cp == 0x7F) {
      absl::StrAppendFormat(out, "\\x%02x", static_cast<unsigned>(cp));
    } else if (cp < 0x7F || utf8::IsPrintable(cp)) {
      out->append(s.substr(start, pos - start));
    } else if (cp <= 0xFF) {
      absl::StrAppendFormat(out, "\\x%02x", static_cast<unsigned>(cp));
    } else if (cp <= 0xFFFF) {
      absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned>(cp));
    } else {
      absl::StrAppendFormat(out, "\\U%08x", static_cast<unsigned>(cp));
    }
  }
  out->push_back(quote);
}

std::string FormatFloat(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  // Shortest digits that round-trip, as Python's repr uses.
  const auto result = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, result.ptr - buf);
  std::string out;
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                  exponent);
  if (exponent >= -4 && exponent < 16) {
    if (exponent >= 0) {
      const size_t int_digits = static_cast<size_t>(exponent) + 1;
      if (digits.size() <= int_digits) {
        out.append(digits).append(int_digits - digits.size(), '0').append(".0");
      } else {
        out.append(digits, 0, int_digits).append(".").append(digits, int_digits);
      }
    } else {
      out.append("0.").append(static_cast<size_t>(-exponent - 1), '0').append(digits);
    }
    return out;
  }
  out.push_back(digits[0]);
  if (digits.size() > 1) out.append(".").append(digits, 1);
  absl::StrAppendFormat(&out, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out;
}

absl::Status AppendJson(const Value& value, const JsonOptions& options, const FormatLimits& limits,
                        std::string* out) {
  return JsonWriter(options, limits, out).Write(value, 0);
}

}  // namespace shoal::model::jinja
