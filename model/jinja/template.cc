#include "model/jinja/template.h"

#include <exception>
#include <new>
#include <utility>

#include "common/status_macros.h"
#include "model/jinja/ast.h"
#include "model/jinja/fold.h"
#include "model/jinja/interpreter.h"
#include "model/jinja/lexer.h"
#include "model/jinja/parser.h"
#include "model/jinja/scopes.h"
#include "model/jinja/str_util.h"

namespace shoal::model::jinja {

absl::Status Limits::Validate() const {
  if (max_depth < 1 || max_stack_depth < 1 || max_steps < 1 || max_output_bytes < 1 ||
      max_namespaces < 0) {
    return absl::InvalidArgumentError("jinja limits must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<Template> Template::Parse(std::string_view source, const ParseOptions& options) {
  if (options.max_depth < 1) return absl::InvalidArgumentError("max_depth must be positive");
  // Nothing below throws by design; a failed allocation is reported, not propagated.
  try {
    const LexerOptions lexer_options{.trim_blocks = options.trim_blocks,
                                     .lstrip_blocks = options.lstrip_blocks,
                                     .keep_trailing_newline = options.keep_trailing_newline};
    SHOAL_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(source, lexer_options));
    SHOAL_ASSIGN_OR_RETURN(Body body, ParseTemplate(std::move(tokens), options.max_depth));
    auto parsed = std::make_shared<ParsedTemplate>();
    parsed->body = std::move(body);
    FoldConstants(parsed.get());
    AnalyzeScopes(parsed.get());
    return Template(std::move(parsed));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while parsing a template");
  } catch (const std::exception& e) {
    return absl::InternalError(Cat("template parsing failed: ", e.what()));
  }
}

absl::StatusOr<std::string> Template::Render(const Variables& variables,
                                             const RenderOptions& options) const {
  SHOAL_RETURN_IF_ERROR(options.limits.Validate());
  try {
    Interpreter interpreter(variables, options);
    return interpreter.Render(*parsed_);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while rendering a template");
  } catch (const std::exception& e) {
    return absl::InternalError(Cat("template rendering failed: ", e.what()));
  }
}

}  // namespace shoal::model::jinja
