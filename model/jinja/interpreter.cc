#include "model/jinja/interpreter.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "common/status_macros.h"
#include "model/jinja/access.h"
#include "model/jinja/filters.h"
#include "model/jinja/globals.h"
#include "model/jinja/is_tests.h"
#include "model/jinja/str_util.h"
#include "model/jinja/value_format.h"

namespace shoal::model::jinja {

absl::Status Located(const absl::Status& status, Position pos) {
  if (status.ok() || IsRaisedError(status)) return status;
  return absl::Status(status.code(), Cat(status.message(), " at ", pos.ToString()));
}

const Value* Frame::Find(std::string_view name) const {
  auto it = vars_.find(name);
  return it == vars_.end() ? nullptr : &it->second;
}

void Frame::Set(std::string_view name, Value value) { vars_[name] = std::move(value); }

Interpreter::ScopedFrame::ScopedFrame(Interpreter* interpreter, const Frame* parent)
    : interpreter_(interpreter), frame_(parent, interpreter->next_serial_++) {
  interpreter_->live_frames_.push_back(&frame_);
}

Interpreter::ScopedFrame::~ScopedFrame() { interpreter_->live_frames_.pop_back(); }

Interpreter::Interpreter(const Variables& variables, const RenderOptions& options)
    : variables_(variables), options_(options), budget_(options.limits.max_steps) {}

absl::StatusOr<std::string> Interpreter::Render(const ParsedTemplate& parsed) {
  ScopedFrame root(this, nullptr);
  DeclareMissing(parsed.body_missing, root.get());
  std::string out;
  SHOAL_RETURN_IF_ERROR(ExecBody(parsed.body, root.get(), &out).status());
  return out;
}

absl::StatusOr<Value> Interpreter::EvaluateConstant(const Expr& expr) {
  lenient_slices_ = true;
  ScopedFrame root(this, nullptr);
  absl::StatusOr<Value> v = Eval(expr, root.get());
  lenient_slices_ = false;
  return v;
}

absl::StatusOr<Value> Interpreter::CallFilter(std::string_view name, const Value& operand,
                                              CallArgs args) {
  return ApplyFilter(*this, name, operand, std::move(args));
}

absl::StatusOr<bool> Interpreter::CallTest(std::string_view name, const Value& operand,
                                           CallArgs args) {
  return ApplyTest(*this, name, operand, std::move(args));
}

absl::StatusOr<Namespace*> Interpreter::NewNamespace() {
  if (static_cast<int64_t>(namespaces_.size()) >= limits().max_namespaces) {
    return absl::ResourceExhaustedError(
        Cat("template created more than ", limits().max_namespaces, " namespaces"));
  }
  return &namespaces_.emplace_back();
}

std::chrono::system_clock::time_point Interpreter::Now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

bool Interpreter::IsLive(const Frame* frame, uint64_t serial) const {
  for (auto it = live_frames_.rbegin(); it != live_frames_.rend(); ++it) {
    if (*it == frame) return frame->serial() == serial;
  }
  return false;
}

absl::Status Interpreter::Write(std::string* out, std::string_view text) {
  if (out->size() + text.size() > limits().max_output_bytes) {
    return absl::ResourceExhaustedError(
        Cat("rendered output exceeds the limit of ", limits().max_output_bytes, " bytes"));
  }
  out->append(text);
  return Charge(static_cast<int64_t>(text.size() / 64));
}

absl::StatusOr<Interpreter::Flow> Interpreter::ExecBody(const Body& body, Frame* frame,
                                                        std::string* out) {
  for (const StmtPtr& stmt : body) {
    SHOAL_ASSIGN_OR_RETURN(Flow flow, Exec(*stmt, frame, out));
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

absl::StatusOr<Interpreter::Flow> Interpreter::Exec(const Stmt& stmt, Frame* frame,
                                                    std::string* out) {
  StackGuard guard(this);
  if (!guard.ok()) {
    return absl::ResourceExhaustedError(Cat("template recursion deeper than ",
                                            limits().max_stack_depth, " at ", stmt.pos.ToString()));
  }
  switch (stmt.kind) {
    case StmtKind::kText:
      SHOAL_RETURN_IF_ERROR(Located(Write(out, static_cast<const TextStmt&>(stmt).text), stmt.pos));
      return Flow::kNormal;
    case StmtKind::kOutput:
      return ExecOutput(static_cast<const OutputStmt&>(stmt), frame, out);
    case StmtKind::kIf:
      return ExecIf(static_cast<const IfStmt&>(stmt), frame, out);
    case StmtKind::kFor:
      SHOAL_RETURN_IF_ERROR(ExecFor(static_cast<const ForStmt&>(stmt), frame, out));
      return Flow::kNormal;
    case StmtKind::kSet:
      SHOAL_RETURN_IF_ERROR(ExecSet(static_cast<const SetStmt&>(stmt), frame));
      return Flow::kNormal;
    case StmtKind::kSetBlock:
      SHOAL_RETURN_IF_ERROR(ExecSetBlock(static_cast<const SetBlockStmt&>(stmt), frame));
      return Flow::kNormal;
    case StmtKind::kMacro:
      DefineMacro(static_cast<const MacroStmt&>(stmt), frame);
      return Flow::kNormal;
    case StmtKind::kBreak:
      return Flow::kBreak;
    case StmtKind::kContinue:
      return Flow::kContinue;
    case StmtKind::kWith:
      SHOAL_RETURN_IF_ERROR(ExecWith(static_cast<const WithStmt&>(stmt), frame, out));
      return Flow::kNormal;
    case StmtKind::kFilterBlock:
      SHOAL_RETURN_IF_ERROR(ExecFilterBlock(static_cast<const FilterBlockStmt&>(stmt), frame, out));
      return Flow::kNormal;
  }
  return Flow::kNormal;
}

absl::StatusOr<Interpreter::Flow> Interpreter::ExecOutput(const OutputStmt& stmt, Frame* frame,
                                                          std::string* out) {
  SHOAL_ASSIGN_OR_RETURN(Value v, Eval(*stmt.expr, frame));
  if (v.is_string()) {
    SHOAL_RETURN_IF_ERROR(Located(Write(out, v.AsString()), stmt.pos));
    return Flow::kNormal;
  }
  absl::StatusOr<std::string> text = Str(v);
  if (!text.ok()) return Located(text.status(), stmt.pos);
  SHOAL_RETURN_IF_ERROR(Located(Write(out, *text), stmt.pos));
  return Flow::kNormal;
}

absl::Status Interpreter::ExecSet(const SetStmt& stmt, Frame* frame) {
  SHOAL_ASSIGN_OR_RETURN(Value v, Eval(*stmt.value, frame));
  return Assign(stmt.target, v, frame, stmt.pos);
}

absl::StatusOr<Interpreter::Flow> Interpreter::ExecIf(const IfStmt& stmt, Frame* frame,
                                                      std::string* out) {
  for (const auto& [cond, body] : stmt.branches) {
    SHOAL_ASSIGN_OR_RETURN(Value v, Eval(*cond, frame));
    if (v.Truthy()) return ExecBody(body, frame, out);
  }
  return ExecBody(stmt.else_body, frame, out);
}

absl::Status Interpreter::ExecFor(const ForStmt& stmt, Frame* frame, std::string* out) {
  SHOAL_ASSIGN_OR_RETURN(Value iterable, Eval(*stmt.iter, frame));
  absl::StatusOr<std::shared_ptr<const ListData>> items = Iterate(iterable);
  if (!items.ok()) return Located(items.status(), stmt.iter->pos);
  if (stmt.filter != nullptr) {
    // `for x in xs if cond`: the loop (and loop.length) sees only the kept items.
    auto kept = std::make_shared<ListData>();
    for (const Value& item : (*items)->items) {
      SHOAL_RETURN_IF_ERROR(Located(Charge(1), stmt.pos));
      ScopedFrame scope(this, frame);
      SHOAL_RETURN_IF_ERROR(Assign(stmt.target, item, scope.get(), stmt.pos));
      SHOAL_ASSIGN_OR_RETURN(Value keep, Eval(*stmt.filter, scope.get()));
      if (keep.Truthy()) kept->items.push_back(item);
    }
    items = std::shared_ptr<const ListData>(std::move(kept));
  }
  if ((*items)->items.empty()) {
    ScopedFrame scope(this, frame);
    return ExecBody(stmt.else_body, scope.get(), out).status();
  }
  auto state = std::make_shared<LoopState>();
  state->items = *items;
  const Value loop = Value::Loop(state);
  for (size_t i = 0; i < state->items->items.size(); ++i) {
    SHOAL_RETURN_IF_ERROR(Located(Charge(1), stmt.pos));
    state->index = i;
    ScopedFrame scope(this, frame);
    DeclareMissing(stmt.body_missing, scope.get());
    SHOAL_RETURN_IF_ERROR(Assign(stmt.target, state->items->items[i], scope.get(), stmt.pos));
    scope.get()->Set("loop", loop);
    SHOAL_ASSIGN_OR_RETURN(Flow flow, ExecBody(stmt.body, scope.get(), out));
    if (flow == Flow::kBreak) break;
  }
  return absl::OkStatus();
}

absl::Status Interpreter::ExecSetBlock(const SetBlockStmt& stmt, Frame* frame) {
  std::string text;
  SHOAL_RETURN_IF_ERROR(ExecBody(stmt.body, frame, &text).status());
  Value value = Value::String(std::move(text));
  if (stmt.filter != nullptr) {
    SHOAL_ASSIGN_OR_RETURN(value,
                           EvalFilter(static_cast<const FilterExpr&>(*stmt.filter), frame, &value));
  }
  return Assign(stmt.target, value, frame, stmt.pos);
}

absl::Status Interpreter::ExecWith(const WithStmt& stmt, Frame* frame, std::string* out) {
  ScopedFrame scope(this, frame);
  DeclareMissing(stmt.body_missing, scope.get());
  for (const auto& [target, expr] : stmt.assignments) {
    SHOAL_ASSIGN_OR_RETURN(Value v, Eval(*expr, frame));
    SHOAL_RETURN_IF_ERROR(Assign(target, v, scope.get(), stmt.pos));
  }
  return ExecBody(stmt.body, scope.get(), out).status();
}

absl::Status Interpreter::ExecFilterBlock(const FilterBlockStmt& stmt, Frame* frame,
                                          std::string* out) {
  std::string text;
  {
    ScopedFrame scope(this, frame);
    DeclareMissing(stmt.body_missing, scope.get());
    SHOAL_RETURN_IF_ERROR(ExecBody(stmt.body, scope.get(), &text).status());
  }
  const Value input = Value::String(std::move(text));
  SHOAL_ASSIGN_OR_RETURN(Value v,
                         EvalFilter(static_cast<const FilterExpr&>(*stmt.filter), frame, &input));
  absl::StatusOr<std::string> str = Str(v);
  if (!str.ok()) return Located(str.status(), stmt.pos);
  return Located(Write(out, *str), stmt.pos);
}

void Interpreter::DeclareMissing(const MissingNames& names, Frame* frame) {
  for (const std::string& name : names)
    frame->Set(name, Value::Undefined(Cat("'", name, "' is undefined")));
}

void Interpreter::DefineMacro(const MacroStmt& stmt, Frame* frame) {
  auto callable = std::make_shared<Callable>();
  callable->kind = Callable::Kind::kMacro;
  callable->name = stmt.name;
  callable->macro = &stmt;
  callable->frame = frame;
  callable->frame_serial = frame->serial();
  frame->Set(stmt.name, Value::Function(std::move(callable)));
}

absl::Status Interpreter::Assign(const Target& target, const Value& value, Frame* frame,
                                 Position pos) {
  if (!target.attr.empty()) {
    const Value ns = Lookup(target.names[0], frame);
    if (!ns.is_namespace()) {
      return Located(absl::InvalidArgumentError("cannot assign attribute on non-namespace object"),
                     pos);
    }
    ns.AsNamespace()->attrs().Set(target.attr, value);
    return absl::OkStatus();
  }
  if (!target.is_tuple) {
    frame->Set(target.names[0], value);
    return absl::OkStatus();
  }
  absl::StatusOr<std::shared_ptr<const ListData>> items = Iterate(value);
  if (!items.ok()) return Located(items.status(), pos);
  const size_t got = (*items)->items.size(), want = target.names.size();
  if (got != want) {
    return Located(
        absl::InvalidArgumentError(
            got > want ? Cat("too many values to unpack (expected ", want, ")")
                       : Cat("not enough values to unpack (expected ", want, ", got ", got, ")")),
        pos);
  }
  for (size_t i = 0; i < want; ++i) frame->Set(target.names[i], (*items)->items[i]);
  return absl::OkStatus();
}

}  // namespace shoal::model::jinja
