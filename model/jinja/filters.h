// jinja2's built-in filters (`x | trim`, `tools | tojson(indent=4)`, ...), with
// transformers' `tojson`. The registry is in filters.cc; string filters are in
// filters_string.cc and filters over sequences in filters_seq.cc.
#ifndef SHOAL_MODEL_JINJA_FILTERS_H_
#define SHOAL_MODEL_JINJA_FILTERS_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "model/jinja/runtime.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

// Whether jinja2 has a filter of this name. An unknown name is an error when the filter
// runs (jinja2 defers it to run time inside if blocks too).
bool IsKnownFilterName(std::string_view name);
// Whether Shoal implements it.
bool IsSupportedFilterName(std::string_view name);

// Applies filter `name`; Unimplemented for jinja2 filters outside the subset,
// InvalidArgument for unknown names.
absl::StatusOr<Value> ApplyFilter(Runtime& rt, std::string_view name, const Value& value,
                                  CallArgs args);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_FILTERS_H_
