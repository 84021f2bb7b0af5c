#include "model/jinja/scopes.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "model/jinja/str_util.h"

namespace shoal::model::jinja {
namespace {

using NameSet = absl::flat_hash_set<std::string, StringHash, StringEq>;

// How a name is first met at one scope level, in template order.
enum class First { kLoad, kStore };

// The first events of a scope level. A branch of an `if` records only the names new to it
// and looks further names up in its base, so that analysis stays linear in template size.
struct FirstEvents {
  const FirstEvents* base = nullptr;
  absl::flat_hash_map<std::string, First, StringHash, StringEq> own;

  bool Has(std::string_view name) const {
    for (const FirstEvents* e = this; e != nullptr; e = e->base) {
      if (e->own.contains(name)) return true;
    }
    return false;
  }
  void Note(std::string_view name, First first) {
    if (!Has(name)) own.emplace(std::string(name), first);
  }
};

void CollectArgs(const Args& args, std::vector<const Expr*>* stack) {
  for (const ExprPtr& a : args.positional) stack->push_back(a.get());
  for (const auto& [name, a] : args.keyword) stack->push_back(a.get());
}

// Every name an expression reads (iteratively: trees are bounded but may be wide).
void Loads(const Expr* root, FirstEvents* events, NameSet* names) {
  std::vector<const Expr*> stack = {root};
  while (!stack.empty()) {
    const Expr* e = stack.back();
    stack.pop_back();
    if (e == nullptr) continue;
    switch (e->kind) {
      case ExprKind::kLiteral:
        break;
      case ExprKind::kName: {
        const std::string& name = static_cast<const NameExpr&>(*e).name;
        events->Note(name, First::kLoad);
        names->insert(name);
        break;
      }
      case ExprKind::kList:
        for (const ExprPtr& item : static_cast<const ListExpr&>(*e).items)
          stack.push_back(item.get());
        break;
      case ExprKind::kDict:
        for (const auto& [k, v] : static_cast<const DictExpr&>(*e).items) {
          stack.push_back(k.get());
          stack.push_back(v.get());
        }
        break;
      case ExprKind::kAttr:
        stack.push_back(static_cast<const AttrExpr&>(*e).object.get());
        break;
      case ExprKind::kItem: {
        const auto& n = static_cast<const ItemExpr&>(*e);
        stack.push_back(n.object.get());
        stack.push_back(n.index.get());
        break;
      }
      case ExprKind::kSlice: {
        const auto& n = static_cast<const SliceExpr&>(*e);
        for (const Expr* c : {n.object.get(), n.start.get(), n.stop.get(), n.step.get()}) {
          stack.push_back(c);
        }
        break;
      }
      case ExprKind::kCall:
        stack.push_back(static_cast<const CallExpr&>(*e).callee.get());
        CollectArgs(static_cast<const CallExpr&>(*e).args, &stack);
        break;
      case ExprKind::kFilter:
        stack.push_back(static_cast<const FilterExpr&>(*e).operand.get());
        CollectArgs(static_cast<const FilterExpr&>(*e).args, &stack);
        break;
      case ExprKind::kTest:
        stack.push_back(static_cast<const TestExpr&>(*e).operand.get());
        CollectArgs(static_cast<const TestExpr&>(*e).args, &stack);
        break;
      case ExprKind::kUnary:
        stack.push_back(static_cast<const UnaryExpr&>(*e).operand.get());
        break;
      case ExprKind::kBinary:
        stack.push_back(static_cast<const BinaryExpr&>(*e).left.get());
        stack.push_back(static_cast<const BinaryExpr&>(*e).right.get());
        break;
      case ExprKind::kCompare:
        stack.push_back(static_cast<const CompareExpr&>(*e).first.get());
        for (const auto& [op, operand] : static_cast<const CompareExpr&>(*e).rest) {
          stack.push_back(operand.get());
        }
        break;
      case ExprKind::kCond: {
        const auto& n = static_cast<const CondExpr&>(*e);
        for (const Expr* c : {n.cond.get(), n.then_expr.get(), n.else_expr.get()})
          stack.push_back(c);
        break;
      }
    }
  }
}

// A scope-making statement met at some level, analyzed once that level is complete (as
// jinja2 does: inner scopes see every name of the enclosing one).
struct Child {
  Body* body;
  MissingNames* missing;
  NameSet params;
};

class LevelWalker {
 public:
  LevelWalker(FirstEvents* events, NameSet* names, std::vector<Child>* children)
      : events_(events), names_(names), children_(children) {}

  void Walk(Body& body) {
    for (StmtPtr& stmt : body) Visit(*stmt);
  }

 private:
  void Load(const Expr* e) { Loads(e, events_, names_); }

  void Store(const Target& target) {
    if (!target.attr.empty()) {  // ns.attr = ...: reads ns
      events_->Note(target.names[0], First::kLoad);
      names_->insert(target.names[0]);
      return;
    }
    for (const std::string& name : target.names) Store(name);
  }

  void Store(const std::string& name) {
    events_->Note(name, First::kStore);
    names_->insert(name);
  }

  void Visit(Stmt& stmt) {
    switch (stmt.kind) {
      case StmtKind::kText:
      case StmtKind::kBreak:
      case StmtKind::kContinue:
        break;
      case StmtKind::kOutput:
        Load(static_cast<const OutputStmt&>(stmt).expr.get());
        break;
      case StmtKind::kIf: {
        VisitIf(static_cast<IfStmt&>(stmt));
        break;
      }
      case StmtKind::kFor: {
        auto& node = static_cast<ForStmt&>(stmt);
        Load(node.iter.get());
        NameSet params(node.target.names.begin(), node.target.names.end());
        params.insert("loop");
        // The filter runs in the loop's scope; the else body gets a scope of its own here.
        children_->push_back({&node.body, &node.body_missing, std::move(params)});
        children_->push_back({&node.else_body, nullptr, {}});
        break;
      }
      case StmtKind::kSet: {
        const auto& node = static_cast<const SetStmt&>(stmt);
        Load(node.value.get());
        Store(node.target);
        break;
      }
      case StmtKind::kSetBlock: {
        auto& node = static_cast<SetBlockStmt&>(stmt);
        Walk(node.body);
        Load(node.filter.get());
        Store(node.target);
        break;
      }
      case StmtKind::kMacro: {
        auto& node = static_cast<MacroStmt&>(stmt);
        Store(node.name);
        NameSet params;
        for (const MacroParam& p : node.params) params.insert(p.name);
        params.insert("varargs");
        params.insert("kwargs");
        children_->push_back({&node.body, &node.body_missing, std::move(params)});
        break;
      }
      case StmtKind::kWith: {
        auto& node = static_cast<WithStmt&>(stmt);
        NameSet params;
        for (const auto& [target, value] : node.assignments) {
          Load(value.get());
          params.insert(target.names.begin(), target.names.end());
        }
        children_->push_back({&node.body, &node.body_missing, std::move(params)});
        break;
      }
      case StmtKind::kFilterBlock: {
        auto& node = static_cast<FilterBlockStmt&>(stmt);
        Load(node.filter.get());
        children_->push_back({&node.body, &node.body_missing, {}});
        break;
      }
    }
  }

  // Names first met inside an `if` (in any branch) keep their outer value until assigned:
  // jinja2's branch_update resolves every name a branch stores.
  void VisitIf(IfStmt& node) {
    FirstEvents branches{.base = events_};
    for (auto& [cond, body] : node.branches) {
      Loads(cond.get(), &branches, names_);
      WalkInto(&branches, body);
    }
    WalkInto(&branches, node.else_body);
    for (const auto& [name, first] : branches.own) events_->Note(name, First::kLoad);
  }

  void WalkInto(FirstEvents* events, Body& body) {
    FirstEvents* saved = events_;
    events_ = events;
    Walk(body);
    events_ = saved;
  }

  FirstEvents* events_;
  NameSet* names_;
  std::vector<Child>* children_;
};

void AnalyzeLevel(Body& body, const NameSet& params, const NameSet& enclosing,
                  MissingNames* missing) {
  FirstEvents events;
  NameSet names = params;
  std::vector<Child> children;
  LevelWalker(&events, &names, &children).Walk(body);
  if (missing != nullptr) {
    missing->clear();
    for (const auto& [name, first] : events.own) {
      if (first == First::kStore && !params.contains(name) && !enclosing.contains(name)) {
        missing->push_back(name);
      }
    }
  }
  NameSet inner = enclosing;
  inner.insert(names.begin(), names.end());
  for (Child& child : children) AnalyzeLevel(*child.body, child.params, inner, child.missing);
}

}  // namespace

void AnalyzeScopes(ParsedTemplate* parsed) {
  AnalyzeLevel(parsed->body, {}, {}, &parsed->body_missing);
}

}  // namespace shoal::model::jinja
