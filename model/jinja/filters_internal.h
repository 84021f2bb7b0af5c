// The individual filters, shared between filters*.cc. Each takes the filtered value and the
// call's arguments, bound by name like jinja2's Python signatures.
#ifndef SHOAL_MODEL_JINJA_FILTERS_INTERNAL_H_
#define SHOAL_MODEL_JINJA_FILTERS_INTERNAL_H_

#include "absl/status/statusor.h"
#include "model/jinja/runtime.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja::filters {

using FilterFn = absl::StatusOr<Value> (*)(Runtime& rt, const Value& value, CallArgs args);

// filters_string.cc
absl::StatusOr<Value> Upper(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Lower(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Capitalize(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Title(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Trim(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Replace(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Indent(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Wordcount(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Center(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Truncate(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> String(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Escape(Runtime& rt, const Value& value, CallArgs args);

// filters_seq.cc
absl::StatusOr<Value> Length(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> List(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Join(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> First(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Last(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Reverse(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Sort(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Unique(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Dictsort(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Items(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Map(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Select(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Reject(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> SelectAttr(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> RejectAttr(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Sum(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Min(Runtime& rt, const Value& value, CallArgs args);
absl::StatusOr<Value> Max(Runtime& rt, const Value& value, CallArgs args);

}  // namespace shoal::model::jinja::filters

#endif  // SHOAL_MODEL_JINJA_FILTERS_INTERNAL_H_
