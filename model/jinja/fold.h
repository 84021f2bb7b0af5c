// Compile-time constant folding, as jinja2's optimizer does it. It matters for more than
// speed: jinja2 evaluates constant expressions through environment.getitem, which turns a
// failing slice such as `{{ 5[1:] }}` into Undefined, while the same slice of a variable
// raises at run time. Folding the same subtrees reproduces both behaviours.
#ifndef SHOAL_MODEL_JINJA_FOLD_H_
#define SHOAL_MODEL_JINJA_FOLD_H_

#include "model/jinja/ast.h"

namespace shoal::model::jinja {

// Replaces every constant subexpression whose value has a plain Python representation by
// a literal, and every `{{ }}` of a constant expression by its text.
void FoldConstants(ParsedTemplate* parsed);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_FOLD_H_
