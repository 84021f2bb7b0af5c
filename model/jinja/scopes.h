// jinja2 decides at compile time where each variable lives (its idtracking module), and
// that decision is visible: a name that a scope assigns before reading it starts out
// undefined in that scope, hiding any outer value while the scope runs. AnalyzeScopes
// records those names for each scope so that the interpreter can reproduce this.
#ifndef SHOAL_MODEL_JINJA_SCOPES_H_
#define SHOAL_MODEL_JINJA_SCOPES_H_

#include "model/jinja/ast.h"

namespace shoal::model::jinja {

// Fills in the `body_missing` lists of the template and of every scope-making statement.
void AnalyzeScopes(ParsedTemplate* parsed);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_SCOPES_H_
