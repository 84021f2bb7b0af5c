// Expression half of the interpreter. Errors from a child expression already carry its
// position; an operation that fails here adds its own.
#include <memory>
#include <utility>

#include "common/status_macros.h"
#include "model/jinja/access.h"
#include "model/jinja/globals.h"
#include "model/jinja/interpreter.h"
#include "model/jinja/methods.h"
#include "model/jinja/operators.h"
#include "model/jinja/str_util.h"

namespace shoal::model::jinja {


absl::Status Interpreter::CheckDepth(const Value& value, Position pos) const {
  if (value.depth() <= limits().max_depth) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      Cat("value nested deeper than ", limits().max_depth, " at ", pos.ToString()));
}

Value Interpreter::Lookup(std::string_view name, const Frame* frame) const {
  for (const Frame* f = frame; f != nullptr; f = f->parent()) {
    if (const Value* v = f->Find(name)) return *v;
  }
  if (auto it = variables_.find(name); it != variables_.end()) return it->second;
  if (IsGlobal(name)) return GlobalFunction(name);
  return Value::Undefined(Cat("'", name, "' is undefined"));
}

absl::StatusOr<Value> Interpreter::Eval(const Expr& expr, Frame* frame) {
  StackGuard guard(this);
  if (!guard.ok()) {
    return absl::ResourceExhaustedError(Cat("template recursion deeper than ",
                                            limits().max_stack_depth, " at ", expr.pos.ToString()));
  }
  return EvalNode(expr, frame);
}

absl::StatusOr<Value> Interpreter::EvalNode(const Expr& expr, Frame* frame) {
  switch (expr.kind) {
    case ExprKind::kLiteral:
      return static_cast<const LiteralExpr&>(expr).value;
    case ExprKind::kName:
      return Lookup(static_cast<const NameExpr&>(expr).name, frame);
    case ExprKind::kList:
      return EvalList(static_cast<const ListExpr&>(expr), frame);
    case ExprKind::kDict:
      return EvalDict(static_cast<const DictExpr&>(expr), frame);
    case ExprKind::kAttr:
      return EvalAttr(static_cast<const AttrExpr&>(expr), frame);
    case ExprKind::kItem:
      return EvalItem(static_cast<const ItemExpr&>(expr), frame);
    case ExprKind::kSlice:
      return EvalSlice(static_cast<const SliceExpr&>(expr), frame);
    case ExprKind::kCall:
      return EvalCall(static_cast<const CallExpr&>(expr), frame);
    case ExprKind::kFilter:
      return EvalFilter(static_cast<const FilterExpr&>(expr), frame, nullptr);
    case ExprKind::kTest:
      return EvalTest(static_cast<const TestExpr&>(expr), frame);
    case ExprKind::kUnary:
      return EvalUnary(static_cast<const UnaryExpr&>(expr), frame);
    case ExprKind::kBinary:
      return EvalBinary(static_cast<const BinaryExpr&>(expr), frame);
    case ExprKind::kCompare:
      return EvalCompare(static_cast<const CompareExpr&>(expr), frame);
    case ExprKind::kCond:
      return EvalCond(static_cast<const CondExpr&>(expr), frame);
  }
  return absl::InternalError("unknown expression kind");
}

// Each kind evaluates in its own function so that EvalNode, which every level of
// recursion passes through, keeps a small stack frame.
absl::StatusOr<Value> Interpreter::EvalAttr(const AttrExpr& expr, Frame* frame) {
  SHOAL_ASSIGN_OR_RETURN(Value obj, Eval(*expr.object, frame));
  absl::StatusOr<Value> v = GetAttr(obj, expr.name);
  if (!v.ok()) return Located(v.status(), expr.pos);
  return v;
}

absl::StatusOr<Value> Interpreter::EvalItem(const ItemExpr& expr, Frame* frame) {
  SHOAL_ASSIGN_OR_RETURN(Value obj, Eval(*expr.object, frame));
  SHOAL_ASSIGN_OR_RETURN(Value index, Eval(*expr.index, frame));
  absl::StatusOr<Value> v = GetItem(obj, index);
  if (!v.ok()) return Located(v.status(), expr.pos);
  return v;
}

absl::StatusOr<Value> Interpreter::EvalCall(const CallExpr& expr, Frame* frame) {
  SHOAL_ASSIGN_OR_RETURN(Value callee, Eval(*expr.callee, frame));
  SHOAL_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(expr.args, frame));
  SHOAL_ASSIGN_OR_RETURN(Value v, CallValue(callee, std::move(args), expr.pos));
  SHOAL_RETURN_IF_ERROR(CheckDepth(v, expr.pos));
  return v;
}

absl::StatusOr<Value> Interpreter::EvalUnary(const UnaryExpr& expr, Frame* frame) {
  SHOAL_ASSIGN_OR_RETURN(Value v, Eval(*expr.operand, frame));
  if (expr.op == UnaryOp::kNot) return Value::Bool(!v.Truthy());
  absl::StatusOr<Value> r = UnaryOperation(expr.op, v);
  if (!r.ok()) return Located(r.status(), expr.pos);
  return r;
}

absl::StatusOr<Value> Interpreter::EvalCond(const CondExpr& expr, Frame* frame) {
  SHOAL_ASSIGN_OR_RETURN(Value cond, Eval(*expr.cond, frame));
  if (cond.Truthy()) return Eval(*expr.then_expr, frame);
  if (expr.else_expr != nullptr) return Eval(*expr.else_expr, frame);
  return Value::Undefined(Cat("the inline if-expression at ", expr.pos.ToString(),
                              " evaluated to false and has no else"));
}

absl::StatusOr<Value> Interpreter::EvalList(const ListExpr& expr, Frame* frame) {
  std::vector<Value> items;
  items.reserve(expr.items.size());
  for (const ExprPtr& item : expr.items) {
    SHOAL_ASSIGN_OR_RETURN(Value v, Eval(*item, frame));
    items.push_back(std::move(v));
  }
  Value list = Value::List(std::move(items), expr.is_tuple);
  SHOAL_RETURN_IF_ERROR(CheckDepth(list, expr.pos));
  return list;
}

absl::StatusOr<Value> Interpreter::EvalDict(const DictExpr& expr, Frame* frame) {
  DictData dict;
  for (const auto& [key_expr, value_expr] : expr.items) {
    SHOAL_ASSIGN_OR_RETURN(Value key, Eval(*key_expr, frame));
    SHOAL_ASSIGN_OR_RETURN(Value value, Eval(*value_expr, frame));
    if (!key.is_string()) {
      return Located(
          absl::UnimplementedError(Cat("unsupported dict key of type '", key.TypeName(), "'")),
          key_expr->pos);
    }
    dict.Set(key.AsString(), std::move(value));
  }
  Value v = Value::Dict(std::move(dict));
  SHOAL_RETURN_IF_ERROR(CheckDepth(v, expr.pos));
  return v;
}

absl::StatusOr<Value> Interpreter::EvalSlice(const SliceExpr& expr, Frame* frame) {
  SHOAL_ASSIGN_OR_RETURN(Value obj, Eval(*expr.object, frame));
  Value bounds[3];
  const ExprPtr* exprs[3] = {&expr.start, &expr.stop, &expr.step};
  for (int i = 0; i < 3; ++i) {
    if (*exprs[i] != nullptr) {
      SHOAL_ASSIGN_OR_RETURN(bounds[i], Eval(**exprs[i], frame));
    } else {
      bounds[i] = Value::None();
    }
  }
  if (obj.is_list()) {
    SHOAL_RETURN_IF_ERROR(Located(Charge(static_cast<int64_t>(obj.Items().size())), expr.pos));
  }
  absl::StatusOr<Value> v = GetSlice(obj, bounds[0], bounds[1], bounds[2]);
  if (!v.ok()) {
    // jinja2 folds constant expressions at compile time through environment.getitem,
    // which turns a failed slice into Undefined; at run time the same slice raises.
    if (lenient_slices_ && !obj.is_undefined() &&
        v.status().code() == absl::StatusCode::kInvalidArgument &&
        !(bounds[2].is_int() && bounds[2].AsInt() == 0)) {  // ValueError is not caught
      return Value::Undefined("constant slice failed");
    }
    return Located(v.status(), expr.pos);
  }
  return v;
}

absl::StatusOr<Value> Interpreter::EvalBinary(const BinaryExpr& expr, Frame* frame) {
  SHOAL_ASSIGN_OR_RETURN(Value left, Eval(*expr.left, frame));
  if (expr.op == BinaryOp::kAnd) return left.Truthy() ? Eval(*expr.right, frame) : left;
  if (expr.op == BinaryOp::kOr) return left.Truthy() ? left : Eval(*expr.right, frame);
  SHOAL_ASSIGN_OR_RETURN(Value right, Eval(*expr.right, frame));
  absl::StatusOr<Value> v = BinaryOperation(*this, expr.op, left, right);
  if (!v.ok()) return Located(v.status(), expr.pos);
  SHOAL_RETURN_IF_ERROR(CheckDepth(*v, expr.pos));
  return v;
}

absl::StatusOr<Value> Interpreter::EvalCompare(const CompareExpr& expr, Frame* frame) {
  SHOAL_ASSIGN_OR_RETURN(Value left, Eval(*expr.first, frame));
  for (const auto& [op, operand] : expr.rest) {
    SHOAL_ASSIGN_OR_RETURN(Value right, Eval(*operand, frame));
    absl::StatusOr<bool> result = CompareOperation(*this, op, left, right);
    if (!result.ok()) return Located(result.status(), operand->pos);
    if (!*result) return Value::Bool(false);
    left = std::move(right);
  }
  return Value::Bool(true);
}

absl::StatusOr<CallArgs> Interpreter::EvalArgs(const Args& args, Frame* frame) {
  CallArgs out;
  out.positional.reserve(args.positional.size());
  for (const ExprPtr& arg : args.positional) {
    SHOAL_ASSIGN_OR_RETURN(Value v, Eval(*arg, frame));
    out.positional.push_back(std::move(v));
  }
  for (const auto& [name, arg] : args.keyword) {
    SHOAL_ASSIGN_OR_RETURN(Value v, Eval(*arg, frame));
    out.keyword.emplace_back(name, std::move(v));
  }
  return out;
}

absl::StatusOr<Value> Interpreter::EvalFilter(const FilterExpr& expr, Frame* frame,
                                              const Value* block_input) {
  Value operand;
  if (expr.operand == nullptr) {
    if (block_input == nullptr) return absl::InternalError("filter without an operand");
    operand = *block_input;
  } else if (block_input != nullptr && expr.operand->kind == ExprKind::kFilter) {
    SHOAL_ASSIGN_OR_RETURN(
        operand, EvalFilter(static_cast<const FilterExpr&>(*expr.operand), frame, block_input));
  } else {
    SHOAL_ASSIGN_OR_RETURN(operand, Eval(*expr.operand, frame));
  }
  SHOAL_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(expr.args, frame));
  absl::StatusOr<Value> v = CallFilter(expr.name, operand, std::move(args));
  if (!v.ok()) return Located(v.status(), expr.pos);
  SHOAL_RETURN_IF_ERROR(CheckDepth(*v, expr.pos));
  return v;
}

absl::StatusOr<Value> Interpreter::EvalTest(const TestExpr& expr, Frame* frame) {
  SHOAL_ASSIGN_OR_RETURN(Value operand, Eval(*expr.operand, frame));
  SHOAL_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(expr.args, frame));
  absl::StatusOr<bool> result = CallTest(expr.name, operand, std::move(args));
  if (!result.ok()) return Located(result.status(), expr.pos);
  return Value::Bool(*result != expr.negated);
}

absl::StatusOr<Value> Interpreter::CallValue(const Value& callee, CallArgs args, Position pos) {
  if (callee.is_undefined()) return Located(UndefinedError(callee), pos);
  if (!callee.is_callable()) {
    return Located(TypeError(Cat("'", callee.TypeName(), "' object is not callable")), pos);
  }
  const Callable& c = callee.AsCallable();
  absl::StatusOr<Value> v;
  switch (c.kind) {
    case Callable::Kind::kMacro:
      return CallMacro(c, std::move(args), pos);
    case Callable::Kind::kGlobal:
      v = CallGlobal(*this, c.name, std::move(args));
      break;
    case Callable::Kind::kMethod:
      v = CallMethod(*this, c, std::move(args));
      break;
  }
  if (!v.ok()) return Located(v.status(), pos);
  return v;
}

absl::StatusOr<Value> Interpreter::CallMacro(const Callable& macro, CallArgs args, Position pos) {
  if (!IsLive(macro.frame, macro.frame_serial)) {
    return Located(absl::UnimplementedError(Cat("unsupported call of macro '", macro.name,
                                                "' after the scope it was defined in has ended")),
                   pos);
  }
  SHOAL_RETURN_IF_ERROR(Located(Charge(1), pos));
  if (call_depth_ >= limits().max_depth) {
    return Located(
        absl::ResourceExhaustedError(Cat("macro calls nested deeper than ", limits().max_depth)),
        pos);
  }
  ++call_depth_;
  ScopedFrame scope(this, macro.frame);
  DeclareMissing(macro.macro->body_missing, scope.get());
  absl::Status status = BindMacroArgs(*macro.macro, std::move(args), scope.get(), pos);
  std::string out;
  if (status.ok()) status = ExecBody(macro.macro->body, scope.get(), &out).status();
  --call_depth_;
  SHOAL_RETURN_IF_ERROR(status);
  return Value::String(std::move(out));
}

absl::Status Interpreter::BindMacroArgs(const MacroStmt& macro, CallArgs args, Frame* frame,
                                        Position pos) {
  const size_t n = macro.params.size();
  std::vector<bool> given(n, false);
  std::vector<Value> extra_positional;
  for (size_t i = 0; i < args.positional.size(); ++i) {
    if (i < n) {
      frame->Set(macro.params[i].name, std::move(args.positional[i]));
      given[i] = true;
    } else if (macro.uses_varargs) {
      extra_positional.push_back(std::move(args.positional[i]));
    } else {
      return Located(
          TypeError(Cat("macro '", macro.name, "' takes not more than ", n, " argument(s)")), pos);
    }
  }
  DictData extra_keyword;
  for (auto& [name, value] : args.keyword) {
    size_t i = 0;
    while (i < n && macro.params[i].name != name) ++i;
    if (i < n) {
      if (given[i]) {
        return Located(TypeError(Cat("macro '", macro.name, "' got multiple values for argument '",
                                     name, "'")),
                       pos);
      }
      frame->Set(name, std::move(value));
      given[i] = true;
    } else if (macro.uses_kwargs) {
      extra_keyword.Set(name, std::move(value));
    } else {
      return Located(
          TypeError(Cat("macro '", macro.name, "' takes no keyword argument '", name, "'")), pos);
    }
  }
  // Defaults are evaluated in the macro's frame, after the arguments passed, so a default
  // may refer to an earlier parameter.
  for (size_t i = 0; i < n; ++i) {
    if (given[i]) continue;
    const MacroParam& param = macro.params[i];
    if (param.default_value == nullptr) {
      frame->Set(param.name,
                 Value::Undefined(Cat("parameter '", param.name, "' was not provided")));
      continue;
    }
    SHOAL_ASSIGN_OR_RETURN(Value v, Eval(*param.default_value, frame));
    frame->Set(param.name, std::move(v));
  }
  if (macro.uses_varargs) frame->Set("varargs", Value::List(std::move(extra_positional), true));
  if (macro.uses_kwargs) frame->Set("kwargs", Value::Dict(std::move(extra_keyword)));
  return absl::OkStatus();
}

}  // namespace shoal::model::jinja
