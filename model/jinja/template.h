// shoal::jinja — a Jinja2 interpreter for the subset of the language that chat templates
// use, rendering byte for byte what transformers' jinja2 environment renders
// (ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop controls, and
// transformers' own `tojson`, `raise_exception` and `strftime_now`).
//
// Anything outside the subset (an unknown filter, test, method, statement or global) is a
// clear error naming it and its position, never silently different output. Every render is
// bounded (nesting, macro recursion, loop iterations, output size), so a hostile template
// can fail but cannot crash or hang the process.
#ifndef SHOAL_MODEL_JINJA_TEMPLATE_H_
#define SHOAL_MODEL_JINJA_TEMPLATE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/jinja/str_util.h"
#include "model/jinja/value.h"

namespace shoal::model::jinja {

struct Limits {
  // Nesting of lists and dicts in values, and of macro calls.
  int max_depth = 200;
  // Statements and expressions being evaluated at once, across macro calls; bounds the C++
  // stack a render uses: with 1000, under 1 MiB in an optimized build (about 3 MiB with
  // AddressSanitizer), well inside a default 8 MiB thread stack.
  int max_stack_depth = 1000;
  // Loop iterations plus other work (elements compared, sorted, copied, bytes built / 64).
  int64_t max_steps = 10'000'000;
  // The rendered text, and any single string built on the way.
  size_t max_output_bytes = 16 << 20;
  // namespace() objects one render may create.
  int64_t max_namespaces = 100'000;

  absl::Status Validate() const;
};

// Returns the current wall-clock time for strftime_now(); tests inject a fixed one.
using Clock = std::function<std::chrono::system_clock::time_point()>;

struct RenderOptions {
  Limits limits;
  Clock clock;  // empty: the system clock. strftime_now() formats it as UTC.
};

struct ParseOptions {
  // Defaults are transformers' environment.
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
  // Nesting of blocks and expressions.
  int max_depth = 200;
};

// Template variables, e.g. messages, tools, add_generation_prompt, bos_token.
using Variables = absl::flat_hash_map<std::string, Value, StringHash, StringEq>;

struct ParsedTemplate;  // the syntax tree, ast.h

// A parsed template. Immutable: one Template may be rendered from many threads at once.
class Template {
 public:
  static absl::StatusOr<Template> Parse(std::string_view source, const ParseOptions& options = {});

  // Renders with `variables`. Errors: InvalidArgument for template errors (including
  // raise_exception(), whose message is returned unchanged), Unimplemented for constructs
  // outside the supported subset, ResourceExhausted when a limit is exceeded.
  absl::StatusOr<std::string> Render(const Variables& variables,
                                     const RenderOptions& options = {}) const;

 private:
  explicit Template(std::shared_ptr<const ParsedTemplate> parsed) : parsed_(std::move(parsed)) {}
  std::shared_ptr<const ParsedTemplate> parsed_;
};

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_TEMPLATE_H_
