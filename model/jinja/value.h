// Values of the Jinja interpreter: what template expressions compute and what callers pass
// in as variables. They follow Python's types as jinja2 sees them (None, bool, int, float,
// str, list/tuple, dict with insertion order) plus jinja2's Undefined, namespace objects,
// the `loop` object and callables (macros, globals, bound methods).
//
// Strings, lists and dicts are immutable and shared, so copying a Value is cheap and a
// Value may be read from many threads at once. Namespaces are the one mutable kind; they
// live in the arena of a single render and never escape it.
#ifndef SHOAL_MODEL_JINJA_VALUE_H_
#define SHOAL_MODEL_JINJA_VALUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/jinja/str_util.h"
#include "nlohmann/json.hpp"

namespace shoal::model::jinja {

class Value;
struct ListData;

// Which Python sequence type a kList value stands for. They differ in what jinja2 lets a
// template do with them: a generator (what map / select / unique return) is always true,
// has no len() and cannot be indexed; dict views and ranges print differently; only lists
// and tuples are JSON.
enum class SeqKind : uint8_t {
  kList,
  kTuple,
  kRange,
  kKeysView,
  kValuesView,
  kItemsView,
  kGenerator,  // also reversed() iterators; ListData::label names the Python type
};
class DictData;
class Namespace;
struct LoopState;
struct Callable;

// Work budget shared by every loop and every potentially expensive operation of one
// render; when it runs out the render fails instead of hanging.
class WorkBudget {
 public:
  explicit WorkBudget(int64_t steps) : remaining_(steps) {}
  // False when the budget is exhausted.
  bool Consume(int64_t steps) {
    remaining_ -= steps;
    return remaining_ >= 0;
  }
  int64_t remaining() const { return remaining_; }

 private:
  int64_t remaining_;
};

class Value {
 public:
  enum class Kind : uint8_t {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,  // any sequence: list, tuple, range, dict view, generator (see SeqKind)
    kDict,
    kNamespace,
    kLoop,
    kCallable,
  };

  Value() = default;  // undefined
  static Value Undefined(std::string_view hint = {});
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value List(std::vector<Value> items, bool is_tuple = false);
  // A sequence of another kind; `label` names a generator's Python type.
  static Value Sequence(std::vector<Value> items, SeqKind kind, std::string label = {});
  // range(start, stop, step); the caller has checked that it is short enough to build.
  static Value Range(int64_t start, int64_t stop, int64_t step);
  // A generator whose computation failed: like jinja2's lazy generators, the error surfaces
  // only when something iterates it.
  static Value FailedGenerator(absl::Status error);
  static Value Dict(DictData dict);
  static Value NamespaceRef(Namespace* ns);
  static Value Loop(std::shared_ptr<LoopState> loop);
  static Value Function(std::shared_ptr<const Callable> callable);

  // Converts JSON (messages, tools, extra variables). Nesting deeper than `max_depth` is
  // an error, so that no input can exhaust the stack later.
  static absl::StatusOr<Value> FromJson(const nlohmann::ordered_json& json, int max_depth = 200);

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  // Python's numbers include bool.
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_tuple() const;
  SeqKind seq_kind() const;
  // A list or a tuple: the sequences Python can index, slice, concatenate and serialize.
  bool is_list_or_tuple() const;
  bool is_generator() const;
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_namespace() const { return kind() == Kind::kNamespace; }
  bool is_loop() const { return kind() == Kind::kLoop; }
  bool is_callable() const { return kind() == Kind::kCallable; }

  bool AsBool() const { return std::get<bool>(data_); }
  int64_t AsInt() const { return std::get<int64_t>(data_); }
  double AsFloat() const { return std::get<double>(data_); }
  // bool and int as int64 (Python: bool is an int).
  int64_t AsIntLike() const { return is_bool() ? AsBool() : AsInt(); }
  // Any number as double.
  double AsDouble() const;
  const std::string& AsString() const { return *std::get<StringPtr>(data_); }
  const ListData& AsList() const { return *std::get<ListPtr>(data_); }
  std::shared_ptr<const ListData> SharedList() const { return std::get<ListPtr>(data_); }
  const std::vector<Value>& Items() const;
  const DictData& AsDict() const { return *std::get<DictPtr>(data_); }
  Namespace* AsNamespace() const { return std::get<Namespace*>(data_); }
  LoopState& AsLoop() const { return *std::get<std::shared_ptr<LoopState>>(data_); }
  const Callable& AsCallable() const { return *std::get<CallablePtr>(data_); }
  // Identity of shared data, for Python's `is`-style shortcuts; null for scalars.
  const void* identity() const;

  // The name an undefined value was looked up by, for error messages.
  std::string_view undefined_hint() const;

  // Nesting depth of lists and dicts (scalars and references are 0).
  int depth() const;

  // Python truthiness.
  bool Truthy() const;

  // Python type name, for error messages ("NoneType", "str", "dict", ...).
  std::string_view TypeName() const;

 private:
  struct UndefinedTag {
    std::shared_ptr<const std::string> hint;
  };
  struct NoneTag {};
  using StringPtr = std::shared_ptr<const std::string>;
  using ListPtr = std::shared_ptr<const ListData>;
  using DictPtr = std::shared_ptr<const DictData>;
  using CallablePtr = std::shared_ptr<const Callable>;

  // The order matches Kind.
  std::variant<UndefinedTag, NoneTag, bool, int64_t, double, StringPtr, ListPtr, DictPtr,
               Namespace*, std::shared_ptr<LoopState>, CallablePtr>
      data_;
};

struct ListData {
  std::vector<Value> items;
  SeqKind kind = SeqKind::kList;
  std::string label;
  int depth = 1;
  // kRange: its parameters (Python slices a range into another range).
  int64_t range_start = 0, range_stop = 0, range_step = 1;
  // kGenerator: the error iterating it raises, if its computation failed.
  absl::Status deferred_error;
};

// A dict with string keys in insertion order (JSON objects, dict literals, namespaces).
class DictData {
 public:
  const Value* Find(std::string_view key) const;
  // Inserts or replaces, keeping the original position of an existing key.
  void Set(std::string key, Value value);
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  int depth() const;

 private:
  std::vector<std::pair<std::string, Value>> entries_;
  absl::flat_hash_map<std::string, size_t, StringHash, StringEq> index_;
  int depth_ = 1;
};

// jinja2's namespace(): the only mutable object, so `{% set ns.x = ... %}` can carry state
// out of loops. Owned by the render that created it.
class Namespace {
 public:
  DictData& attrs() { return attrs_; }
  const DictData& attrs() const { return attrs_; }

 private:
  DictData attrs_;
};

// The state behind a for loop's `loop` variable.
struct LoopState {
  std::shared_ptr<const ListData> items;
  size_t index = 0;
  int depth0 = 0;
};

struct MacroStmt;  // ast.h
class Frame;       // interpreter.h

// A callable value: a macro, a global function or a method bound to its receiver.
struct Callable {
  enum class Kind { kMacro, kGlobal, kMethod };
  Kind kind = Kind::kGlobal;
  std::string name;
  // kMacro: the definition and the scope it was defined in (checked live at call time).
  const MacroStmt* macro = nullptr;
  const Frame* frame = nullptr;
  uint64_t frame_serial = 0;
  // kMethod: the receiver.
  Value receiver;
};

// Python `==` (1 == 1.0 == True, tuples differ from lists, dicts ignore order). Charges
// the budget per element so that comparing huge shared structures cannot hang.
absl::StatusOr<bool> Equals(const Value& a, const Value& b, WorkBudget* budget);

// Python `<`: -1, 0 or 1; an error for types Python cannot order.
absl::StatusOr<int> Compare(const Value& a, const Value& b, WorkBudget* budget);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_VALUE_H_
