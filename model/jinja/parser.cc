#include "model/jinja/parser.h"

#include <algorithm>
#include <utility>

#include "common/status_macros.h"
#include "model/jinja/str_util.h"

namespace shoal::model::jinja {
namespace {

// Statements jinja2 has but chat templates do not use; naming them beats "unknown tag".
constexpr std::string_view kUnsupportedStatements[] = {
    "block",      "extends", "include",    "import", "from",      "call",
    "autoescape", "do",      "generation", "trans",  "pluralize", "endblock",
};

std::string TokenText(const Token& t) {
  switch (t.kind) {
    case TokenKind::kText:
      return "template data";
    case TokenKind::kVariableBegin:
      return "'{{'";
    case TokenKind::kVariableEnd:
      return "'}}'";
    case TokenKind::kBlockBegin:
      return "'{%'";
    case TokenKind::kBlockEnd:
      return "'%}'";
    case TokenKind::kName:
      return Cat("'", t.text, "'");
    case TokenKind::kString:
      return "string literal";
    case TokenKind::kInteger:
      return "integer literal";
    case TokenKind::kFloat:
      return "float literal";
    case TokenKind::kOperator:
      return Cat("'", t.text, "'");
    case TokenKind::kEnd:
      return "end of template";
  }
  return "token";
}

}  // namespace

absl::StatusOr<Body> ParseTemplate(std::vector<Token> tokens, int max_depth) {
  return Parser(std::move(tokens), max_depth).ParseTemplate();
}

const Token& Parser::Peek(size_t ahead) const {
  const size_t i = std::min(pos_ + ahead, tokens_.size() - 1);
  return tokens_[i];
}

const Token& Parser::Next() {
  const Token& t = Peek();
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return t;
}

bool Parser::IsName(std::string_view name, size_t ahead) const {
  const Token& t = Peek(ahead);
  return t.kind == TokenKind::kName && t.text == name;
}

bool Parser::IsOp(std::string_view op, size_t ahead) const {
  const Token& t = Peek(ahead);
  return t.kind == TokenKind::kOperator && t.text == op;
}

bool Parser::SkipName(std::string_view name) {
  if (!IsName(name)) return false;
  Next();
  return true;
}

bool Parser::SkipOp(std::string_view op) {
  if (!IsOp(op)) return false;
  Next();
  return true;
}

absl::Status Parser::ExpectOp(std::string_view op) {
  if (SkipOp(op)) return absl::OkStatus();
  return Unexpected(Peek(), Cat("'", op, "'"));
}

absl::StatusOr<std::string> Parser::ExpectName() {
  if (Peek().kind != TokenKind::kName) return Unexpected(Peek(), "a name");
  return Next().text;
}

absl::Status Parser::ExpectBlockEnd() {
  if (Peek().kind == TokenKind::kBlockEnd) {
    Next();
    return absl::OkStatus();
  }
  return Unexpected(Peek(), "end of statement '%}'");
}

absl::Status Parser::ErrorAt(const Token& token, std::string_view message) const {
  return absl::InvalidArgumentError(Cat(message, " at ", token.pos.ToString()));
}

absl::Status Parser::Unexpected(const Token& token, std::string_view expected) const {
  if (expected.empty()) return ErrorAt(token, Cat("unexpected ", TokenText(token)));
  return ErrorAt(token, Cat("expected ", expected, ", got ", TokenText(token)));
}

absl::Status Parser::TooDeep(const Token& token) const {
  return absl::ResourceExhaustedError(
      Cat("template nested deeper than ", max_depth_, " at ", token.pos.ToString()));
}

absl::StatusOr<Body> Parser::ParseTemplate() {
  Body body;
  SHOAL_RETURN_IF_ERROR(ParseBody(&body, {}, nullptr));
  return body;
}

absl::Status Parser::ParseBody(Body* body, std::initializer_list<std::string_view> end_tags,
                               std::string* found) {
  while (true) {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kText:
        body->push_back(std::make_unique<TextStmt>(t.pos, t.text));
        Next();
        break;
      case TokenKind::kVariableBegin: {
        Next();
        SHOAL_ASSIGN_OR_RETURN(ExprPtr expr, ParseTuple(false, true, {}, false));
        if (Peek().kind != TokenKind::kVariableEnd) return Unexpected(Peek(), "'}}'");
        Next();
        body->push_back(std::make_unique<OutputStmt>(t.pos, std::move(expr)));
        break;
      }
      case TokenKind::kBlockBegin: {
        const Token& tag = Peek(1);
        if (tag.kind == TokenKind::kName &&
            std::find(end_tags.begin(), end_tags.end(), tag.text) != end_tags.end()) {
          Next();
          *found = Next().text;
          return absl::OkStatus();
        }
        Next();
        SHOAL_ASSIGN_OR_RETURN(StmtPtr stmt, ParseStatement());
        if (stmt != nullptr) body->push_back(std::move(stmt));
        break;
      }
      case TokenKind::kEnd: {
        if (end_tags.size() == 0) return absl::OkStatus();
        std::string expected;
        for (std::string_view tag : end_tags) {
          CatTo(&expected, expected.empty() ? "'" : " or '", tag, "'");
        }
        return ErrorAt(t, Cat("unexpected end of template, expected ", expected));
      }
      default:
        return Unexpected(t);
    }
  }
}

absl::StatusOr<StmtPtr> Parser::ParseStatement() {
  const Token& tag = Peek();
  DepthGuard guard(this);
  if (!guard.ok()) return TooDeep(tag);
  if (tag.kind != TokenKind::kName) return Unexpected(tag, "a statement name");
  const Position pos = tag.pos;
  const std::string name = Next().text;
  if (name == "if") return ParseIf(pos);
  if (name == "for") return ParseFor(pos);
  if (name == "set") return ParseSet(pos);
  if (name == "macro") return ParseMacro(pos);
  if (name == "with") return ParseWith(pos);
  if (name == "filter") return ParseFilterBlock(pos);
  if (name == "print") {
    SHOAL_ASSIGN_OR_RETURN(ExprPtr expr, ParseTuple(false, true, {}, false));
    SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
    return std::make_unique<OutputStmt>(pos, std::move(expr));
  }
  if (name == "break" || name == "continue") {
    if (loop_depth_ == 0) return ErrorAt(tag, Cat("'", name, "' outside of a loop"));
    SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
    return std::make_unique<LoopControlStmt>(pos, name == "break");
  }
  for (std::string_view unsupported : kUnsupportedStatements) {
    if (name == unsupported) {
      return absl::UnimplementedError(
          Cat("unsupported statement '", name, "' at ", pos.ToString()));
    }
  }
  return absl::InvalidArgumentError(Cat("unexpected statement '", name, "' at ", pos.ToString()));
}

absl::StatusOr<StmtPtr> Parser::ParseIf(Position pos) {
  auto node = std::make_unique<IfStmt>(pos);
  std::string tag = "if";
  while (tag == "if" || tag == "elif") {
    SHOAL_ASSIGN_OR_RETURN(ExprPtr cond, ParseTuple(false, false, {}, false));
    SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
    Body body;
    SHOAL_RETURN_IF_ERROR(ParseBody(&body, {"elif", "else", "endif"}, &tag));
    node->branches.emplace_back(std::move(cond), std::move(body));
  }
  if (tag == "else") {
    SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
    SHOAL_RETURN_IF_ERROR(ParseBody(&node->else_body, {"endif"}, &tag));
  }
  SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
  return node;
}

absl::StatusOr<StmtPtr> Parser::ParseFor(Position pos) {
  auto node = std::make_unique<ForStmt>(pos);
  SHOAL_ASSIGN_OR_RETURN(node->target, ParseTarget(false, "in"));
  if (!SkipName("in")) return Unexpected(Peek(), "'in'");
  SHOAL_ASSIGN_OR_RETURN(node->iter, ParseTuple(false, false, "recursive", false));
  if (SkipName("if")) {
    SHOAL_ASSIGN_OR_RETURN(node->filter, ParseExpression());
  }
  if (IsName("recursive")) {
    return absl::UnimplementedError(
        Cat("unsupported recursive for loop at ", Peek().pos.ToString()));
  }
  SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
  std::string tag;
  ++loop_depth_;
  absl::Status status = ParseBody(&node->body, {"endfor", "else"}, &tag);
  --loop_depth_;
  SHOAL_RETURN_IF_ERROR(status);
  if (tag == "else") {
    SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
    SHOAL_RETURN_IF_ERROR(ParseBody(&node->else_body, {"endfor"}, &tag));
  }
  SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
  return node;
}

absl::StatusOr<Target> Parser::ParseTarget(bool with_namespace, std::string_view end_name) {
  Target target;
  if (with_namespace && Peek().kind == TokenKind::kName && IsOp(".", 1)) {
    target.names.push_back(Next().text);
    Next();
    SHOAL_ASSIGN_OR_RETURN(target.attr, ExpectName());
    return target;
  }
  const Token& start = Peek();
  SHOAL_ASSIGN_OR_RETURN(ExprPtr expr, ParseTuple(true, false, end_name, false));
  auto add_name = [&](const Expr& e) -> absl::Status {
    if (e.kind != ExprKind::kName) return ErrorAt(start, "can only assign to names");
    const std::string& name = static_cast<const NameExpr&>(e).name;
    if (name == "loop") return ErrorAt(start, "cannot assign to 'loop'");
    target.names.push_back(name);
    return absl::OkStatus();
  };
  if (expr->kind == ExprKind::kList && static_cast<const ListExpr&>(*expr).is_tuple) {
    target.is_tuple = true;
    for (const ExprPtr& item : static_cast<const ListExpr&>(*expr).items) {
      SHOAL_RETURN_IF_ERROR(add_name(*item));
    }
    if (target.names.empty()) return ErrorAt(start, "can only assign to names");
    return target;
  }
  SHOAL_RETURN_IF_ERROR(add_name(*expr));
  return target;
}

absl::StatusOr<StmtPtr> Parser::ParseSet(Position pos) {
  SHOAL_ASSIGN_OR_RETURN(Target target, ParseTarget(true, {}));
  if (SkipOp("=")) {
    auto node = std::make_unique<SetStmt>(pos);
    node->target = std::move(target);
    SHOAL_ASSIGN_OR_RETURN(node->value, ParseTuple(false, true, {}, false));
    SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
    return node;
  }
  auto node = std::make_unique<SetBlockStmt>(pos);
  if (target.is_tuple) return ErrorAt(Peek(), "a block set needs a single name");
  node->target = std::move(target);
  if (IsOp("|")) {
    SHOAL_ASSIGN_OR_RETURN(node->filter, ParseFilter(nullptr, false));
  }
  SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
  std::string tag;
  SHOAL_RETURN_IF_ERROR(ParseBody(&node->body, {"endset"}, &tag));
  SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
  return node;
}

absl::StatusOr<StmtPtr> Parser::ParseMacro(Position pos) {
  auto node = std::make_unique<MacroStmt>(pos);
  SHOAL_ASSIGN_OR_RETURN(node->name, ExpectName());
  SHOAL_RETURN_IF_ERROR(ExpectOp("("));
  while (!IsOp(")")) {
    if (!node->params.empty()) SHOAL_RETURN_IF_ERROR(ExpectOp(","));
    if (IsOp(")")) break;
    MacroParam param;
    SHOAL_ASSIGN_OR_RETURN(param.name, ExpectName());
    if (SkipOp("=")) {
      SHOAL_ASSIGN_OR_RETURN(param.default_value, ParseExpression());
    } else if (!node->params.empty() && node->params.back().default_value != nullptr) {
      return ErrorAt(Peek(), "non-default argument follows default argument");
    }
    node->params.push_back(std::move(param));
  }
  Next();
  SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
  const int saved_loop_depth = loop_depth_;
  loop_depth_ = 0;
  macros_.push_back(node.get());
  std::string tag;
  absl::Status status = ParseBody(&node->body, {"endmacro"}, &tag);
  macros_.pop_back();
  loop_depth_ = saved_loop_depth;
  SHOAL_RETURN_IF_ERROR(status);
  SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
  return node;
}

absl::StatusOr<StmtPtr> Parser::ParseWith(Position pos) {
  auto node = std::make_unique<WithStmt>(pos);
  while (Peek().kind != TokenKind::kBlockEnd) {
    if (!node->assignments.empty()) SHOAL_RETURN_IF_ERROR(ExpectOp(","));
    SHOAL_ASSIGN_OR_RETURN(Target target, ParseTarget(false, {}));
    SHOAL_RETURN_IF_ERROR(ExpectOp("="));
    SHOAL_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
    node->assignments.emplace_back(std::move(target), std::move(value));
  }
  Next();
  std::string tag;
  SHOAL_RETURN_IF_ERROR(ParseBody(&node->body, {"endwith"}, &tag));
  SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
  return node;
}

absl::StatusOr<StmtPtr> Parser::ParseFilterBlock(Position pos) {
  auto node = std::make_unique<FilterBlockStmt>(pos);
  SHOAL_ASSIGN_OR_RETURN(node->filter, ParseFilter(nullptr, true));
  SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
  std::string tag;
  SHOAL_RETURN_IF_ERROR(ParseBody(&node->body, {"endfilter"}, &tag));
  SHOAL_RETURN_IF_ERROR(ExpectBlockEnd());
  return node;
}

}  // namespace shoal::model::jinja
