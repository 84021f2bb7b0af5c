// Expression half of the parser; precedence from loosest to tightest:
// conditional, or, and, not, comparisons/in, + -, ~, * / // %, **, unary - +,
// then primaries with postfix .attr [item] (call), and filters / tests.
#include <algorithm>
#include <utility>

#include "common/status_macros.h"
#include "model/jinja/parser.h"
#include "model/jinja/str_util.h"

namespace shoal::model::jinja {
namespace {

int Height(const Expr* e) { return e == nullptr ? 0 : e->depth; }

int ArgsHeight(const Args& args) {
  int h = 0;
  for (const ExprPtr& a : args.positional) h = std::max(h, Height(a.get()));
  for (const auto& [name, a] : args.keyword) h = std::max(h, Height(a.get()));
  return h;
}

// Height of the tallest child.
int ChildHeight(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kLiteral:
    case ExprKind::kName:
      return 0;
    case ExprKind::kList: {
      int h = 0;
      for (const ExprPtr& item : static_cast<const ListExpr&>(e).items)
        h = std::max(h, Height(item.get()));
      return h;
    }
    case ExprKind::kDict: {
      int h = 0;
      for (const auto& [k, v] : static_cast<const DictExpr&>(e).items) {
        h = std::max({h, Height(k.get()), Height(v.get())});
      }
      return h;
    }
    case ExprKind::kAttr:
      return Height(static_cast<const AttrExpr&>(e).object.get());
    case ExprKind::kItem: {
      const auto& n = static_cast<const ItemExpr&>(e);
      return std::max(Height(n.object.get()), Height(n.index.get()));
    }
    case ExprKind::kSlice: {
      const auto& n = static_cast<const SliceExpr&>(e);
      return std::max({Height(n.object.get()), Height(n.start.get()), Height(n.stop.get()),
                       Height(n.step.get())});
    }
    case ExprKind::kCall: {
      const auto& n = static_cast<const CallExpr&>(e);
      return std::max(Height(n.callee.get()), ArgsHeight(n.args));
    }
    case ExprKind::kFilter: {
      const auto& n = static_cast<const FilterExpr&>(e);
      return std::max(Height(n.operand.get()), ArgsHeight(n.args));
    }
    case ExprKind::kTest: {
      const auto& n = static_cast<const TestExpr&>(e);
      return std::max(Height(n.operand.get()), ArgsHeight(n.args));
    }
    case ExprKind::kUnary:
      return Height(static_cast<const UnaryExpr&>(e).operand.get());
    case ExprKind::kBinary: {
      const auto& n = static_cast<const BinaryExpr&>(e);
      return std::max(Height(n.left.get()), Height(n.right.get()));
    }
    case ExprKind::kCompare: {
      const auto& n = static_cast<const CompareExpr&>(e);
      int h = Height(n.first.get());
      for (const auto& [op, operand] : n.rest) h = std::max(h, Height(operand.get()));
      return h;
    }
    case ExprKind::kCond: {
      const auto& n = static_cast<const CondExpr&>(e);
      return std::max({Height(n.cond.get()), Height(n.then_expr.get()), Height(n.else_expr.get())});
    }
  }
  return 0;
}

}  // namespace

absl::StatusOr<ExprPtr> Parser::Finish(ExprPtr node) {
  node->depth = ChildHeight(*node) + 1;
  if (node->depth > max_depth_) {
    return absl::ResourceExhaustedError(
        Cat("expression nested deeper than ", max_depth_, " at ", node->pos.ToString()));
  }
  return node;
}

absl::StatusOr<ExprPtr> Parser::ParseTuple(bool simplified, bool with_condexpr,
                                           std::string_view extra_end, bool explicit_parens) {
  const Position pos = Peek().pos;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) SHOAL_RETURN_IF_ERROR(ExpectOp(","));
    const Token& t = Peek();
    if (t.kind == TokenKind::kVariableEnd || t.kind == TokenKind::kBlockEnd || IsOp(")") ||
        (!extra_end.empty() && IsName(extra_end))) {
      break;
    }
    absl::StatusOr<ExprPtr> item = simplified ? ParsePrimary() : ParseExpression(with_condexpr);
    if (!item.ok()) return item.status();
    items.push_back(*std::move(item));
    if (IsOp(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parens) return Unexpected(Peek(), "an expression");
  }
  auto node = std::make_unique<ListExpr>(pos, /*tuple=*/true);
  node->items = std::move(items);
  return Finish(std::move(node));
}

absl::StatusOr<ExprPtr> Parser::ParseExpression(bool with_condexpr) {
  return with_condexpr ? ParseCondExpr() : ParseOr();
}

absl::StatusOr<ExprPtr> Parser::ParseCondExpr() {
  DepthGuard guard(this);
  if (!guard.ok()) return TooDeep(Peek());
  SHOAL_ASSIGN_OR_RETURN(ExprPtr expr, ParseOr());
  while (IsName("if")) {
    auto node = std::make_unique<CondExpr>(Next().pos);
    SHOAL_ASSIGN_OR_RETURN(node->cond, ParseOr());
    if (SkipName("else")) {
      SHOAL_ASSIGN_OR_RETURN(node->else_expr, ParseCondExpr());
    }
    node->then_expr = std::move(expr);
    SHOAL_ASSIGN_OR_RETURN(expr, Finish(std::move(node)));
  }
  return expr;
}

absl::StatusOr<ExprPtr> Parser::ParseOr() {
  SHOAL_ASSIGN_OR_RETURN(ExprPtr left, ParseAnd());
  while (IsName("or")) {
    const Position pos = Next().pos;
    SHOAL_ASSIGN_OR_RETURN(ExprPtr right, ParseAnd());
    SHOAL_ASSIGN_OR_RETURN(left, Finish(std::make_unique<BinaryExpr>(
                                     pos, BinaryOp::kOr, std::move(left), std::move(right))));
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseAnd() {
  SHOAL_ASSIGN_OR_RETURN(ExprPtr left, ParseNot());
  while (IsName("and")) {
    const Position pos = Next().pos;
    SHOAL_ASSIGN_OR_RETURN(ExprPtr right, ParseNot());
    SHOAL_ASSIGN_OR_RETURN(left, Finish(std::make_unique<BinaryExpr>(
                                     pos, BinaryOp::kAnd, std::move(left), std::move(right))));
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseNot() {
  if (!IsName("not")) return ParseCompare();
  DepthGuard guard(this);
  if (!guard.ok()) return TooDeep(Peek());
  const Position pos = Next().pos;
  SHOAL_ASSIGN_OR_RETURN(ExprPtr operand, ParseNot());
  return Finish(std::make_unique<UnaryExpr>(pos, UnaryOp::kNot, std::move(operand)));
}

absl::StatusOr<ExprPtr> Parser::ParseCompare() {
  const Position pos = Peek().pos;
  SHOAL_ASSIGN_OR_RETURN(ExprPtr first, ParseMath1());
  auto node = std::make_unique<CompareExpr>(pos);
  while (true) {
    CompareOp op;
    if (IsOp("==")) {
      op = CompareOp::kEq;
    } else if (IsOp("!=")) {
      op = CompareOp::kNe;
    } else if (IsOp("<")) {
      op = CompareOp::kLt;
    } else if (IsOp("<=")) {
      op = CompareOp::kLe;
    } else if (IsOp(">")) {
      op = CompareOp::kGt;
    } else if (IsOp(">=")) {
      op = CompareOp::kGe;
    } else if (IsName("in")) {
      op = CompareOp::kIn;
    } else if (IsName("not") && IsName("in", 1)) {
      Next();
      op = CompareOp::kNotIn;
    } else {
      break;
    }
    Next();
    SHOAL_ASSIGN_OR_RETURN(ExprPtr operand, ParseMath1());
    node->rest.emplace_back(op, std::move(operand));
  }
  if (node->rest.empty()) return first;
  node->first = std::move(first);
  return Finish(std::move(node));
}

namespace {

bool BinaryOpFor(const Token& t, std::initializer_list<std::pair<std::string_view, BinaryOp>> ops,
                 BinaryOp* op) {
  if (t.kind != TokenKind::kOperator) return false;
  for (const auto& [text, candidate] : ops) {
    if (t.text == text) {
      *op = candidate;
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<ExprPtr> Parser::ParseMath1() {
  SHOAL_ASSIGN_OR_RETURN(ExprPtr left, ParseConcat());
  BinaryOp op;
  while (BinaryOpFor(Peek(), {{"+", BinaryOp::kAdd}, {"-", BinaryOp::kSub}}, &op)) {
    const Position pos = Next().pos;
    SHOAL_ASSIGN_OR_RETURN(ExprPtr right, ParseConcat());
    SHOAL_ASSIGN_OR_RETURN(
        left, Finish(std::make_unique<BinaryExpr>(pos, op, std::move(left), std::move(right))));
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseConcat() {
  SHOAL_ASSIGN_OR_RETURN(ExprPtr left, ParseMath2());
  while (IsOp("~")) {
    const Position pos = Next().pos;
    SHOAL_ASSIGN_OR_RETURN(ExprPtr right, ParseMath2());
    SHOAL_ASSIGN_OR_RETURN(left, Finish(std::make_unique<BinaryExpr>(
                                     pos, BinaryOp::kConcat, std::move(left), std::move(right))));
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseMath2() {
  SHOAL_ASSIGN_OR_RETURN(ExprPtr left, ParsePow());
  BinaryOp op;
  while (BinaryOpFor(Peek(),
                     {{"*", BinaryOp::kMul},
                      {"/", BinaryOp::kDiv},
                      {"//", BinaryOp::kFloorDiv},
                      {"%", BinaryOp::kMod}},
                     &op)) {
    const Position pos = Next().pos;
    SHOAL_ASSIGN_OR_RETURN(ExprPtr right, ParsePow());
    SHOAL_ASSIGN_OR_RETURN(
        left, Finish(std::make_unique<BinaryExpr>(pos, op, std::move(left), std::move(right))));
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParsePow() {
  // jinja2 groups ** from the left: 2 ** 3 ** 2 == 64.
  SHOAL_ASSIGN_OR_RETURN(ExprPtr left, ParseUnary(true));
  while (IsOp("**")) {
    const Position pos = Next().pos;
    SHOAL_ASSIGN_OR_RETURN(ExprPtr right, ParseUnary(true));
    SHOAL_ASSIGN_OR_RETURN(left, Finish(std::make_unique<BinaryExpr>(
                                     pos, BinaryOp::kPow, std::move(left), std::move(right))));
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseUnary(bool with_filter) {
  DepthGuard guard(this);
  if (!guard.ok()) return TooDeep(Peek());
  ExprPtr node;
  if (IsOp("-") || IsOp("+")) {
    const Token& t = Next();
    const UnaryOp op = t.text == "-" ? UnaryOp::kNeg : UnaryOp::kPos;
    SHOAL_ASSIGN_OR_RETURN(ExprPtr operand, ParseUnary(false));
    SHOAL_ASSIGN_OR_RETURN(node,
                           Finish(std::make_unique<UnaryExpr>(t.pos, op, std::move(operand))));
  } else {
    SHOAL_ASSIGN_OR_RETURN(node, ParsePrimary());
  }
  SHOAL_ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
  if (with_filter) return ParseFilterExpr(std::move(node));
  return node;
}

absl::StatusOr<ExprPtr> Parser::ParsePrimary() {
  DepthGuard guard(this);
  if (!guard.ok()) return TooDeep(Peek());
  const Token& t = Peek();
  const Position pos = t.pos;
  switch (t.kind) {
    case TokenKind::kName: {
      const std::string name = Next().text;
      if (name == "true" || name == "True")
        return Finish(std::make_unique<LiteralExpr>(pos, Value::Bool(true)));
      if (name == "false" || name == "False")
        return Finish(std::make_unique<LiteralExpr>(pos, Value::Bool(false)));
      if (name == "none" || name == "None")
        return Finish(std::make_unique<LiteralExpr>(pos, Value::None()));
      if (!macros_.empty() && name == "varargs") macros_.back()->uses_varargs = true;
      if (!macros_.empty() && name == "kwargs") macros_.back()->uses_kwargs = true;
      return Finish(std::make_unique<NameExpr>(pos, name));
    }
    case TokenKind::kString: {
      std::string s;
      while (Peek().kind == TokenKind::kString) s += Next().text;  // 'a' 'b' == 'ab'
      return Finish(std::make_unique<LiteralExpr>(pos, Value::String(std::move(s))));
    }
    case TokenKind::kInteger:
      return Finish(std::make_unique<LiteralExpr>(pos, Value::Int(Next().int_value)));
    case TokenKind::kFloat:
      return Finish(std::make_unique<LiteralExpr>(pos, Value::Float(Next().float_value)));
    case TokenKind::kOperator:
      if (t.text == "(") {
        Next();
        SHOAL_ASSIGN_OR_RETURN(ExprPtr inner, ParseTuple(false, true, {}, true));
        SHOAL_RETURN_IF_ERROR(ExpectOp(")"));
        return inner;
      }
      if (t.text == "[") return ParseList(pos);
      if (t.text == "{") return ParseDict(pos);
      break;
    default:
      break;
  }
  return Unexpected(t);
}

absl::StatusOr<ExprPtr> Parser::ParseList(Position pos) {
  Next();
  auto node = std::make_unique<ListExpr>(pos, /*tuple=*/false);
  while (!IsOp("]")) {
    if (!node->items.empty()) SHOAL_RETURN_IF_ERROR(ExpectOp(","));
    if (IsOp("]")) break;
    SHOAL_ASSIGN_OR_RETURN(ExprPtr item, ParseExpression());
    node->items.push_back(std::move(item));
  }
  Next();
  return Finish(std::move(node));
}

absl::StatusOr<ExprPtr> Parser::ParseDict(Position pos) {
  Next();
  auto node = std::make_unique<DictExpr>(pos);
  while (!IsOp("}")) {
    if (!node->items.empty()) SHOAL_RETURN_IF_ERROR(ExpectOp(","));
    if (IsOp("}")) break;
    SHOAL_ASSIGN_OR_RETURN(ExprPtr key, ParseExpression());
    SHOAL_RETURN_IF_ERROR(ExpectOp(":"));
    SHOAL_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
    node->items.emplace_back(std::move(key), std::move(value));
  }
  Next();
  return Finish(std::move(node));
}

}  // namespace shoal::model::jinja
