// The syntax tree of a parsed template. Nodes are immutable after parsing and owned by
// their Template, so many renders may walk one tree at once.
#ifndef SHOAL_MODEL_JINJA_AST_H_
#define SHOAL_MODEL_JINJA_AST_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/jinja/lexer.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

enum class ExprKind {
  kLiteral,
  kName,
  kList,  // also tuples
  kDict,
  kAttr,     // x.name
  kItem,     // x[i]
  kSlice,    // x[a:b:c]
  kCall,     // f(...)
  kFilter,   // x | f(...)
  kTest,     // x is t(...)
  kUnary,    // -x, +x, not x
  kBinary,   // arithmetic, ~, and, or
  kCompare,  // chained ==, <, in, ...
  kCond,     // a if c else b
};

struct Expr {
  Expr(ExprKind k, Position p) : kind(k), pos(p) {}
  virtual ~Expr() = default;
  const ExprKind kind;
  const Position pos;
  int depth = 1;  // height of the subtree; bounded so evaluation cannot exhaust the stack
};
using ExprPtr = std::unique_ptr<Expr>;

struct Args {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct LiteralExpr : Expr {
  LiteralExpr(Position p, Value v) : Expr(ExprKind::kLiteral, p), value(std::move(v)) {}
  Value value;
};

struct NameExpr : Expr {
  NameExpr(Position p, std::string n) : Expr(ExprKind::kName, p), name(std::move(n)) {}
  std::string name;
};

struct ListExpr : Expr {
  ListExpr(Position p, bool tuple) : Expr(ExprKind::kList, p), is_tuple(tuple) {}
  bool is_tuple;
  std::vector<ExprPtr> items;
};

struct DictExpr : Expr {
  explicit DictExpr(Position p) : Expr(ExprKind::kDict, p) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

struct AttrExpr : Expr {
  AttrExpr(Position p, ExprPtr o, std::string n)
      : Expr(ExprKind::kAttr, p), object(std::move(o)), name(std::move(n)) {}
  ExprPtr object;
  std::string name;
};

struct ItemExpr : Expr {
  ItemExpr(Position p, ExprPtr o, ExprPtr i)
      : Expr(ExprKind::kItem, p), object(std::move(o)), index(std::move(i)) {}
  ExprPtr object;
  ExprPtr index;
};

struct SliceExpr : Expr {
  explicit SliceExpr(Position p) : Expr(ExprKind::kSlice, p) {}
  ExprPtr object;
  ExprPtr start, stop, step;  // each may be null
};

struct CallExpr : Expr {
  explicit CallExpr(Position p) : Expr(ExprKind::kCall, p) {}
  ExprPtr callee;
  Args args;
};

// `operand | name(args)`. In `{% filter %}` and `{% set x | f %}` blocks the innermost
// operand is null and stands for the block's rendered text.
struct FilterExpr : Expr {
  FilterExpr(Position p, std::string n) : Expr(ExprKind::kFilter, p), name(std::move(n)) {}
  ExprPtr operand;
  std::string name;
  Args args;
};

struct TestExpr : Expr {
  TestExpr(Position p, std::string n) : Expr(ExprKind::kTest, p), name(std::move(n)) {}
  ExprPtr operand;
  std::string name;
  Args args;
  bool negated = false;
};

enum class UnaryOp { kNeg, kPos, kNot };
struct UnaryExpr : Expr {
  UnaryExpr(Position p, UnaryOp o, ExprPtr e)
      : Expr(ExprKind::kUnary, p), op(o), operand(std::move(e)) {}
  UnaryOp op;
  ExprPtr operand;
};

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow, kConcat, kAnd, kOr };
struct BinaryExpr : Expr {
  BinaryExpr(Position p, BinaryOp o, ExprPtr l, ExprPtr r)
      : Expr(ExprKind::kBinary, p), op(o), left(std::move(l)), right(std::move(r)) {}
  BinaryOp op;
  ExprPtr left, right;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };
struct CompareExpr : Expr {
  explicit CompareExpr(Position p) : Expr(ExprKind::kCompare, p) {}
  ExprPtr first;
  std::vector<std::pair<CompareOp, ExprPtr>> rest;  // a < b <= c chains like Python
};

struct CondExpr : Expr {
  explicit CondExpr(Position p) : Expr(ExprKind::kCond, p) {}
  ExprPtr cond, then_expr, else_expr;  // else_expr null: undefined when cond is false
};

enum class StmtKind {
  kText,
  kOutput,
  kIf,
  kFor,
  kSet,
  kSetBlock,
  kMacro,
  kBreak,
  kContinue,
  kWith,
  kFilterBlock,
};

struct Stmt {
  Stmt(StmtKind k, Position p) : kind(k), pos(p) {}
  virtual ~Stmt() = default;
  const StmtKind kind;
  const Position pos;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

// Names a scope assigns before anything in it reads them, and that no enclosing scope
// knows. jinja2 starts such a variable as undefined for the whole scope, so a macro or
// loop body that reads it before the assignment runs does not see an outer value (or a
// template variable) of the same name. Filled in by AnalyzeScopes (scopes.h).
using MissingNames = std::vector<std::string>;

// An assignment target: `x`, `a, b` or `ns.attr`.
struct Target {
  std::vector<std::string> names;
  bool is_tuple = false;
  std::string attr;  // non-empty: names[0].attr (namespace assignment)
};

struct TextStmt : Stmt {
  TextStmt(Position p, std::string t) : Stmt(StmtKind::kText, p), text(std::move(t)) {}
  std::string text;
};

struct OutputStmt : Stmt {
  OutputStmt(Position p, ExprPtr e) : Stmt(StmtKind::kOutput, p), expr(std::move(e)) {}
  ExprPtr expr;
};

struct IfStmt : Stmt {
  explicit IfStmt(Position p) : Stmt(StmtKind::kIf, p) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if and elifs
  Body else_body;
};

struct ForStmt : Stmt {
  explicit ForStmt(Position p) : Stmt(StmtKind::kFor, p) {}
  MissingNames body_missing;
  Target target;
  ExprPtr iter;
  ExprPtr filter;  // `for x in xs if cond`; may be null
  Body body;
  Body else_body;
};

struct SetStmt : Stmt {
  explicit SetStmt(Position p) : Stmt(StmtKind::kSet, p) {}
  Target target;
  ExprPtr value;
};

struct SetBlockStmt : Stmt {
  explicit SetBlockStmt(Position p) : Stmt(StmtKind::kSetBlock, p) {}
  Target target;
  ExprPtr filter;  // a FilterExpr chain with a null innermost operand, or null
  Body body;
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct MacroStmt : Stmt {
  explicit MacroStmt(Position p) : Stmt(StmtKind::kMacro, p) {}
  MissingNames body_missing;
  std::string name;
  std::vector<MacroParam> params;
  Body body;
  // jinja2 accepts extra arguments only when the body mentions varargs / kwargs.
  bool uses_varargs = false;
  bool uses_kwargs = false;
};

struct LoopControlStmt : Stmt {
  LoopControlStmt(Position p, bool brk) : Stmt(brk ? StmtKind::kBreak : StmtKind::kContinue, p) {}
};

struct WithStmt : Stmt {
  explicit WithStmt(Position p) : Stmt(StmtKind::kWith, p) {}
  MissingNames body_missing;
  std::vector<std::pair<Target, ExprPtr>> assignments;
  Body body;
};

struct FilterBlockStmt : Stmt {
  explicit FilterBlockStmt(Position p) : Stmt(StmtKind::kFilterBlock, p) {}
  MissingNames body_missing;
  ExprPtr filter;  // FilterExpr chain with a null innermost operand
  Body body;
};

struct ParsedTemplate {
  Body body;
  MissingNames body_missing;
};

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_AST_H_
