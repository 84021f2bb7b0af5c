#include "model/jinja/methods.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "common/status_macros.h"
#include "model/jinja/str_util.h"
#include "model/jinja/string_methods.h"

namespace shoal::model::jinja {
namespace {

// Python methods outside the subset, so that using one is a clear error rather than an
// Undefined that silently prints nothing.
constexpr std::string_view kUnsupportedStr[] = {
    "casefold",  "center",       "encode",    "expandtabs",  "format_map", "index",     "isascii",
    "isdecimal", "isidentifier", "isnumeric", "isprintable", "istitle",    "ljust",     "maketrans",
    "partition", "rindex",       "rjust",     "rpartition",  "swapcase",   "translate", "zfill",
};
constexpr std::string_view kDictMethods[] = {"get", "items", "keys", "values"};
constexpr std::string_view kUnsupportedDict[] = {
    "clear", "copy", "fromkeys", "pop", "popitem", "setdefault", "update",
};
constexpr std::string_view kListMethods[] = {"count", "index"};
constexpr std::string_view kUnsupportedList[] = {
    "append", "clear", "copy", "extend", "insert", "pop", "remove", "reverse", "sort",
};

template <size_t N>
bool Contains(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

Value Bind(const Value& receiver, std::string_view name) {
  auto callable = std::make_shared<Callable>();
  callable->kind = Callable::Kind::kMethod;
  callable->name = std::string(name);
  callable->receiver = receiver;
  return Value::Function(std::move(callable));
}

absl::Status Unsupported(const Value& receiver, std::string_view name) {
  return absl::UnimplementedError(Cat("unsupported method '", receiver.TypeName(), ".", name, "'"));
}

absl::StatusOr<Value> CallDictMethod(const DictData& dict, std::string_view name, CallArgs args) {
  const std::string fn = Cat("dict.", name);
  if (name == "get") {
    SHOAL_ASSIGN_OR_RETURN(
        auto a, BindArgs(fn, std::move(args), {{"key", Value()}, {"default", Value::None()}}));
    if (a[0].is_string()) {
      if (const Value* v = dict.Find(a[0].AsString())) return *v;
    } else if (a[0].is_list() && !a[0].is_tuple()) {
      return TypeError("unhashable type: 'list'");
    }
    return a[1];
  }
  SHOAL_RETURN_IF_ERROR(BindArgs(fn, std::move(args), {}).status());
  std::vector<Value> out;
  out.reserve(dict.size());
  const SeqKind kind = name == "keys"     ? SeqKind::kKeysView
                       : name == "values" ? SeqKind::kValuesView
                                          : SeqKind::kItemsView;
  for (const auto& [key, value] : dict.entries()) {
    if (name == "keys") {
      out.push_back(Value::String(key));
    } else if (name == "values") {
      out.push_back(value);
    } else {
      out.push_back(Value::List({Value::String(key), value}, /*is_tuple=*/true));
    }
  }
  return Value::Sequence(std::move(out), kind);
}

absl::StatusOr<Value> CallListMethod(Runtime& rt, const Value& list, std::string_view name,
                                     CallArgs args) {
  SHOAL_ASSIGN_OR_RETURN(auto a,
                         BindArgs(Cat("list.", name), std::move(args), {{"value", Value()}}));
  int64_t count = 0;
  for (size_t i = 0; i < list.Items().size(); ++i) {
    SHOAL_ASSIGN_OR_RETURN(bool eq, Equals(list.Items()[i], a[0], rt.budget()));
    if (!eq) continue;
    if (name == "index") return Value::Int(static_cast<int64_t>(i));
    ++count;
  }
  if (name == "index") return absl::InvalidArgumentError("list.index(x): x not in list");
  return Value::Int(count);
}

absl::StatusOr<Value> CallLoopMethod(const LoopState& loop, std::string_view name, CallArgs args) {
  if (!args.keyword.empty() || args.positional.empty()) {
    return TypeError("loop.cycle() needs at least one positional argument");
  }
  return args.positional[loop.index % args.positional.size()];
}

}  // namespace

absl::StatusOr<std::optional<Value>> FindMethod(const Value& receiver, std::string_view name) {
  switch (receiver.kind()) {
    case Value::Kind::kString:
      if (IsStringMethod(name)) return Bind(receiver, name);
      if (Contains(kUnsupportedStr, name)) return Unsupported(receiver, name);
      break;
    case Value::Kind::kDict:
      if (Contains(kDictMethods, name)) return Bind(receiver, name);
      if (Contains(kUnsupportedDict, name)) return Unsupported(receiver, name);
      break;
    case Value::Kind::kList:
      if (!receiver.is_list_or_tuple() && receiver.seq_kind() != SeqKind::kRange) break;
      if (Contains(kListMethods, name)) return Bind(receiver, name);
      if (Contains(kUnsupportedList, name)) return Unsupported(receiver, name);
      break;
    case Value::Kind::kLoop:
      if (name == "cycle") return Bind(receiver, name);
      if (name == "changed") return Unsupported(receiver, name);
      break;
    default:
      break;
  }
  return std::optional<Value>();
}

absl::StatusOr<Value> CallMethod(Runtime& rt, const Callable& method, CallArgs args) {
  SHOAL_RETURN_IF_ERROR(rt.Charge(1));
  const Value& receiver = method.receiver;
  switch (receiver.kind()) {
    case Value::Kind::kString:
      return CallStringMethod(rt, receiver.AsString(), method.name, std::move(args));
    case Value::Kind::kDict:
      return CallDictMethod(receiver.AsDict(), method.name, std::move(args));
    case Value::Kind::kList:
      return CallListMethod(rt, receiver, method.name, std::move(args));
    case Value::Kind::kLoop:
      return CallLoopMethod(receiver.AsLoop(), method.name, std::move(args));
    default:
      return Unsupported(receiver, method.name);
  }
}

}  // namespace shoal::model::jinja
