// Postfix half of the expression parser: `.attr`, `[index]`, `[a:b:c]`, calls, and the
// `| filter` and `is test` chains that bind tighter than any operator.
#include <memory>
#include <utility>

#include "common/status_macros.h"
#include "model/jinja/parser.h"
#include "model/jinja/str_util.h"

namespace shoal::model::jinja {

absl::StatusOr<ExprPtr> Parser::ParsePostfix(ExprPtr node) {
  while (true) {
    if (IsOp(".") || IsOp("[")) {
      SHOAL_ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node)));
    } else if (IsOp("(")) {
      auto call = std::make_unique<CallExpr>(Peek().pos);
      SHOAL_RETURN_IF_ERROR(ParseCallArgs(&call->args));
      call->callee = std::move(node);
      SHOAL_ASSIGN_OR_RETURN(node, Finish(std::move(call)));
    } else {
      return node;
    }
  }
}

absl::StatusOr<ExprPtr> Parser::ParseFilterExpr(ExprPtr node) {
  while (true) {
    if (IsOp("|")) {
      SHOAL_ASSIGN_OR_RETURN(node, ParseFilter(std::move(node), false));
    } else if (IsName("is")) {
      SHOAL_ASSIGN_OR_RETURN(node, ParseTest(std::move(node)));
    } else if (IsOp("(")) {
      auto call = std::make_unique<CallExpr>(Peek().pos);
      SHOAL_RETURN_IF_ERROR(ParseCallArgs(&call->args));
      call->callee = std::move(node);
      SHOAL_ASSIGN_OR_RETURN(node, Finish(std::move(call)));
    } else {
      return node;
    }
  }
}

absl::StatusOr<ExprPtr> Parser::ParseSubscript(ExprPtr node) {
  const Token& t = Next();
  const Position pos = t.pos;
  if (t.text == ".") {
    const Token& attr = Next();
    if (attr.kind == TokenKind::kName) {
      return Finish(std::make_unique<AttrExpr>(pos, std::move(node), attr.text));
    }
    if (attr.kind != TokenKind::kInteger) return Unexpected(attr, "a name or number");
    auto index = std::make_unique<LiteralExpr>(attr.pos, Value::Int(attr.int_value));
    return Finish(std::make_unique<ItemExpr>(pos, std::move(node), std::move(index)));
  }
  std::vector<ExprPtr> args;
  bool any_slice = false;
  while (!IsOp("]")) {
    if (!args.empty()) SHOAL_RETURN_IF_ERROR(ExpectOp(","));
    bool is_slice = false;
    SHOAL_ASSIGN_OR_RETURN(ExprPtr arg, ParseSubscribed(&is_slice));
    any_slice |= is_slice;
    args.push_back(std::move(arg));
  }
  Next();
  if (args.empty()) return ErrorAt(t, "empty subscript");
  if (args.size() == 1 && args[0]->kind == ExprKind::kSlice && any_slice) {
    auto& slice = static_cast<SliceExpr&>(*args[0]);
    slice.object = std::move(node);
    return Finish(std::move(args[0]));
  }
  if (any_slice) {
    return absl::UnimplementedError(Cat("unsupported multi-dimensional slice at ", pos.ToString()));
  }
  ExprPtr index;
  if (args.size() == 1) {
    index = std::move(args[0]);
  } else {
    auto tuple = std::make_unique<ListExpr>(pos, /*tuple=*/true);
    tuple->items = std::move(args);
    SHOAL_ASSIGN_OR_RETURN(index, Finish(std::move(tuple)));
  }
  return Finish(std::make_unique<ItemExpr>(pos, std::move(node), std::move(index)));
}

absl::StatusOr<ExprPtr> Parser::ParseSubscribed(bool* is_slice) {
  const Position pos = Peek().pos;
  auto slice = std::make_unique<SliceExpr>(pos);
  if (!SkipOp(":")) {
    SHOAL_ASSIGN_OR_RETURN(ExprPtr index, ParseExpression());
    if (!SkipOp(":")) return index;
    slice->start = std::move(index);
  }
  *is_slice = true;
  auto at_end = [&] { return IsOp("]") || IsOp(","); };
  if (!IsOp(":") && !at_end()) {
    SHOAL_ASSIGN_OR_RETURN(slice->stop, ParseExpression());
  }
  if (SkipOp(":") && !at_end()) {
    SHOAL_ASSIGN_OR_RETURN(slice->step, ParseExpression());
  }
  return slice;
}

absl::StatusOr<std::string> Parser::ParseDottedName() {
  SHOAL_ASSIGN_OR_RETURN(std::string name, ExpectName());
  while (IsOp(".") && Peek(1).kind == TokenKind::kName) {
    Next();
    CatTo(&name, ".", Next().text);
  }
  return name;
}

absl::StatusOr<ExprPtr> Parser::ParseFilter(ExprPtr operand, bool start_inline) {
  while (IsOp("|") || start_inline) {
    if (!start_inline) Next();
    start_inline = false;
    const Position pos = Peek().pos;
    SHOAL_ASSIGN_OR_RETURN(std::string name, ParseDottedName());
    auto node = std::make_unique<FilterExpr>(pos, std::move(name));
    if (IsOp("(")) SHOAL_RETURN_IF_ERROR(ParseCallArgs(&node->args));
    node->operand = std::move(operand);
    SHOAL_ASSIGN_OR_RETURN(operand, Finish(std::move(node)));
  }
  return operand;
}

absl::StatusOr<ExprPtr> Parser::ParseTest(ExprPtr operand) {
  Next();  // is
  const bool negated = SkipName("not");
  const Position pos = Peek().pos;
  SHOAL_ASSIGN_OR_RETURN(std::string name, ParseDottedName());
  auto node = std::make_unique<TestExpr>(pos, std::move(name));
  node->negated = negated;
  const Token& t = Peek();
  if (IsOp("(")) {
    SHOAL_RETURN_IF_ERROR(ParseCallArgs(&node->args));
  } else if ((t.kind == TokenKind::kName || t.kind == TokenKind::kString ||
              t.kind == TokenKind::kInteger || t.kind == TokenKind::kFloat || IsOp("[") ||
              IsOp("{")) &&
             !IsName("else") && !IsName("or") && !IsName("and")) {
    // `x is divisibleby 3`: one argument without parentheses.
    if (IsName("is")) return ErrorAt(t, "cannot chain multiple tests with 'is'");
    SHOAL_ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
    SHOAL_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
    node->args.positional.push_back(std::move(arg));
  }
  node->operand = std::move(operand);
  return Finish(std::move(node));
}

absl::Status Parser::ParseCallArgs(Args* args) {
  Next();  // (
  bool need_comma = false;
  while (!IsOp(")")) {
    if (need_comma) {
      SHOAL_RETURN_IF_ERROR(ExpectOp(","));
      if (IsOp(")")) break;
    }
    if (IsOp("*") || IsOp("**")) {
      return absl::UnimplementedError(
          Cat("unsupported *args / **kwargs in a call at ", Peek().pos.ToString()));
    }
    if (Peek().kind == TokenKind::kName && IsOp("=", 1)) {
      std::string key = Next().text;
      Next();
      SHOAL_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
      args->keyword.emplace_back(std::move(key), std::move(value));
    } else {
      if (!args->keyword.empty()) {
        return ErrorAt(Peek(), "positional argument follows keyword argument");
      }
      SHOAL_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
      args->positional.push_back(std::move(value));
    }
    need_comma = true;
  }
  Next();
  return absl::OkStatus();
}

}  // namespace shoal::model::jinja
