// Hostile templates fail with ResourceExhausted, quickly, instead of exhausting the stack,
// memory or time.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/jinja/template.h"
#include "tests/support/status_matchers.h"

namespace shoal::model::jinja {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<std::string> Render(const std::string& source, Limits limits = {}) {
  ParseOptions parse_options;
  parse_options.max_depth = limits.max_depth;
  absl::StatusOr<Template> parsed = Template::Parse(source, parse_options);
  if (!parsed.ok()) return parsed.status();
  RenderOptions options;
  options.limits = limits;
  return parsed->Render({}, options);
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(LimitsTest, DeeplyNestedExpressionsFailToParse) {
  EXPECT_THAT(Template::Parse("{{ " + Repeat("(", 300) + "1" + Repeat(")", 300) + " }}").status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("nested deeper than 200")));
  EXPECT_THAT(
      Template::Parse("{{ 1" + Repeat(" + 1", 5000) + " }}").status(),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("expression nested deeper")));
  EXPECT_THAT(Template::Parse("{{ " + Repeat("not ", 1000) + "x }}").status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("nested deeper")));
  EXPECT_THAT(Template::Parse("{{ x" + Repeat("|trim", 1000) + " }}").status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("nested deeper")));
}

TEST(LimitsTest, DeeplyNestedBlocksFailToParse) {
  EXPECT_THAT(Template::Parse(Repeat("{% if x %}", 300) + Repeat("{% endif %}", 300)).status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("nested deeper than 200")));
}

TEST(LimitsTest, UnboundedMacroRecursionFails) {
  EXPECT_THAT(Render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("macro calls nested deeper than 200")));
}

TEST(LimitsTest, RecursionThroughDeepBodiesHitsTheStackLimit) {
  const std::string body = Repeat("{% if true %}", 150) + "{{ f() }}" + Repeat("{% endif %}", 150);
  EXPECT_THAT(Render("{% macro f() %}" + body + "{% endmacro %}{{ f() }}"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("recursion deeper than")));
}

TEST(LimitsTest, LoopIterationsAreBounded) {
  Limits limits;
  limits.max_steps = 100'000;
  EXPECT_THAT(
      Render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
             limits),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("work limit")));
}

TEST(LimitsTest, OutputSizeIsBounded) {
  Limits limits;
  limits.max_output_bytes = 1 << 20;
  EXPECT_THAT(Render("{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}", limits),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("output exceeds")));
}

TEST(LimitsTest, StringsCannotGrowPastTheOutputLimit) {
  EXPECT_THAT(
      Render("{% set ns = namespace(s='x') %}{% for i in range(64) %}"
             "{% set ns.s = ns.s ~ ns.s %}{% endfor %}"),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("exceeds the output limit")));
  EXPECT_THAT(Render("{{ 'x' * 1000000000000 }}"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("output limit")));
  EXPECT_THAT(Render("{{ [1, 2] * 1000000000000 }}"),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
}

TEST(LimitsTest, ValueNestingIsBounded) {
  EXPECT_THAT(Render("{% set ns = namespace(l=[]) %}{% for i in range(300) %}"
                     "{% set ns.l = [ns.l] %}{% endfor %}"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("value nested deeper")));
}

TEST(LimitsTest, PrintingSharedStructuresIsBounded) {
  EXPECT_THAT(Render("{% set ns = namespace(l=[1]) %}{% for i in range(60) %}"
                     "{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}"),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  EXPECT_THAT(Render("{% set ns = namespace(l=[1]) %}{% for i in range(60) %}"
                     "{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l | tojson }}"),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
}

TEST(LimitsTest, ComparingSharedStructuresIsBounded) {
  EXPECT_THAT(Render("{% set ns = namespace(a=[1], b=[1]) %}{% for i in range(60) %}"
                     "{% set ns.a = [ns.a, ns.a] %}{% set ns.b = [ns.b, ns.b] %}{% endfor %}"
                     "{{ ns.a == ns.b }}"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("work limit")));
}

TEST(LimitsTest, SelfReferencingNamespacesCannotPrintForever) {
  EXPECT_THAT(Render("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns }}"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("nested too deeply")));
}

TEST(LimitsTest, NamespaceCountIsBounded) {
  Limits limits;
  limits.max_namespaces = 100;
  EXPECT_THAT(Render("{% for i in range(200) %}{% set x = namespace() %}{% endfor %}", limits),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("namespaces")));
}

TEST(LimitsTest, RangeIsBoundedLikeTheSandbox) {
  EXPECT_THAT(Render("{{ range(1000000) | length }}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Range too big")));
}

TEST(LimitsTest, InvalidLimitsAreRejected) {
  Limits limits;
  limits.max_steps = 0;
  EXPECT_THAT(Render("x", limits), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

}  // namespace
}  // namespace shoal::model::jinja
