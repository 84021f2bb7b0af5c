#include "model/jinja/value.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "model/jinja/str_util.h"

namespace shoal::model::jinja {
namespace {

absl::Status BudgetExhausted() {
  return absl::ResourceExhaustedError("template exceeded its work limit");
}

absl::StatusOr<Value> FromJsonImpl(const nlohmann::ordered_json& json, int depth_left) {
  using Type = nlohmann::ordered_json::value_t;
  switch (json.type()) {
    case Type::null:
    case Type::discarded:
      return Value::None();
    case Type::boolean:
      return Value::Bool(json.get<bool>());
    case Type::number_integer:
      return Value::Int(json.get<int64_t>());
    case Type::number_unsigned: {
      const uint64_t u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::Float(static_cast<double>(u));
      return Value::Int(static_cast<int64_t>(u));
    }
    case Type::number_float:
      return Value::Float(json.get<double>());
    case Type::string:
      return Value::String(json.get<std::string>());
    case Type::binary:
      return absl::InvalidArgumentError("binary JSON values are not supported");
    case Type::array:
    case Type::object:
      break;
  }
  if (depth_left <= 0) return absl::InvalidArgumentError("JSON input is nested too deeply");
  if (json.is_array()) {
    std::vector<Value> items;
    items.reserve(json.size());
    for (const auto& item : json) {
      absl::StatusOr<Value> v = FromJsonImpl(item, depth_left - 1);
      if (!v.ok()) return v.status();
      items.push_back(*std::move(v));
    }
    return Value::List(std::move(items));
  }
  DictData dict;
  for (const auto& [key, item] : json.items()) {
    absl::StatusOr<Value> v = FromJsonImpl(item, depth_left - 1);
    if (!v.ok()) return v.status();
    dict.Set(key, *std::move(v));
  }
  return Value::Dict(std::move(dict));
}

// Python orders numbers by value whatever their type.
int CompareNumbers(const Value& a, const Value& b) {
  if (!a.is_float() && !b.is_float()) {
    const int64_t x = a.AsIntLike(), y = b.AsIntLike();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  const double x = a.AsDouble(), y = b.AsDouble();
  return x < y ? -1 : (x > y ? 1 : 0);
}

}  // namespace

Value Value::Undefined(std::string_view hint) {
  Value v;
  if (!hint.empty()) {
    v.data_ = UndefinedTag{std::make_shared<const std::string>(hint)};
  }
  return v;
}

Value Value::None() {
  Value v;
  v.data_ = NoneTag{};
  return v;
}

Value Value::Bool(bool b) {
  Value v;
  v.data_ = b;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.data_ = i;
  return v;
}

Value Value::Float(double d) {
  Value v;
  v.data_ = d;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.data_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::List(std::vector<Value> items, bool is_tuple) {
  return Sequence(std::move(items), is_tuple ? SeqKind::kTuple : SeqKind::kList);
}

Value Value::Sequence(std::vector<Value> items, SeqKind kind, std::string label) {
  auto list = std::make_shared<ListData>();
  int depth = 0;
  for (const Value& item : items) depth = std::max(depth, item.depth());
  list->items = std::move(items);
  list->kind = kind;
  list->label = std::move(label);
  list->depth = depth + 1;
  Value v;
  v.data_ = ListPtr(std::move(list));
  return v;
}

Value Value::Dict(DictData dict) {
  Value v;
  v.data_ = std::make_shared<const DictData>(std::move(dict));
  return v;
}

Value Value::NamespaceRef(Namespace* ns) {
  Value v;
  v.data_ = ns;
  return v;
}

Value Value::Loop(std::shared_ptr<LoopState> loop) {
  Value v;
  v.data_ = std::move(loop);
  return v;
}

Value Value::Function(std::shared_ptr<const Callable> callable) {
  Value v;
  v.data_ = std::move(callable);
  return v;
}

absl::StatusOr<Value> Value::FromJson(const nlohmann::ordered_json& json, int max_depth) {
  return FromJsonImpl(json, max_depth);
}

Value Value::Range(int64_t start, int64_t stop, int64_t step) {
  // 128-bit arithmetic: the bounds may be anywhere in int64.
  const __int128 s = start, e = stop, st = step;
  __int128 length = 0;
  if (st > 0 && s < e) length = (e - s + st - 1) / st;
  if (st < 0 && s > e) length = (s - e - st - 1) / -st;
  std::vector<Value> items;
  items.reserve(static_cast<size_t>(length));
  for (__int128 i = 0; i < length; ++i) items.push_back(Int(static_cast<int64_t>(s + i * st)));
  auto list = std::make_shared<ListData>();
  list->items = std::move(items);
  list->kind = SeqKind::kRange;
  list->range_start = start;
  list->range_stop = stop;
  list->range_step = step;
  Value v;
  v.data_ = ListPtr(std::move(list));
  return v;
}

Value Value::FailedGenerator(absl::Status error) {
  auto list = std::make_shared<ListData>();
  list->kind = SeqKind::kGenerator;
  list->label = "generator";
  list->deferred_error = std::move(error);
  Value v;
  v.data_ = ListPtr(std::move(list));
  return v;
}

bool Value::is_tuple() const { return is_list() && AsList().kind == SeqKind::kTuple; }

SeqKind Value::seq_kind() const { return AsList().kind; }

bool Value::is_list_or_tuple() const {
  return is_list() && (AsList().kind == SeqKind::kList || AsList().kind == SeqKind::kTuple);
}

bool Value::is_generator() const { return is_list() && AsList().kind == SeqKind::kGenerator; }

double Value::AsDouble() const {
  if (is_float()) return AsFloat();
  return static_cast<double>(AsIntLike());
}

const std::vector<Value>& Value::Items() const { return AsList().items; }

const void* Value::identity() const {
  switch (kind()) {
    case Kind::kString:
      return std::get<StringPtr>(data_).get();
    case Kind::kList:
      return std::get<ListPtr>(data_).get();
    case Kind::kDict:
      return std::get<DictPtr>(data_).get();
    case Kind::kNamespace:
      return AsNamespace();
    case Kind::kLoop:
      return std::get<std::shared_ptr<LoopState>>(data_).get();
    case Kind::kCallable:
      return std::get<CallablePtr>(data_).get();
    default:
      return nullptr;
  }
}

std::string_view Value::undefined_hint() const {
  if (!is_undefined()) return {};
  const auto& hint = std::get<UndefinedTag>(data_).hint;
  return hint ? std::string_view(*hint) : std::string_view();
}

int Value::depth() const {
  if (is_list()) return AsList().depth;
  if (is_dict()) return AsDict().depth();
  return 0;
}

bool Value::Truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return AsBool();
    case Kind::kInt:
      return AsInt() != 0;
    case Kind::kFloat:
      return AsFloat() != 0.0;
    case Kind::kString:
      return !AsString().empty();
    case Kind::kList:
      return is_generator() || !Items().empty();
    case Kind::kDict:
      return !AsDict().empty();
    default:
      return true;
  }
}

std::string_view Value::TypeName() const {
  switch (kind()) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      switch (seq_kind()) {
        case SeqKind::kList:
          return "list";
        case SeqKind::kTuple:
          return "tuple";
        case SeqKind::kRange:
          return "range";
        case SeqKind::kKeysView:
          return "dict_keys";
        case SeqKind::kValuesView:
          return "dict_values";
        case SeqKind::kItemsView:
          return "dict_items";
        case SeqKind::kGenerator:
          return AsList().label;
      }
      return "list";
    case Kind::kDict:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kLoop:
      return "LoopContext";
    case Kind::kCallable:
      return AsCallable().kind == Callable::Kind::kMacro ? "Macro" : "builtin_function_or_method";
  }
  return "object";
}

const Value* DictData::Find(std::string_view key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

void DictData::Set(std::string key, Value value) {
  depth_ = std::max(depth_, value.depth() + 1);
  auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.emplace_back(std::move(key), std::move(value));
}

int DictData::depth() const { return depth_; }

absl::StatusOr<bool> Equals(const Value& a, const Value& b, WorkBudget* budget) {
  if (!budget->Consume(1)) return BudgetExhausted();
  using Kind = Value::Kind;
  if (a.is_number() && b.is_number()) {
    if (std::isnan(a.AsDouble()) || std::isnan(b.AsDouble())) return false;
    return CompareNumbers(a, b) == 0;
  }
  if (a.kind() != b.kind()) return false;
  if (a.identity() != nullptr && a.identity() == b.identity()) return true;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.AsString() == b.AsString();
    case Kind::kList: {
      // Generators compare by identity (checked above); other kinds by content.
      if (a.seq_kind() != b.seq_kind() || a.is_generator()) return false;
      if (a.Items().size() != b.Items().size()) return false;
      for (size_t i = 0; i < a.Items().size(); ++i) {
        const Value& x = a.Items()[i];
        const Value& y = b.Items()[i];
        if (x.identity() != nullptr && x.identity() == y.identity()) continue;
        absl::StatusOr<bool> eq = Equals(x, y, budget);
        if (!eq.ok() || !*eq) return eq;
      }
      return true;
    }
    case Kind::kDict: {
      if (a.AsDict().size() != b.AsDict().size()) return false;
      for (const auto& [key, x] : a.AsDict().entries()) {
        const Value* y = b.AsDict().Find(key);
        if (y == nullptr) return false;
        if (x.identity() != nullptr && x.identity() == y->identity()) continue;
        absl::StatusOr<bool> eq = Equals(x, *y, budget);
        if (!eq.ok() || !*eq) return eq;
      }
      return true;
    }
    default:
      return false;  // identity compared above
  }
}

absl::StatusOr<int> Compare(const Value& a, const Value& b, WorkBudget* budget) {
  if (!budget->Consume(1)) return BudgetExhausted();
  if (a.is_number() && b.is_number()) return CompareNumbers(a, b);
  if (a.is_string() && b.is_string()) {
    const int c = a.AsString().compare(b.AsString());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list_or_tuple() && b.is_list_or_tuple() && a.seq_kind() == b.seq_kind()) {
    const auto& x = a.Items();
    const auto& y = b.Items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      absl::StatusOr<bool> eq = Equals(x[i], y[i], budget);
      if (!eq.ok()) return eq.status();
      if (!*eq) return Compare(x[i], y[i], budget);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  return absl::InvalidArgumentError(
      Cat("'<' not supported between instances of '", a.TypeName(), "' and '", b.TypeName(), "'"));
}

}  // namespace shoal::model::jinja
