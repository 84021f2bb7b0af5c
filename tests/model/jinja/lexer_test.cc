#include "model/jinja/lexer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::model::jinja {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Tokens as "kind:text" strings, which read well in expectations.
std::vector<std::string> Lex(std::string_view source, LexerOptions options = {}) {
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(source, options);
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  std::vector<std::string> out;
  if (!tokens.ok()) return out;
  for (const Token& t : *tokens) {
    switch (t.kind) {
      case TokenKind::kText:
        out.push_back("text:" + t.text);
        break;
      case TokenKind::kVariableBegin:
        out.push_back("{{");
        break;
      case TokenKind::kVariableEnd:
        out.push_back("}}");
        break;
      case TokenKind::kBlockBegin:
        out.push_back("{%");
        break;
      case TokenKind::kBlockEnd:
        out.push_back("%}");
        break;
      case TokenKind::kName:
        out.push_back("name:" + t.text);
        break;
      case TokenKind::kString:
        out.push_back("str:" + t.text);
        break;
      case TokenKind::kInteger:
        out.push_back("int:" + std::to_string(t.int_value));
        break;
      case TokenKind::kFloat:
        out.push_back("float:" + std::to_string(t.float_value));
        break;
      case TokenKind::kOperator:
        out.push_back("op:" + t.text);
        break;
      case TokenKind::kEnd:
        out.push_back("end");
        break;
    }
  }
  return out;
}

TEST(LexerTest, SplitsTextAndTags) {
  EXPECT_THAT(Lex("a{{ x }}b{% if y %}"), ElementsAre("text:a", "{{", "name:x", "}}", "text:b",
                                                      "{%", "name:if", "name:y", "%}", "end"));
}

TEST(LexerTest, ReadsOperatorsLongestFirst) {
  EXPECT_THAT(Lex("{{a//b**c!=d<=e~f|g}}"),
              ElementsAre("{{", "name:a", "op://", "name:b", "op:**", "name:c", "op:!=", "name:d",
                          "op:<=", "name:e", "op:~", "name:f", "op:|", "name:g", "}}", "end"));
}

TEST(LexerTest, ReadsNumbersLikePython) {
  EXPECT_THAT(Lex("{{ 1_000 0x1F 0o17 0b11 2.5 1e3 7 }}"),
              ElementsAre("{{", "int:1000", "int:31", "int:15", "int:3", "float:2.500000",
                          "float:1000.000000", "int:7", "}}", "end"));
}

TEST(LexerTest, AttributeAfterDotIsNotAFloat) {
  EXPECT_THAT(Lex("{{ x.0.1 }}"),
              ElementsAre("{{", "name:x", "op:.", "int:0", "op:.", "int:1", "}}", "end"));
}

TEST(LexerTest, DecodesStringEscapesLikePython) {
  EXPECT_THAT(Lex(R"({{ 'a\nb\t\'q\' \x41\u00e9\101 \q' "d\"q" }})"),
              ElementsAre("{{",
                          "str:a\nb\t'q' Aé"
                          "A \\q",
                          "str:d\"q", "}}", "end"));
}

TEST(LexerTest, TrimBlocksDropsOneNewlineAfterABlock) {
  EXPECT_THAT(Lex("{% if x %}\n\nA"),
              ElementsAre("{%", "name:if", "name:x", "%}", "text:\nA", "end"));
  // Not after a variable tag.
  EXPECT_THAT(Lex("{{ x }}\nA"), ElementsAre("{{", "name:x", "}}", "text:\nA", "end"));
}

TEST(LexerTest, LstripBlocksDropsIndentBeforeABlockOnItsOwnLine) {
  EXPECT_THAT(Lex("A\n  {% if x %}"),
              ElementsAre("text:A\n", "{%", "name:if", "name:x", "%}", "end"));
  // Text before the tag on the same line stays.
  EXPECT_THAT(Lex("A  {% if x %}"),
              ElementsAre("text:A  ", "{%", "name:if", "name:x", "%}", "end"));
  // `{%+` keeps the indent.
  EXPECT_THAT(Lex("A\n  {%+ if x %}"),
              ElementsAre("text:A\n  ", "{%", "name:if", "name:x", "%}", "end"));
}

TEST(LexerTest, MinusStripsAllWhitespaceOnThatSide) {
  EXPECT_THAT(Lex("A \n {%- if x -%} \n B"),
              ElementsAre("text:A", "{%", "name:if", "name:x", "%}", "text:B", "end"));
  EXPECT_THAT(Lex("A \n {{- x -}} \n B"),
              ElementsAre("text:A", "{{", "name:x", "}}", "text:B", "end"));
}

TEST(LexerTest, PlusAfterBlockKeepsTheNewline) {
  EXPECT_THAT(Lex("{% if x +%}\nA"),
              ElementsAre("{%", "name:if", "name:x", "%}", "text:\nA", "end"));
}

TEST(LexerTest, OptionsCanTurnWhitespaceControlOff) {
  LexerOptions plain{.trim_blocks = false, .lstrip_blocks = false};
  EXPECT_THAT(Lex("  {% if x %}\nA", plain),
              ElementsAre("text:  ", "{%", "name:if", "name:x", "%}", "text:\nA", "end"));
}

TEST(LexerTest, DropsCommentsWithTheirWhitespaceRules) {
  EXPECT_THAT(Lex("A {# note #}\nB\n  {# own line #}\nC"),
              ElementsAre("text:A ", "text:B\n", "text:C", "end"));
}

TEST(LexerTest, RawBlocksAreText) {
  EXPECT_THAT(Lex("{% raw %}{{ x }}{% endraw %}"), ElementsAre("text:{{ x }}", "end"));
}

TEST(LexerTest, NormalizesNewlinesAndDropsOneTrailingNewline) {
  EXPECT_THAT(Lex("a\r\nb\rc\n\n"), ElementsAre("text:a\nb\nc\n", "end"));
  EXPECT_THAT(Lex("a\n", {.keep_trailing_newline = true}), ElementsAre("text:a\n", "end"));
}

TEST(LexerTest, BracesInsideATagDoNotEndIt) {
  EXPECT_THAT(Lex("{{ {'a': {'b': 1}} }}"),
              ElementsAre("{{", "op:{", "str:a", "op::", "op:{", "str:b", "op::", "int:1", "op:}",
                          "op:}", "}}", "end"));
}

TEST(LexerTest, ReportsErrorsWithLineAndColumn) {
  EXPECT_THAT(Tokenize("x\n{{ 'open }}", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unterminated string literal at 2:4")));
  EXPECT_THAT(Tokenize("{{ x", {}), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("unclosed variable tag '{{' at 1:1")));
  EXPECT_THAT(Tokenize("{{ x $ }}", {}), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("unexpected character '$' at 1:6")));
  EXPECT_THAT(Tokenize("{{ (1] }}", {}), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("unexpected ']', expected ')'")));
  EXPECT_THAT(Tokenize("a {# b", {}), StatusIs(absl::StatusCode::kInvalidArgument,
                                               HasSubstr("missing end of comment tag at 1:3")));
  EXPECT_THAT(Tokenize("{{ 99999999999999999999 }}", {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("integer literal too large")));
  EXPECT_THAT(Tokenize(R"({{ '\x4' }})", {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated \\x escape")));
}

}  // namespace
}  // namespace shoal::model::jinja
