// Recursive-descent parser from tokens to the syntax tree, following jinja2's grammar
// (operator precedence, filters and tests binding tighter than arithmetic, `if` without
// `else`). Statements are in parser.cc, expressions in parser_expr.cc.
#ifndef SHOAL_MODEL_JINJA_PARSER_H_
#define SHOAL_MODEL_JINJA_PARSER_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/jinja/ast.h"
#include "model/jinja/lexer.h"

namespace shoal::model::jinja {

// Parses a whole template. `max_depth` bounds the nesting of blocks and expressions, so
// neither parsing nor evaluation can exhaust the stack.
absl::StatusOr<Body> ParseTemplate(std::vector<Token> tokens, int max_depth);

class Parser {
 public:
  Parser(std::vector<Token> tokens, int max_depth)
      : tokens_(std::move(tokens)), max_depth_(max_depth) {}

  absl::StatusOr<Body> ParseTemplate();

 private:
  // Counts parser recursion; fails past max_depth.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser* p) : p_(p) { ++p_->depth_; }
    ~DepthGuard() { --p_->depth_; }
    bool ok() const { return p_->depth_ <= p_->max_depth_; }

   private:
    Parser* p_;
  };

  // Tokens.
  const Token& Peek(size_t ahead = 0) const;
  const Token& Next();
  bool IsName(std::string_view name, size_t ahead = 0) const;
  bool IsOp(std::string_view op, size_t ahead = 0) const;
  bool SkipName(std::string_view name);
  bool SkipOp(std::string_view op);
  absl::Status ExpectOp(std::string_view op);
  absl::StatusOr<std::string> ExpectName();
  absl::Status ExpectBlockEnd();
  absl::Status ErrorAt(const Token& token, std::string_view message) const;
  absl::Status Unexpected(const Token& token, std::string_view expected = {}) const;
  absl::Status TooDeep(const Token& token) const;

  // Statements (parser.cc).
  absl::Status ParseBody(Body* body, std::initializer_list<std::string_view> end_tags,
                         std::string* found);
  absl::StatusOr<StmtPtr> ParseStatement();
  absl::StatusOr<StmtPtr> ParseIf(Position pos);
  absl::StatusOr<StmtPtr> ParseFor(Position pos);
  absl::StatusOr<StmtPtr> ParseSet(Position pos);
  absl::StatusOr<StmtPtr> ParseMacro(Position pos);
  absl::StatusOr<StmtPtr> ParseWith(Position pos);
  absl::StatusOr<StmtPtr> ParseFilterBlock(Position pos);
  absl::StatusOr<Target> ParseTarget(bool with_namespace, std::string_view end_name);

  // Expressions (parser_expr.cc).
  absl::StatusOr<ExprPtr> ParseTuple(bool simplified, bool with_condexpr,
                                     std::string_view extra_end, bool explicit_parens);
  absl::StatusOr<ExprPtr> ParseExpression(bool with_condexpr = true);
  absl::StatusOr<ExprPtr> ParseCondExpr();
  absl::StatusOr<ExprPtr> ParseOr();
  absl::StatusOr<ExprPtr> ParseAnd();
  absl::StatusOr<ExprPtr> ParseNot();
  absl::StatusOr<ExprPtr> ParseCompare();
  absl::StatusOr<ExprPtr> ParseMath1();
  absl::StatusOr<ExprPtr> ParseConcat();
  absl::StatusOr<ExprPtr> ParseMath2();
  absl::StatusOr<ExprPtr> ParsePow();
  absl::StatusOr<ExprPtr> ParseUnary(bool with_filter);
  absl::StatusOr<ExprPtr> ParsePrimary();
  absl::StatusOr<ExprPtr> ParseList(Position pos);
  absl::StatusOr<ExprPtr> ParseDict(Position pos);
  absl::StatusOr<ExprPtr> ParsePostfix(ExprPtr node);
  absl::StatusOr<ExprPtr> ParseFilterExpr(ExprPtr node);
  absl::StatusOr<ExprPtr> ParseSubscript(ExprPtr node);
  absl::StatusOr<ExprPtr> ParseSubscribed(bool* is_slice);
  absl::StatusOr<ExprPtr> ParseFilter(ExprPtr operand, bool start_inline);
  absl::StatusOr<ExprPtr> ParseTest(ExprPtr operand);
  absl::Status ParseCallArgs(Args* args);
  absl::StatusOr<std::string> ParseDottedName();
  // Sets the node's depth from its children; fails when the tree grows too tall.
  absl::StatusOr<ExprPtr> Finish(ExprPtr node);

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  const int max_depth_;
  int loop_depth_ = 0;              // enclosing for loops, for break/continue
  std::vector<MacroStmt*> macros_;  // macros being parsed, for varargs/kwargs
};

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_PARSER_H_
