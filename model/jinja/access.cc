#include "model/jinja/access.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "model/jinja/methods.h"
#include "model/jinja/runtime.h"
#include "model/jinja/str_util.h"
#include "model/jinja/utf8.h"

namespace shoal::model::jinja {
namespace {

Value NoAttribute(const Value& obj, std::string_view name) {
  if (obj.is_none()) return Value::Undefined(Cat("'None' has no attribute '", name, "'"));
  return Value::Undefined(Cat("'", obj.TypeName(), " object' has no attribute '", name, "'"));
}

Value LoopAttr(const Value& loop_value, std::string_view name, bool* found) {
  const LoopState& loop = loop_value.AsLoop();
  const auto& items = loop.items->items;
  const int64_t n = static_cast<int64_t>(items.size());
  const int64_t i = static_cast<int64_t>(loop.index);
  *found = true;
  if (name == "index") return Value::Int(i + 1);
  if (name == "index0") return Value::Int(i);
  if (name == "revindex") return Value::Int(n - i);
  if (name == "revindex0") return Value::Int(n - i - 1);
  if (name == "first") return Value::Bool(i == 0);
  if (name == "last") return Value::Bool(i == n - 1);
  if (name == "length") return Value::Int(n);
  if (name == "depth") return Value::Int(loop.depth0 + 1);
  if (name == "depth0") return Value::Int(loop.depth0);
  if (name == "previtem") {
    return i > 0 ? items[i - 1] : Value::Undefined("there is no previous item");
  }
  if (name == "nextitem") {
    return i + 1 < n ? items[i + 1] : Value::Undefined("there is no next item");
  }
  *found = false;
  return Value();
}

// Attribute lookup shared by `.name` and the fallback of `['name']`.
absl::StatusOr<Value> Attribute(const Value& obj, std::string_view name, bool prefer_key) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined:
      return UndefinedError(obj);
    case Value::Kind::kNamespace: {
      const Value* v = obj.AsNamespace()->attrs().Find(name);
      return v != nullptr ? *v : NoAttribute(obj, name);
    }
    case Value::Kind::kLoop: {
      bool found = false;
      Value v = LoopAttr(obj, name, &found);
      if (found) return v;
      break;
    }
    case Value::Kind::kDict:
      if (prefer_key) {
        if (const Value* v = obj.AsDict().Find(name)) return *v;
      }
      break;
    default:
      break;
  }
  SHOAL_ASSIGN_OR_RETURN(std::optional<Value> method, FindMethod(obj, name));
  if (method.has_value()) return *std::move(method);
  if (obj.is_dict()) {
    if (const Value* v = obj.AsDict().Find(name)) return *v;
  }
  return NoAttribute(obj, name);
}

// Python's slice.indices(): clamps start/stop for a sequence of length n.
int64_t ClampIndex(int64_t i, int64_t n, int64_t step) {
  if (i < 0) {
    i += n;
    if (i < 0) i = step < 0 ? -1 : 0;
  } else if (i >= n) {
    i = step < 0 ? n - 1 : n;
  }
  return i;
}

// Slice bounds are None (omitted) or integers; anything else is Python's TypeError.
absl::Status SliceBound(const Value& v, std::optional<int64_t>* out) {
  if (v.is_none()) {
    *out = std::nullopt;
    return absl::OkStatus();
  }
  if (v.is_int() || v.is_bool()) {
    *out = v.AsIntLike();
    return absl::OkStatus();
  }
  return TypeError("slice indices must be integers or None");
}

}  // namespace

absl::StatusOr<Value> GetAttr(const Value& obj, std::string_view name) {
  return Attribute(obj, name, /*prefer_key=*/false);
}

absl::StatusOr<Value> GetItem(const Value& obj, const Value& index) {
  if (obj.is_undefined()) return UndefinedError(obj);
  if (index.is_string()) {
    return Attribute(obj, index.AsString(), /*prefer_key=*/true);
  }
  // Generators and dict views cannot be indexed: jinja2 turns Python's TypeError into
  // Undefined.
  const bool indexable =
      obj.is_string() ||
      (obj.is_list() && (obj.is_list_or_tuple() || obj.seq_kind() == SeqKind::kRange));
  if (indexable && (index.is_int() || index.is_bool())) {
    int64_t i = index.AsIntLike();
    if (obj.is_list()) {
      const int64_t n = static_cast<int64_t>(obj.Items().size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return obj.Items()[i];
    } else {
      const std::vector<size_t> offsets = utf8::Offsets(obj.AsString());
      const int64_t n = static_cast<int64_t>(offsets.size()) - 1;
      if (i < 0) i += n;
      if (i >= 0 && i < n) {
        return Value::String(obj.AsString().substr(offsets[i], offsets[i + 1] - offsets[i]));
      }
    }
    return Value::Undefined(
        Cat("'", obj.TypeName(), " object' has no element ", index.AsIntLike()));
  }
  return Value::Undefined(Cat("'", obj.TypeName(), " object' has no element"));
}

absl::StatusOr<Value> GetSlice(const Value& obj, const Value& start_value, const Value& stop_value,
                               const Value& step_value) {
  // jinja2 compiles slices to plain Python subscripts (not environment.getitem), so
  // slicing anything but a sequence is an error rather than Undefined.
  if (obj.is_undefined()) return UndefinedError(obj);
  if (obj.is_dict()) return TypeError("unhashable type: 'slice'");
  if (!obj.is_string() &&
      !(obj.is_list() && (obj.is_list_or_tuple() || obj.seq_kind() == SeqKind::kRange))) {
    return TypeError(Cat("'", obj.TypeName(), "' object is not subscriptable"));
  }
  std::optional<int64_t> start, stop, step;
  SHOAL_RETURN_IF_ERROR(SliceBound(start_value, &start));
  SHOAL_RETURN_IF_ERROR(SliceBound(stop_value, &stop));
  SHOAL_RETURN_IF_ERROR(SliceBound(step_value, &step));
  const int64_t s = step.value_or(1);
  if (s == 0) return absl::InvalidArgumentError("slice step cannot be zero");
  std::vector<size_t> offsets;
  int64_t n;
  if (obj.is_list()) {
    n = static_cast<int64_t>(obj.Items().size());
  } else {
    offsets = utf8::Offsets(obj.AsString());
    n = static_cast<int64_t>(offsets.size()) - 1;
  }
  const int64_t begin = start ? ClampIndex(*start, n, s) : (s < 0 ? n - 1 : 0);
  const int64_t end = stop ? ClampIndex(*stop, n, s) : (s < 0 ? -1 : n);
  std::vector<int64_t> picked;
  if (s > 0) {
    for (int64_t i = begin; i < end;) {
      picked.push_back(i);
      if (end - i <= s) break;
      i += s;
    }
  } else {
    for (int64_t i = begin; i > end;) {
      picked.push_back(i);
      if (i - end <= -s) break;
      i += s;
    }
  }
  if (obj.is_list() && obj.seq_kind() == SeqKind::kRange) {
    // range(...)[a:b:c] is a range again, with Python's arithmetic on the clamped bounds.
    const ListData& r = obj.AsList();
    const __int128 new_start =
        static_cast<__int128>(r.range_start) + __int128{begin} * r.range_step;
    const __int128 new_stop = static_cast<__int128>(r.range_start) + __int128{end} * r.range_step;
    const __int128 new_step = static_cast<__int128>(r.range_step) * s;
    for (__int128 v : {new_start, new_stop, new_step}) {
      if (v > INT64_MAX || v < INT64_MIN) {
        return absl::InvalidArgumentError("range slice does not fit in 64 bits");
      }
    }
    return Value::Range(static_cast<int64_t>(new_start), static_cast<int64_t>(new_stop),
                        static_cast<int64_t>(new_step));
  }
  if (obj.is_list()) {
    std::vector<Value> items;
    items.reserve(picked.size());
    for (int64_t i : picked) items.push_back(obj.Items()[i]);
    return Value::List(std::move(items), obj.is_tuple());
  }
  std::string out;
  const std::string& str = obj.AsString();
  for (int64_t i : picked) out.append(str, offsets[i], offsets[i + 1] - offsets[i]);
  return Value::String(std::move(out));
}

absl::StatusOr<std::shared_ptr<const ListData>> Iterate(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kList:
      if (!value.AsList().deferred_error.ok()) return value.AsList().deferred_error;
      return value.SharedList();
    case Value::Kind::kUndefined:
      return std::make_shared<const ListData>();
    case Value::Kind::kDict: {
      auto list = std::make_shared<ListData>();
      list->items.reserve(value.AsDict().size());
      for (const auto& [key, v] : value.AsDict().entries())
        list->items.push_back(Value::String(key));
      return list;
    }
    case Value::Kind::kString: {
      auto list = std::make_shared<ListData>();
      const std::string& s = value.AsString();
      for (size_t pos = 0; pos < s.size();) {
        const size_t start = pos;
        utf8::Next(s, &pos);
        list->items.push_back(Value::String(s.substr(start, pos - start)));
      }
      return list;
    }
    default:
      return TypeError(Cat("'", value.TypeName(), "' object is not iterable"));
  }
}

absl::StatusOr<Value> GetAttrPath(const Value& obj, std::string_view path) {
  Value current = obj;
  for (std::string_view part : Split(path, '.')) {
    int64_t index = 0;
    if (!part.empty() && absl::ascii_isdigit(static_cast<unsigned char>(part[0])) &&
        ParseDecimal(part, &index)) {
      SHOAL_ASSIGN_OR_RETURN(current, GetItem(current, Value::Int(index)));
    } else {
      SHOAL_ASSIGN_OR_RETURN(current, GetItem(current, Value::String(std::string(part))));
    }
  }
  return current;
}

}  // namespace shoal::model::jinja
