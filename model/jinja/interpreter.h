// Renders a parsed template: executes statements (interpreter.cc) and evaluates
// expressions (evaluator.cc) with jinja2's scoping: a for-loop iteration, a macro call and a
// `with` block each get a fresh frame, `if` does not, and assignments never leak out of the
// frame they are made in (so templates use namespace() to carry state out of loops).
//
// One Interpreter serves one render on one thread; the syntax tree it walks is shared and
// read-only.
#ifndef SHOAL_MODEL_JINJA_INTERPRETER_H_
#define SHOAL_MODEL_JINJA_INTERPRETER_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/jinja/ast.h"
#include "model/jinja/runtime.h"
#include "model/jinja/str_util.h"
#include "model/jinja/template.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

// Variables of one scope, chained to the enclosing (lexical) scope.
class Frame {
 public:
  Frame(const Frame* parent, uint64_t serial) : parent_(parent), serial_(serial) {}
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

  const Value* Find(std::string_view name) const;
  void Set(std::string_view name, Value value);
  const Frame* parent() const { return parent_; }
  uint64_t serial() const { return serial_; }

 private:
  const Frame* parent_;
  uint64_t serial_;
  absl::flat_hash_map<std::string, Value, StringHash, StringEq> vars_;
};

class Interpreter final : public Runtime {
 public:
  Interpreter(const Variables& variables, const RenderOptions& options);

  absl::StatusOr<std::string> Render(const ParsedTemplate& parsed);

  // Evaluates an expression without variables the way jinja2's compile-time constant
  // folding does (fold.h).
  absl::StatusOr<Value> EvaluateConstant(const Expr& expr);

  // Runtime.
  const Limits& limits() const override { return options_.limits; }
  WorkBudget* budget() override { return &budget_; }
  absl::StatusOr<Value> CallFilter(std::string_view name, const Value& operand,
                                   CallArgs args) override;
  absl::StatusOr<bool> CallTest(std::string_view name, const Value& operand,
                                CallArgs args) override;
  absl::StatusOr<Namespace*> NewNamespace() override;
  std::chrono::system_clock::time_point Now() const override;

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  // A frame that is live while this object is in scope; macros check that the frame they
  // were defined in is still live before using it.
  class ScopedFrame {
   public:
    ScopedFrame(Interpreter* interpreter, const Frame* parent);
    ~ScopedFrame();
    Frame* get() { return &frame_; }

   private:
    Interpreter* interpreter_;
    Frame frame_;
  };

  // Bounds recursion through Exec and Eval.
  class StackGuard {
   public:
    explicit StackGuard(Interpreter* interpreter) : interpreter_(interpreter) {
      ++interpreter_->stack_depth_;
    }
    ~StackGuard() { --interpreter_->stack_depth_; }
    bool ok() const { return interpreter_->stack_depth_ <= interpreter_->limits().max_stack_depth; }

   private:
    Interpreter* interpreter_;
  };

  // Statements (interpreter.cc).
  absl::StatusOr<Flow> ExecBody(const Body& body, Frame* frame, std::string* out);
  absl::StatusOr<Flow> Exec(const Stmt& stmt, Frame* frame, std::string* out);
  absl::StatusOr<Flow> ExecOutput(const OutputStmt& stmt, Frame* frame, std::string* out);
  absl::Status ExecSet(const SetStmt& stmt, Frame* frame);
  absl::StatusOr<Flow> ExecIf(const IfStmt& stmt, Frame* frame, std::string* out);
  absl::Status ExecFor(const ForStmt& stmt, Frame* frame, std::string* out);
  absl::Status ExecSetBlock(const SetBlockStmt& stmt, Frame* frame);
  absl::Status ExecWith(const WithStmt& stmt, Frame* frame, std::string* out);
  absl::Status ExecFilterBlock(const FilterBlockStmt& stmt, Frame* frame, std::string* out);
  void DefineMacro(const MacroStmt& stmt, Frame* frame);
  // Starts the scope's not-yet-assigned names as undefined (scopes.h).
  static void DeclareMissing(const MissingNames& names, Frame* frame);
  absl::Status Assign(const Target& target, const Value& value, Frame* frame, Position pos);
  absl::Status Write(std::string* out, std::string_view text);
  bool IsLive(const Frame* frame, uint64_t serial) const;

  // Expressions (evaluator.cc).
  absl::StatusOr<Value> Eval(const Expr& expr, Frame* frame);
  absl::StatusOr<Value> EvalNode(const Expr& expr, Frame* frame);
  absl::StatusOr<Value> EvalAttr(const AttrExpr& expr, Frame* frame);
  absl::StatusOr<Value> EvalItem(const ItemExpr& expr, Frame* frame);
  absl::StatusOr<Value> EvalCall(const CallExpr& expr, Frame* frame);
  absl::StatusOr<Value> EvalUnary(const UnaryExpr& expr, Frame* frame);
  absl::StatusOr<Value> EvalCond(const CondExpr& expr, Frame* frame);
  absl::StatusOr<Value> EvalList(const ListExpr& expr, Frame* frame);
  absl::StatusOr<Value> EvalDict(const DictExpr& expr, Frame* frame);
  absl::StatusOr<Value> EvalSlice(const SliceExpr& expr, Frame* frame);
  absl::StatusOr<Value> EvalBinary(const BinaryExpr& expr, Frame* frame);
  absl::StatusOr<Value> EvalCompare(const CompareExpr& expr, Frame* frame);
  // `block_input` is the rendered body for `{% filter %}` / `{% set x | f %}` chains.
  absl::StatusOr<Value> EvalFilter(const FilterExpr& expr, Frame* frame, const Value* block_input);
  absl::StatusOr<Value> EvalTest(const TestExpr& expr, Frame* frame);
  absl::StatusOr<CallArgs> EvalArgs(const Args& args, Frame* frame);
  Value Lookup(std::string_view name, const Frame* frame) const;
  absl::StatusOr<Value> CallValue(const Value& callee, CallArgs args, Position pos);
  absl::StatusOr<Value> CallMacro(const Callable& macro, CallArgs args, Position pos);
  absl::Status BindMacroArgs(const MacroStmt& macro, CallArgs args, Frame* frame, Position pos);
  absl::Status CheckDepth(const Value& value, Position pos) const;

  const Variables& variables_;
  const RenderOptions& options_;
  WorkBudget budget_;
  std::deque<Namespace> namespaces_;
  std::vector<const Frame*> live_frames_;
  uint64_t next_serial_ = 1;
  int stack_depth_ = 0;
  int call_depth_ = 0;
  bool lenient_slices_ = false;
};

// Adds " at line:column" to an error, except to raise_exception()'s message, which reaches
// the user as the template's author wrote it.
absl::Status Located(const absl::Status& status, Position pos);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_INTERPRETER_H_
