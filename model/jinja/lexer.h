// Splits template source into tokens the way jinja2's lexer does under transformers'
// settings: text between tags, `{{ }}` / `{% %}` delimiters, and the names, literals and
// operators inside them. Whitespace control (`-`, `+`, trim_blocks, lstrip_blocks),
// comments and `{% raw %}` are resolved here, so the parser never sees them.
#ifndef SHOAL_MODEL_JINJA_LEXER_H_
#define SHOAL_MODEL_JINJA_LEXER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace shoal::model::jinja {

// 1-based line and column (in bytes) in the template source.
struct Position {
  int line = 1;
  int column = 1;
  std::string ToString() const;  // "3:15"
};

enum class TokenKind : uint8_t {
  kText,           // template data between tags (text)
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,           // identifiers and keywords (text)
  kString,         // a string literal, escapes decoded (text)
  kInteger,        // int_value
  kFloat,          // float_value
  kOperator,       // text: "+", "//", "==", "(", ...
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  Position pos;
};

struct LexerOptions {
  bool trim_blocks = true;             // drop the first newline after a block tag
  bool lstrip_blocks = true;           // drop spaces before a block tag that starts a line
  bool keep_trailing_newline = false;  // jinja2 drops one trailing newline by default
};

// Tokenizes `source`; the last token is kEnd. Errors carry the position.
absl::StatusOr<std::vector<Token>> Tokenize(std::string_view source, const LexerOptions& options);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_LEXER_H_
