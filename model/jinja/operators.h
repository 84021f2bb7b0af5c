// Python semantics of Jinja's operators: arithmetic with int64 overflow checks (Python's
// ints are unbounded, so overflow is an error rather than a wrong number), floor division
// and modulo with the divisor's sign, string and list concatenation and repetition,
// comparisons, and `in`.
#ifndef SHOAL_MODEL_JINJA_OPERATORS_H_
#define SHOAL_MODEL_JINJA_OPERATORS_H_

#include "absl/status/statusor.h"
#include "model/jinja/ast.h"
#include "model/jinja/runtime.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

// Any BinaryOp except kAnd / kOr, which short-circuit in the evaluator.
absl::StatusOr<Value> BinaryOperation(Runtime& rt, BinaryOp op, const Value& a, const Value& b);
// kNeg / kPos.
absl::StatusOr<Value> UnaryOperation(UnaryOp op, const Value& v);
absl::StatusOr<bool> CompareOperation(Runtime& rt, CompareOp op, const Value& a, const Value& b);
// Python `item in container`.
absl::StatusOr<bool> Contains(Runtime& rt, const Value& container, const Value& item);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_OPERATORS_H_
