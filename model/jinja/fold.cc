#include "model/jinja/fold.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "model/jinja/interpreter.h"

namespace shoal::model::jinja {
namespace {

// jinja2's has_safe_repr: what its optimizer may turn back into a constant.
bool IsSafe(const Value& v, int depth = 0) {
  if (depth > 200) return false;
  switch (v.kind()) {
    case Value::Kind::kNone:
    case Value::Kind::kBool:
    case Value::Kind::kInt:
    case Value::Kind::kFloat:
    case Value::Kind::kString:
      return true;
    case Value::Kind::kList:
      if (!v.is_list_or_tuple() && v.seq_kind() != SeqKind::kRange) return false;
      for (const Value& item : v.Items()) {
        if (!IsSafe(item, depth + 1)) return false;
      }
      return true;
    case Value::Kind::kDict:
      for (const auto& [key, item] : v.AsDict().entries()) {
        if (!IsSafe(item, depth + 1)) return false;
      }
      return true;
    default:
      return false;
  }
}

// Filters jinja2 passes the render context to, which its optimizer never folds.
bool NeedsContext(const std::string& filter) {
  return filter == "map" || filter == "select" || filter == "reject" || filter == "selectattr" ||
         filter == "rejectattr";
}

class Folder {
 public:
  Folder() {
    // Folding must stay cheap; what exceeds these limits is left to the render.
    options_.limits.max_output_bytes = 1 << 20;
  }

  void Body(jinja::Body* body) {
    for (StmtPtr& stmt : *body) Statement(&stmt);
  }

 private:
  void Statement(StmtPtr* slot) {
    Stmt& stmt = **slot;
    switch (stmt.kind) {
      case StmtKind::kOutput: {
        auto& node = static_cast<OutputStmt&>(stmt);
        if (!Expression(&node.expr)) return;
        // jinja2 writes a constant output at compile time, whatever its value.
        if (remaining_steps_ <= 0) return;
        options_.limits.max_steps = std::min<int64_t>(kStepsPerExpression, remaining_steps_);
        Interpreter interpreter(variables_, options_);
        absl::StatusOr<Value> v = interpreter.EvaluateConstant(*node.expr);
        remaining_steps_ -= options_.limits.max_steps - interpreter.budget()->remaining();
        if (!v.ok()) return;
        absl::StatusOr<std::string> text = interpreter.Str(*v);
        if (text.ok()) *slot = std::make_unique<TextStmt>(stmt.pos, *std::move(text));
        return;
      }
      case StmtKind::kIf:
        for (auto& [cond, body] : static_cast<IfStmt&>(stmt).branches) {
          Expression(&cond);
          Body(&body);
        }
        Body(&static_cast<IfStmt&>(stmt).else_body);
        return;
      case StmtKind::kFor: {
        auto& node = static_cast<ForStmt&>(stmt);
        Expression(&node.iter);
        if (node.filter != nullptr) Expression(&node.filter);
        Body(&node.body);
        Body(&node.else_body);
        return;
      }
      case StmtKind::kSet:
        Expression(&static_cast<SetStmt&>(stmt).value);
        return;
      case StmtKind::kSetBlock:
        Body(&static_cast<SetBlockStmt&>(stmt).body);
        return;
      case StmtKind::kMacro:
        for (MacroParam& param : static_cast<MacroStmt&>(stmt).params) {
          if (param.default_value != nullptr) Expression(&param.default_value);
        }
        Body(&static_cast<MacroStmt&>(stmt).body);
        return;
      case StmtKind::kWith:
        for (auto& [target, value] : static_cast<WithStmt&>(stmt).assignments) Expression(&value);
        Body(&static_cast<WithStmt&>(stmt).body);
        return;
      case StmtKind::kFilterBlock:
        Body(&static_cast<FilterBlockStmt&>(stmt).body);
        return;
      default:
        return;
    }
  }

  bool Children(Args* args) {
    bool constant = true;
    for (ExprPtr& a : args->positional) constant &= Expression(&a);
    for (auto& [name, a] : args->keyword) constant &= Expression(&a);
    return constant;
  }

  // Folds the subtrees of *slot and then *slot itself; returns whether it is constant
  // (made only of literals and operations jinja2 can evaluate at compile time).
  bool Expression(ExprPtr* slot) {
    if (*slot == nullptr) return true;
    Expr& e = **slot;
    bool constant = true;
    switch (e.kind) {
      case ExprKind::kLiteral:
        return true;
      case ExprKind::kName:
      case ExprKind::kCall:
        constant = false;
        if (e.kind == ExprKind::kCall) {
          auto& call = static_cast<CallExpr&>(e);
          Expression(&call.callee);
          Children(&call.args);
        }
        break;
      case ExprKind::kList:
        for (ExprPtr& item : static_cast<ListExpr&>(e).items) constant &= Expression(&item);
        break;
      case ExprKind::kDict:
        for (auto& [key, value] : static_cast<DictExpr&>(e).items) {
          constant &= Expression(&key);
          constant &= Expression(&value);
        }
        break;
      case ExprKind::kAttr:
        constant = Expression(&static_cast<AttrExpr&>(e).object);
        break;
      case ExprKind::kItem:
        constant = Expression(&static_cast<ItemExpr&>(e).object);
        constant &= Expression(&static_cast<ItemExpr&>(e).index);
        break;
      case ExprKind::kSlice: {
        auto& n = static_cast<SliceExpr&>(e);
        for (ExprPtr* child : {&n.object, &n.start, &n.stop, &n.step})
          constant &= Expression(child);
        break;
      }
      case ExprKind::kFilter: {
        auto& n = static_cast<FilterExpr&>(e);
        constant = n.operand != nullptr && !NeedsContext(n.name);
        if (n.operand != nullptr) constant &= Expression(&n.operand);
        constant &= Children(&n.args);
        break;
      }
      case ExprKind::kTest: {
        auto& n = static_cast<TestExpr&>(e);
        constant = Expression(&n.operand);
        constant &= Children(&n.args);
        break;
      }
      case ExprKind::kUnary:
        constant = Expression(&static_cast<UnaryExpr&>(e).operand);
        break;
      case ExprKind::kBinary:
        constant = Expression(&static_cast<BinaryExpr&>(e).left);
        constant &= Expression(&static_cast<BinaryExpr&>(e).right);
        break;
      case ExprKind::kCompare: {
        auto& n = static_cast<CompareExpr&>(e);
        constant = Expression(&n.first);
        for (auto& [op, operand] : n.rest) constant &= Expression(&operand);
        break;
      }
      case ExprKind::kCond: {
        auto& n = static_cast<CondExpr&>(e);
        constant = Expression(&n.cond);
        constant &= Expression(&n.then_expr);
        constant &= Expression(&n.else_expr);
        break;
      }
    }
    if (!constant) return false;
    if (remaining_steps_ <= 0) return true;
    options_.limits.max_steps = std::min<int64_t>(kStepsPerExpression, remaining_steps_);
    Interpreter interpreter(variables_, options_);
    absl::StatusOr<Value> v = interpreter.EvaluateConstant(e);
    remaining_steps_ -= options_.limits.max_steps - interpreter.budget()->remaining();
    if (v.ok() && IsSafe(*v)) *slot = std::make_unique<LiteralExpr>(e.pos, *std::move(v));
    return true;
  }

  // Work allowed for one expression and for the whole template: a template cannot make
  // parsing slow by being full of expensive constants.
  static constexpr int64_t kStepsPerExpression = 100'000;
  int64_t remaining_steps_ = 2'000'000;
  const Variables variables_;
  RenderOptions options_;
};

}  // namespace

void FoldConstants(ParsedTemplate* parsed) { Folder().Body(&parsed->body); }

}  // namespace shoal::model::jinja
