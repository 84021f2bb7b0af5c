#include "model/jinja/operators.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "model/jinja/str_util.h"

namespace shoal::model::jinja {
namespace {

const char* OpSymbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kFloorDiv:
      return "//";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "**";
    case BinaryOp::kConcat:
      return "~";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
  }
  return "?";
}

absl::Status Unsupported(BinaryOp op, const Value& a, const Value& b) {
  return TypeError(Cat("unsupported operand type(s) for ", OpSymbol(op), ": '", a.TypeName(),
                       "' and '", b.TypeName(), "'"));
}

absl::Status Overflow() {
  return absl::InvalidArgumentError("integer result does not fit in 64 bits");
}

absl::Status ZeroDivision() { return absl::InvalidArgumentError("division by zero"); }

// CPython's float divmod, so -7.5 % 2 == 0.5 and 7.0 // -2 == -4.0.
void FloatDivMod(double x, double y, double* div, double* mod) {
  double m = std::fmod(x, y);
  double d = (x - m) / y;
  if (m != 0) {
    if ((y < 0) != (m < 0)) {
      m += y;
      d -= 1.0;
    }
  } else {
    m = std::copysign(0.0, y);
  }
  double floordiv;
  if (d != 0) {
    floordiv = std::floor(d);
    if (d - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, x / y);
  }
  *div = floordiv;
  *mod = m;
}

absl::StatusOr<Value> IntPow(int64_t base, int64_t exp) {
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, base, &result)) return Overflow();
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base)) return Overflow();
  }
  return Value::Int(result);
}

absl::StatusOr<Value> Arithmetic(BinaryOp op, const Value& a, const Value& b) {
  const bool ints = !a.is_float() && !b.is_float();
  if (ints) {
    const int64_t x = a.AsIntLike(), y = b.AsIntLike();
    int64_t r = 0;
    switch (op) {
      case BinaryOp::kAdd:
        if (__builtin_add_overflow(x, y, &r)) return Overflow();
        return Value::Int(r);
      case BinaryOp::kSub:
        if (__builtin_sub_overflow(x, y, &r)) return Overflow();
        return Value::Int(r);
      case BinaryOp::kMul:
        if (__builtin_mul_overflow(x, y, &r)) return Overflow();
        return Value::Int(r);
      case BinaryOp::kDiv:
        if (y == 0) return ZeroDivision();
        return Value::Float(static_cast<double>(x) / static_cast<double>(y));
      case BinaryOp::kFloorDiv:
      case BinaryOp::kMod: {
        if (y == 0) return ZeroDivision();
        if (x == INT64_MIN && y == -1) {
          if (op == BinaryOp::kMod) return Value::Int(0);
          return Overflow();
        }
        int64_t q = x / y, m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) {
          m += y;
          q -= 1;
        }
        return Value::Int(op == BinaryOp::kMod ? m : q);
      }
      case BinaryOp::kPow:
        if (y >= 0) return IntPow(x, y);
        if (x == 0) return ZeroDivision();
        return Value::Float(std::pow(static_cast<double>(x), static_cast<double>(y)));
      default:
        break;
    }
  }
  const double x = a.AsDouble(), y = b.AsDouble();
  switch (op) {
    case BinaryOp::kAdd:
      return Value::Float(x + y);
    case BinaryOp::kSub:
      return Value::Float(x - y);
    case BinaryOp::kMul:
      return Value::Float(x * y);
    case BinaryOp::kDiv:
      if (y == 0) return ZeroDivision();
      return Value::Float(x / y);
    case BinaryOp::kFloorDiv:
    case BinaryOp::kMod: {
      if (y == 0) return ZeroDivision();
      double div, mod;
      FloatDivMod(x, y, &div, &mod);
      return Value::Float(op == BinaryOp::kMod ? mod : div);
    }
    case BinaryOp::kPow:
      if (x == 0 && y < 0) return ZeroDivision();
      if (x < 0 && y != std::floor(y)) {
        return absl::UnimplementedError("unsupported complex result of '**'");
      }
      return Value::Float(std::pow(x, y));
    default:
      return Unsupported(op, a, b);
  }
}

// str * n and list * n.
absl::StatusOr<Value> Repeat(Runtime& rt, const Value& seq, int64_t n) {
  if (n <= 0) return seq.is_string() ? Value::String("") : Value::List({}, seq.is_tuple());
  if (seq.is_string()) {
    const std::string& s = seq.AsString();
    if (!s.empty() && static_cast<uint64_t>(n) > rt.limits().max_output_bytes / s.size()) {
      return rt.ChargeString(rt.limits().max_output_bytes + 1);
    }
    SHOAL_RETURN_IF_ERROR(rt.ChargeString(s.size() * static_cast<size_t>(n)));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out.append(s);
    return Value::String(std::move(out));
  }
  const auto& items = seq.Items();
  if (!items.empty()) SHOAL_RETURN_IF_ERROR(rt.Charge(n));
  if (!items.empty() && static_cast<uint64_t>(n) > rt.limits().max_output_bytes / items.size()) {
    return absl::ResourceExhaustedError("repeated list is too long");
  }
  std::vector<Value> out;
  out.reserve(items.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::List(std::move(out), seq.is_tuple());
}

}  // namespace

absl::StatusOr<Value> BinaryOperation(Runtime& rt, BinaryOp op, const Value& a, const Value& b) {
  if (op == BinaryOp::kConcat) {
    SHOAL_ASSIGN_OR_RETURN(std::string left, rt.Str(a));
    SHOAL_ASSIGN_OR_RETURN(std::string right, rt.Str(b));
    SHOAL_RETURN_IF_ERROR(rt.ChargeString(left.size() + right.size()));
    return Value::String(left + right);
  }
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  if (a.is_number() && b.is_number()) return Arithmetic(op, a, b);
  if (op == BinaryOp::kAdd) {
    if (a.is_string() && b.is_string()) {
      SHOAL_RETURN_IF_ERROR(rt.ChargeString(a.AsString().size() + b.AsString().size()));
      return Value::String(a.AsString() + b.AsString());
    }
    if (a.is_list_or_tuple() && b.is_list_or_tuple() && a.seq_kind() == b.seq_kind()) {
      SHOAL_RETURN_IF_ERROR(rt.Charge(static_cast<int64_t>(a.Items().size() + b.Items().size())));
      std::vector<Value> items = a.Items();
      items.insert(items.end(), b.Items().begin(), b.Items().end());
      return Value::List(std::move(items), a.is_tuple());
    }
    if (a.is_string()) {
      return TypeError(Cat("can only concatenate str (not \"", b.TypeName(), "\") to str"));
    }
  }
  if (op == BinaryOp::kMul) {
    if ((a.is_string() || a.is_list_or_tuple()) && (b.is_int() || b.is_bool()))
      return Repeat(rt, a, b.AsIntLike());
    if ((b.is_string() || b.is_list_or_tuple()) && (a.is_int() || a.is_bool()))
      return Repeat(rt, b, a.AsIntLike());
  }
  if (op == BinaryOp::kMod && a.is_string()) {
    return absl::UnimplementedError("unsupported printf-style '%' string formatting");
  }
  return Unsupported(op, a, b);
}

absl::StatusOr<Value> UnaryOperation(UnaryOp op, const Value& v) {
  if (v.is_undefined()) return UndefinedError(v);
  if (v.is_float()) return Value::Float(op == UnaryOp::kNeg ? -v.AsFloat() : v.AsFloat());
  if (v.is_int() || v.is_bool()) {
    const int64_t i = v.AsIntLike();
    if (op == UnaryOp::kPos) return Value::Int(i);
    if (i == INT64_MIN) return Overflow();
    return Value::Int(-i);
  }
  return TypeError(Cat("bad operand type for unary ", op == UnaryOp::kNeg ? "-" : "+", ": '",
                       v.TypeName(), "'"));
}

absl::StatusOr<bool> Contains(Runtime& rt, const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kUndefined:
      return false;  // iterating Undefined yields nothing
    case Value::Kind::kString:
      if (!item.is_string()) {
        return TypeError(
            Cat("'in <string>' requires string as left operand, not ", item.TypeName()));
      }
      return container.AsString().find(item.AsString()) != std::string::npos;
    case Value::Kind::kList:
      if (!container.AsList().deferred_error.ok()) return container.AsList().deferred_error;
      for (const Value& v : container.Items()) {
        SHOAL_ASSIGN_OR_RETURN(bool eq, Equals(v, item, rt.budget()));
        if (eq) return true;
      }
      return false;
    case Value::Kind::kDict:
      if (item.is_string()) return container.AsDict().Find(item.AsString()) != nullptr;
      if (item.is_dict() || (item.is_list() && item.seq_kind() != SeqKind::kTuple &&
                             item.seq_kind() != SeqKind::kRange && !item.is_generator())) {
        return TypeError(Cat("unhashable type: '", item.TypeName(), "'"));
      }
      return false;
    default:
      return TypeError(Cat("argument of type '", container.TypeName(), "' is not iterable"));
  }
}

absl::StatusOr<bool> CompareOperation(Runtime& rt, CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::kEq:
      return Equals(a, b, rt.budget());
    case CompareOp::kNe: {
      SHOAL_ASSIGN_OR_RETURN(bool eq, Equals(a, b, rt.budget()));
      return !eq;
    }
    case CompareOp::kIn:
      return Contains(rt, b, a);
    case CompareOp::kNotIn: {
      SHOAL_ASSIGN_OR_RETURN(bool in, Contains(rt, b, a));
      return !in;
    }
    default:
      break;
  }
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  if ((a.is_float() && std::isnan(a.AsFloat())) || (b.is_float() && std::isnan(b.AsFloat()))) {
    return false;
  }
  SHOAL_ASSIGN_OR_RETURN(int c, Compare(a, b, rt.budget()));
  switch (op) {
    case CompareOp::kLt:
      return c < 0;
    case CompareOp::kLe:
      return c <= 0;
    case CompareOp::kGt:
      return c > 0;
    case CompareOp::kGe:
      return c >= 0;
    default:
      return false;
  }
}

}  // namespace shoal::model::jinja
