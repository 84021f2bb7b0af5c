// Filters over sequences and mappings. jinja2 returns generators from map / select /
// unique; here they return lists, which is what templates iterate, join or `| list`.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "model/jinja/access.h"
#include "model/jinja/filters_internal.h"
#include "model/jinja/operators.h"
#include "model/jinja/str_util.h"
#include "model/jinja/utf8.h"

namespace shoal::model::jinja::filters {
namespace {

// map, select, reject, unique and items return Python generators in jinja2: always true,
// without len(), not indexable. The result keeps those traits (but may be iterated again).
Value Generator(std::vector<Value> items) {
  return Value::Sequence(std::move(items), SeqKind::kGenerator, "generator");
}

// jinja2 compares strings case-insensitively unless case_sensitive=True.
Value IgnoreCase(const Value& v) {
  return v.is_string() ? Value::String(utf8::Lower(v.AsString())) : v;
}

absl::StatusOr<std::shared_ptr<const ListData>> Elements(Runtime& rt, const Value& value) {
  SHOAL_ASSIGN_OR_RETURN(std::shared_ptr<const ListData> items, Iterate(value));
  SHOAL_RETURN_IF_ERROR(rt.Charge(static_cast<int64_t>(items->items.size())));
  return items;
}

// make_attrgetter: `attribute` may be a dotted path or an integer index.
absl::StatusOr<Value> AttrOf(const Value& item, const Value& attribute) {
  if (attribute.is_none() || attribute.is_undefined()) return item;
  if (attribute.is_int()) return GetItem(item, attribute);
  if (!attribute.is_string()) return TypeError("attribute must be a string or an integer");
  return GetAttrPath(item, attribute.AsString());
}

// Sorts `keys` (parallel to `items`) with Python's stable sort; a comparison error ends it.
absl::Status StableSort(Runtime& rt, std::vector<std::pair<Value, Value>>* keyed, bool reverse) {
  absl::Status error;
  std::stable_sort(keyed->begin(), keyed->end(), [&](const auto& a, const auto& b) {
    if (!error.ok()) return false;
    absl::StatusOr<int> c =
        reverse ? Compare(b.first, a.first, rt.budget()) : Compare(a.first, b.first, rt.budget());
    if (!c.ok()) {
      error = c.status();
      return false;
    }
    return *c < 0;
  });
  return error;
}

absl::StatusOr<Value> SelectOrReject(Runtime& rt, const Value& value, CallArgs args, bool select,
                                     bool lookup_attr) {
  const char* name =
      lookup_attr ? (select ? "selectattr" : "rejectattr") : (select ? "select" : "reject");
  size_t off = 0;
  Value attribute;
  if (lookup_attr) {
    if (args.positional.empty()) {
      return absl::InvalidArgumentError(Cat(name, ": missing parameter for attribute name"));
    }
    attribute = args.positional[0];
    off = 1;
  }
  std::optional<std::string> test;
  CallArgs test_args;
  if (args.positional.size() > off) {
    if (!args.positional[off].is_string())
      return TypeError(Cat(name, ": test name must be a string"));
    test = args.positional[off].AsString();
    test_args.positional.assign(args.positional.begin() + off + 1, args.positional.end());
    test_args.keyword = args.keyword;
  }
  SHOAL_ASSIGN_OR_RETURN(auto items, Elements(rt, value));
  std::vector<Value> out;
  for (const Value& item : items->items) {
    SHOAL_ASSIGN_OR_RETURN(Value subject, AttrOf(item, attribute));
    bool pass = subject.Truthy();
    if (test.has_value()) {
      SHOAL_ASSIGN_OR_RETURN(pass, rt.CallTest(*test, subject, test_args));
    }
    if (pass == select) out.push_back(item);
  }
  return Generator(std::move(out));
}

absl::StatusOr<Value> MinMax(Runtime& rt, const Value& value, CallArgs args, bool max) {
  SHOAL_ASSIGN_OR_RETURN(
      auto a, BindArgs(max ? "max" : "min", std::move(args),
                       {{"case_sensitive", Value::Bool(false)}, {"attribute", Value::None()}}));
  SHOAL_ASSIGN_OR_RETURN(auto items, Elements(rt, value));
  if (items->items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  const Value* best = nullptr;
  Value best_key;
  for (const Value& item : items->items) {
    SHOAL_ASSIGN_OR_RETURN(Value key, AttrOf(item, a[1]));
    if (!a[0].Truthy()) key = IgnoreCase(key);
    if (best != nullptr) {
      SHOAL_ASSIGN_OR_RETURN(int c, Compare(key, best_key, rt.budget()));
      if (max ? c <= 0 : c >= 0) continue;
    }
    best = &item;
    best_key = std::move(key);
  }
  return *best;
}

}  // namespace

absl::StatusOr<Value> Length(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_RETURN_IF_ERROR(BindArgs("length", std::move(args), {}).status());
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      return Value::Int(0);
    case Value::Kind::kString:
      return Value::Int(static_cast<int64_t>(utf8::Length(value.AsString())));
    case Value::Kind::kList:
      if (value.is_generator()) {
        return TypeError(Cat("object of type '", value.TypeName(), "' has no len()"));
      }
      return Value::Int(static_cast<int64_t>(value.Items().size()));
    case Value::Kind::kDict:
      return Value::Int(static_cast<int64_t>(value.AsDict().size()));
    case Value::Kind::kLoop:
      return Value::Int(static_cast<int64_t>(value.AsLoop().items->items.size()));
    default:
      return TypeError(Cat("object of type '", value.TypeName(), "' has no len()"));
  }
}

absl::StatusOr<Value> List(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_RETURN_IF_ERROR(BindArgs("list", std::move(args), {}).status());
  if (value.is_list() && value.seq_kind() == SeqKind::kList) return value;
  SHOAL_ASSIGN_OR_RETURN(auto items, Elements(rt, value));
  return Value::List(items->items);
}

absl::StatusOr<Value> Join(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(
      auto a,
      BindArgs("join", std::move(args), {{"d", Value::String("")}, {"attribute", Value::None()}}));
  SHOAL_ASSIGN_OR_RETURN(std::string sep, rt.Str(a[0]));
  SHOAL_ASSIGN_OR_RETURN(auto items, Elements(rt, value));
  std::string out;
  for (size_t i = 0; i < items->items.size(); ++i) {
    SHOAL_ASSIGN_OR_RETURN(Value item, AttrOf(items->items[i], a[1]));
    SHOAL_ASSIGN_OR_RETURN(std::string text, rt.Str(item));
    if (i > 0) out.append(sep);
    out.append(text);
    SHOAL_RETURN_IF_ERROR(rt.ChargeString(out.size()));
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> First(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_RETURN_IF_ERROR(BindArgs("first", std::move(args), {}).status());
  SHOAL_ASSIGN_OR_RETURN(auto items, Iterate(value));
  if (items->items.empty()) return Value::Undefined("No first item, sequence was empty.");
  return items->items.front();
}

absl::StatusOr<Value> Last(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_RETURN_IF_ERROR(BindArgs("last", std::move(args), {}).status());
  if (value.is_generator()) return TypeError("'generator' object is not reversible");
  SHOAL_ASSIGN_OR_RETURN(auto items, Iterate(value));
  if (items->items.empty()) return Value::Undefined("No last item, sequence was empty.");
  return items->items.back();
}

absl::StatusOr<Value> Reverse(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_RETURN_IF_ERROR(BindArgs("reverse", std::move(args), {}).status());
  SHOAL_ASSIGN_OR_RETURN(auto items, Elements(rt, value));
  if (value.is_string()) {
    std::string out;
    for (auto it = items->items.rbegin(); it != items->items.rend(); ++it) out += it->AsString();
    return Value::String(std::move(out));
  }
  std::vector<Value> reversed(items->items.rbegin(), items->items.rend());
  // Python's reversed() gives an iterator; a generator cannot be reversed, so jinja2 makes
  // a list of it.
  if (!value.is_list() && !value.is_dict()) return Value::List(std::move(reversed));
  if (value.is_generator()) return Value::List(std::move(reversed));
  const char* type = "list_reverseiterator";
  if (value.is_dict() || value.seq_kind() == SeqKind::kKeysView) type = "dict_reversekeyiterator";
  if (value.is_list() && value.seq_kind() == SeqKind::kValuesView)
    type = "dict_reversevalueiterator";
  if (value.is_list() && value.seq_kind() == SeqKind::kItemsView) type = "dict_reverseitemiterator";
  if (value.is_list() && value.seq_kind() == SeqKind::kRange) type = "range_iterator";
  return Value::Sequence(std::move(reversed), SeqKind::kGenerator, type);
}

absl::StatusOr<Value> Sort(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("sort", std::move(args),
                                          {{"reverse", Value::Bool(false)},
                                           {"case_sensitive", Value::Bool(false)},
                                           {"attribute", Value::None()}}));
  SHOAL_ASSIGN_OR_RETURN(auto items, Elements(rt, value));
  // sort(attribute="a,b") sorts by a tuple of attributes.
  std::vector<Value> attributes;
  if (a[2].is_string()) {
    for (std::string_view part : Split(a[2].AsString(), ',')) {
      attributes.push_back(Value::String(std::string(part)));
    }
  } else {
    attributes.push_back(a[2]);
  }
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : items->items) {
    std::vector<Value> parts;
    for (const Value& attribute : attributes) {
      SHOAL_ASSIGN_OR_RETURN(Value key, AttrOf(item, attribute));
      parts.push_back(a[1].Truthy() ? key : IgnoreCase(key));
    }
    // jinja2's multi-attribute getter makes every key a list, so equal keys are never
    // ordered with `<` (which would fail for Undefined).
    keyed.emplace_back(Value::List(std::move(parts)), item);
  }
  SHOAL_RETURN_IF_ERROR(StableSort(rt, &keyed, a[0].Truthy()));
  std::vector<Value> out;
  for (auto& [key, item] : keyed) out.push_back(std::move(item));
  return Value::List(std::move(out));
}

absl::StatusOr<Value> Unique(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(
      auto a, BindArgs("unique", std::move(args),
                       {{"case_sensitive", Value::Bool(false)}, {"attribute", Value::None()}}));
  SHOAL_ASSIGN_OR_RETURN(auto items, Elements(rt, value));
  std::vector<Value> seen, out;
  for (const Value& item : items->items) {
    SHOAL_ASSIGN_OR_RETURN(Value key, AttrOf(item, a[1]));
    if (!a[0].Truthy()) key = IgnoreCase(key);
    if (key.is_dict() || (key.is_list() && key.seq_kind() != SeqKind::kTuple &&
                          key.seq_kind() != SeqKind::kRange && !key.is_generator())) {
      return TypeError(Cat("unhashable type: '", key.TypeName(), "'"));
    }
    bool duplicate = false;
    for (const Value& s : seen) {
      SHOAL_ASSIGN_OR_RETURN(duplicate, Equals(s, key, rt.budget()));
      if (duplicate) break;
    }
    if (duplicate) continue;
    seen.push_back(std::move(key));
    out.push_back(item);
  }
  return Generator(std::move(out));
}

absl::StatusOr<Value> Dictsort(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("dictsort", std::move(args),
                                          {{"case_sensitive", Value::Bool(false)},
                                           {"by", Value::String("key")},
                                           {"reverse", Value::Bool(false)}}));
  if (value.is_undefined()) return UndefinedError(value);
  if (!value.is_dict()) return TypeError(Cat("dictsort expects a mapping, got ", value.TypeName()));
  const bool by_value = a[1].is_string() && a[1].AsString() == "value";
  if (!by_value && !(a[1].is_string() && a[1].AsString() == "key")) {
    return absl::InvalidArgumentError("You can only sort by either \"key\" or \"value\"");
  }
  SHOAL_RETURN_IF_ERROR(rt.Charge(static_cast<int64_t>(value.AsDict().size())));
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& [key, v] : value.AsDict().entries()) {
    Value sort_key = by_value ? v : Value::String(key);
    if (!a[0].Truthy()) sort_key = IgnoreCase(sort_key);
    keyed.emplace_back(std::move(sort_key), Value::List({Value::String(key), v}, true));
  }
  SHOAL_RETURN_IF_ERROR(StableSort(rt, &keyed, a[2].Truthy()));
  std::vector<Value> out;
  for (auto& [key, item] : keyed) out.push_back(std::move(item));
  return Value::List(std::move(out));
}

absl::StatusOr<Value> Items(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_RETURN_IF_ERROR(BindArgs("items", std::move(args), {}).status());
  if (value.is_undefined()) return Generator({});
  if (!value.is_dict()) return TypeError("Can only get item pairs from a mapping.");
  SHOAL_RETURN_IF_ERROR(rt.Charge(static_cast<int64_t>(value.AsDict().size())));
  std::vector<Value> out;
  for (const auto& [key, v] : value.AsDict().entries()) {
    out.push_back(Value::List({Value::String(key), v}, true));
  }
  return Generator(std::move(out));
}

absl::StatusOr<Value> Map(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto items, Elements(rt, value));
  std::vector<Value> out;
  if (args.positional.empty()) {
    SHOAL_ASSIGN_OR_RETURN(auto a, BindArgs("map", std::move(args),
                                            {{"attribute", Value()}, {"default", Value::None()}}));
    if (a[0].is_undefined()) return absl::InvalidArgumentError("map requires a filter argument");
    for (const Value& item : items->items) {
      SHOAL_ASSIGN_OR_RETURN(Value v, AttrOf(item, a[0]));
      if (v.is_undefined() && !a[1].is_none()) v = a[1];
      out.push_back(std::move(v));
    }
    return Generator(std::move(out));
  }
  if (!args.positional[0].is_string()) return TypeError("map filter name must be a string");
  const std::string name = args.positional[0].AsString();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const Value& item : items->items) {
    SHOAL_ASSIGN_OR_RETURN(Value v, rt.CallFilter(name, item, rest));
    out.push_back(std::move(v));
  }
  return Generator(std::move(out));
}

absl::StatusOr<Value> Select(Runtime& rt, const Value& value, CallArgs args) {
  return SelectOrReject(rt, value, std::move(args), true, false);
}
absl::StatusOr<Value> Reject(Runtime& rt, const Value& value, CallArgs args) {
  return SelectOrReject(rt, value, std::move(args), false, false);
}
absl::StatusOr<Value> SelectAttr(Runtime& rt, const Value& value, CallArgs args) {
  return SelectOrReject(rt, value, std::move(args), true, true);
}
absl::StatusOr<Value> RejectAttr(Runtime& rt, const Value& value, CallArgs args) {
  return SelectOrReject(rt, value, std::move(args), false, true);
}

absl::StatusOr<Value> Sum(Runtime& rt, const Value& value, CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(
      auto a,
      BindArgs("sum", std::move(args), {{"attribute", Value::None()}, {"start", Value::Int(0)}}));
  if (a[1].is_string()) return TypeError("sum() can't sum strings [use ''.join(seq) instead]");
  SHOAL_ASSIGN_OR_RETURN(auto items, Elements(rt, value));
  Value total = a[1];
  for (const Value& item : items->items) {
    SHOAL_ASSIGN_OR_RETURN(Value v, AttrOf(item, a[0]));
    SHOAL_ASSIGN_OR_RETURN(total, BinaryOperation(rt, BinaryOp::kAdd, total, v));
  }
  return total;
}

absl::StatusOr<Value> Min(Runtime& rt, const Value& value, CallArgs args) {
  return MinMax(rt, value, std::move(args), false);
}
absl::StatusOr<Value> Max(Runtime& rt, const Value& value, CallArgs args) {
  return MinMax(rt, value, std::move(args), true);
}

}  // namespace shoal::model::jinja::filters
