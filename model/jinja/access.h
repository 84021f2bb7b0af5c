// Reading parts of values the way jinja2's sandboxed environment does: `x.name` tries a
// Python attribute (a method) before a dict key, `x['k']` tries the key first; a missing
// attribute or index gives Undefined rather than an error, except on Undefined itself.
#ifndef SHOAL_MODEL_JINJA_ACCESS_H_
#define SHOAL_MODEL_JINJA_ACCESS_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

// `obj.name`
absl::StatusOr<Value> GetAttr(const Value& obj, std::string_view name);
// `obj[index]`
absl::StatusOr<Value> GetItem(const Value& obj, const Value& index);
// `obj[start:stop:step]`; an omitted bound is None.
absl::StatusOr<Value> GetSlice(const Value& obj, const Value& start, const Value& stop,
                               const Value& step);
// Python iter(): a list's items, a dict's keys, a string's characters; Undefined is empty.
absl::StatusOr<std::shared_ptr<const ListData>> Iterate(const Value& value);
// jinja2's attribute paths ("a.b.0") used by map / sort / selectattr.
absl::StatusOr<Value> GetAttrPath(const Value& obj, std::string_view path);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_ACCESS_H_
