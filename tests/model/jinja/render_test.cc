// Rendering behaviours of the interpreter, each against the output jinja2 produces under
// transformers' settings (checked with Python; the golden test covers many more).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/jinja/template.h"
#include "nlohmann/json.hpp"
#include "tests/support/status_matchers.h"

namespace shoal::model::jinja {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<std::string> Render(std::string_view source, const char* variables_json = "{}",
                                   RenderOptions options = {}) {
  absl::StatusOr<Template> parsed = Template::Parse(source);
  if (!parsed.ok()) return parsed.status();
  Variables variables;
  const nlohmann::ordered_json parsed_variables = nlohmann::ordered_json::parse(variables_json);
  for (const auto& [name, json] : parsed_variables.items()) {
    absl::StatusOr<Value> v = Value::FromJson(json);
    if (!v.ok()) return v.status();
    variables[name] = *v;
  }
  return parsed->Render(variables, options);
}

// Renders and expects success.
std::string R(std::string_view source, const char* variables_json = "{}") {
  absl::StatusOr<std::string> out = Render(source, variables_json);
  EXPECT_TRUE(out.ok()) << out.status() << "\n  in: " << source;
  return out.ok() ? *out : "<error>";
}

TEST(RenderTest, TrimAndLstripBlocksLikeTransformers) {
  EXPECT_EQ(R("a\n  {% if true %}\n  b\n  {% endif %}\nc"), "a\n  b\nc");
  EXPECT_EQ(R("{% for i in range(3) %}\n  {{ i }}\n{% endfor %}\n"), "  0\n  1\n  2\n");
  EXPECT_EQ(R("a  {%- if true -%}  b  {%- endif -%}  c"), "abc");
}

TEST(RenderTest, PrintsValuesAsPythonStrDoes) {
  EXPECT_EQ(R("{{ none }} {{ true }} {{ 1.0 }} {{ 1e-5 }} {{ 1e16 }} {{ 0.1 + 0.2 }}"),
            "None True 1.0 1e-05 1e+16 0.30000000000000004");
  EXPECT_EQ(R("{{ ['a', 1, none, {'k': \"it's\"}] }} {{ ('x',) }}"),
            "['a', 1, None, {'k': \"it's\"}] ('x',)");
}

TEST(RenderTest, ArithmeticFollowsPython) {
  EXPECT_EQ(
      R("{{ 7 // -2 }} {{ 7 % -2 }} {{ -7.5 % 2 }} {{ 7 / 2 }} {{ 2 ** 3 ** 2 }} {{ true + 1 }}"),
      "-4 -1 0.5 3.5 64 2");
  EXPECT_EQ(R("{{ 'ab' * 2 }} {{ [1] + [2] }} {{ 'a' ~ 1 ~ none }}"), "abab [1, 2] a1None");
}

TEST(RenderTest, AndOrReturnOperandsAndShortCircuit) {
  EXPECT_EQ(R("{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ false and undefined_call() }}"), "x b False");
}

TEST(RenderTest, ConditionalWithoutElseIsUndefined) {
  EXPECT_EQ(R("[{{ 'x' if false }}] {{ ('x' if false) is defined }}"), "[] False");
}

TEST(RenderTest, SlicesAndNegativeIndices) {
  EXPECT_EQ(R("{{ m[1:] }} {{ m[::-1] }} {{ m[-1] }} {{ 'héllo'[::-2] }}", R"({"m": [1, 2, 3]})"),
            "[2, 3] [3, 2, 1] 3 olh");
}

TEST(RenderTest, ForLoopVariables) {
  EXPECT_EQ(R("{% for x in 'abc' %}{{ loop.index }}{{ loop.revindex0 }}{{ loop.first }}"
              "{{ loop.last }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %}"),
            "12TrueFalseb;21FalseFalseac;30FalseTrueb;");
}

TEST(RenderTest, ForLoopFilterElseBreakContinue) {
  EXPECT_EQ(R("{% for x in range(10) if x is odd %}{% if x > 5 %}{% break %}{% endif %}"
              "{{ x }}/{{ loop.length }} {% endfor %}"),
            "1/5 3/5 5/5 ");
  EXPECT_EQ(R("{% for x in [] %}a{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(R("{% for x in range(4) %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}"),
            "023");
}

TEST(RenderTest, TupleUnpackingInLoops) {
  EXPECT_EQ(
      R("{% for k, v in d | items %}{{ k }}={{ v }} {% endfor %}", R"({"d": {"b": 1, "a": 2}})"),
      "b=1 a=2 ");
  EXPECT_EQ(
      R("{% for k, v in d | dictsort %}{{ k }}={{ v }} {% endfor %}", R"({"d": {"b": 1, "a": 2}})"),
      "a=2 b=1 ");
}

TEST(RenderTest, LoopBodyAssignmentsDoNotLeak) {
  EXPECT_EQ(
      R("{% set x = 0 %}{% for i in range(3) %}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}"),
      "1110");
}

TEST(RenderTest, NamespaceCarriesStateOutOfLoops) {
  EXPECT_EQ(R("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}"
              "{% endfor %}{{ ns.n }}"),
            "6");
  EXPECT_THAT(Render("{% set d = {} %}{% set d.x = 1 %}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cannot assign attribute on non-namespace object at 1:20")));
}

TEST(RenderTest, IfDoesNotCreateAScope) {
  EXPECT_EQ(R("{% if true %}{% set x = 'set' %}{% endif %}{{ x }}"), "set");
}

TEST(RenderTest, ScopesStartNamesTheyAssignBeforeReadingAsUndefined) {
  // jinja2 binds `n` to the template scope at compile time, so the macro does not see the
  // variable passed in until the template assigns its own.
  EXPECT_EQ(
      R("{% macro m() %}[{{ n }}]{% endmacro %}{{ m() }}{% set n = 5 %}{{ m() }}", R"({"n": 3})"),
      "[][5]");
  // Read first at the same level, or assigned only in an if: the outer value is kept.
  EXPECT_EQ(R("{{ n }}{% set n = 5 %}{{ n }}", R"({"n": 3})"), "35");
  EXPECT_EQ(R("{% macro m() %}[{{ n }}]{% endmacro %}{% if x %}{% set n = 5 %}{% endif %}{{ m() }}",
              R"({"n": 3})"),
            "[3]");
}

TEST(RenderTest, ConstantExpressionsFoldLikeJinja2) {
  // A constant slice that fails is folded to Undefined at compile time by jinja2...
  EXPECT_EQ(R("[{{ 5[1:] }}]"), "[]");
  // ...but the same slice of a variable raises when rendered.
  EXPECT_THAT(Render("{{ x[1:] }}", R"({"x": 5})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not subscriptable at 1:6")));
}

TEST(RenderTest, FilterResultsBehaveLikeGenerators) {
  EXPECT_EQ(R("{{ 'true' if [] | select else 'false' }} {{ [3, 1] | map('string') | join }}"),
            "true 31");
  EXPECT_THAT(Render("{{ [] | select | length }}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no len()")));
  // Errors wait until the generator is iterated, as in Python.
  EXPECT_EQ(R("{{ 'unused' if 5 | select }}"), "unused");
  EXPECT_THAT(Render("{{ 5 | select | list }}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not iterable")));
}

TEST(RenderTest, DictViewsAndRangesPrintLikePython) {
  EXPECT_EQ(R("{{ d.keys() }} {{ d.items() }} {{ range(3) }} {{ range(10)[2:8:2] }}",
              R"({"d": {"a": 1}})"),
            "dict_keys(['a']) dict_items([('a', 1)]) range(0, 3) range(2, 8, 2)");
}

TEST(RenderTest, BlockSetAndFilterBlocks) {
  EXPECT_EQ(R("{% set x | upper %}hi {{ 1 }}{% endset %}{{ x }}"), "HI 1");
  EXPECT_EQ(R("{% filter trim %}  padded  {% endfilter %}!"), "padded!");
}

TEST(RenderTest, MacrosWithDefaultsKeywordsAndRecursion) {
  EXPECT_EQ(R("{% macro g(name, greeting='Hi') %}{{ greeting }} {{ name }}{% endmacro %}"
              "{{ g('a') }}|{{ g(greeting='Yo', name='b') }}"),
            "Hi a|Yo b");
  EXPECT_EQ(
      R("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}"),
      "321");
  EXPECT_EQ(R("{% macro m(a, b) %}{{ b is defined }}{% endmacro %}{{ m(1) }}"), "False");
  EXPECT_EQ(R("{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, k=2) }}"),
            "(1,){'k': 2}");
}

TEST(RenderTest, MacrosSeeTemplateVariablesAtCallTime) {
  EXPECT_EQ(
      R("{% macro m() %}{{ z }}{% endmacro %}{% set z = 1 %}{{ m() }}{% set z = 2 %}{{ m() }}"),
      "12");
}

TEST(RenderTest, MacroArgumentErrorsNameTheMacro) {
  EXPECT_THAT(Render("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("macro 'm' takes not more than 1 argument(s) at 1:35")));
  EXPECT_THAT(Render("{% macro m(a) %}{% endmacro %}{{ m(z=2) }}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("macro 'm' takes no keyword argument 'z'")));
}

TEST(RenderTest, UndefinedBehavesLikeJinja2Default) {
  EXPECT_EQ(R("[{{ u }}][{{ u | default('d') }}][{{ u | length }}][{{ u ~ 'x' }}][{{ 'a' in u }}]"
              "[{{ none.attr }}][{% for x in u %}never{% endfor %}]"),
            "[][d][0][x][False][][]");
  EXPECT_THAT(Render("{{ u.attr }}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'u' is undefined at 1:5")));
  EXPECT_THAT(Render("{{ u + 1 }}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'u' is undefined")));
}

TEST(RenderTest, AttributeLooksForMethodsBeforeKeys) {
  EXPECT_EQ(R("{{ d.items is callable }} {{ d['items'] }} {{ d.type }}",
              R"({"d": {"items": "schema", "type": "array"}})"),
            "True schema array");
}

TEST(RenderTest, StringAndDictMethods) {
  EXPECT_EQ(R("{{ s.split('</think>')[-1].lstrip('\\n') }}|{{ s.startswith('<think>') }}",
              R"({"s": "<think>r</think>\n\nanswer"})"),
            "answer|True");
  EXPECT_EQ(R("{{ d.get('a') }} {{ d.get('z', 0) }} {{ d.get('z') }}", R"({"d": {"a": 1}})"),
            "1 0 None");
}

TEST(RenderTest, FiltersFromChatTemplates) {
  EXPECT_EQ(
      R("{{ '  x  ' | trim }}|{{ ['a', 'b'] | map('upper') | join(', ') }}|"
        "{{ ['x', 'code_interpreter'] | reject('equalto', 'code_interpreter') | list }}|"
        "{{ 'ARRAY' | lower }}|{{ m | selectattr('role', 'equalto', 'user') | list | length }}",
        R"({"m": [{"role": "user"}, {"role": "assistant"}]})"),
      "x|A, B|['x']|array|1");
}

TEST(RenderTest, ToJsonMatchesTransformersOverride) {
  EXPECT_EQ(R("{{ d | tojson }}", R"({"d": {"b": "é<&>", "a": [1, 2.0, null, true]}})"),
            R"({"b": "é<&>", "a": [1, 2.0, null, true]})");
  EXPECT_EQ(R("{{ d | tojson(indent=2) }}", R"({"d": {"a": [1, {}], "b": []}})"),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}");
}

TEST(RenderTest, StrftimeNowUsesTheInjectedClock) {
  RenderOptions options;
  options.clock = [] { return std::chrono::system_clock::from_time_t(1721999109); };
  absl::StatusOr<std::string> out = Render(
      "{{ strftime_now('%d %b %Y') }} {{ strftime_now('%Y-%m-%d %H:%M:%S') }}", "{}", options);
  ASSERT_OK(out);
  EXPECT_EQ(*out, "26 Jul 2024 2024-07-26 13:05:09");
}

TEST(RenderTest, RaiseExceptionMessageIsReturnedUnchanged) {
  absl::StatusOr<std::string> out =
      Render("{% if true %}{{ raise_exception('Roles must alternate') }}{% endif %}");
  EXPECT_THAT(out, StatusIs(absl::StatusCode::kInvalidArgument, "Roles must alternate"));
}

TEST(RenderTest, UnsupportedFeaturesAreNamedErrors) {
  EXPECT_THAT(Render("x\n  {{ d | xmlattr }}"),
              StatusIs(absl::StatusCode::kUnimplemented, "unsupported filter 'xmlattr' at 2:10"));
  EXPECT_THAT(Render("{% include 'other.jinja' %}"),
              StatusIs(absl::StatusCode::kUnimplemented, "unsupported statement 'include' at 1:4"));
  EXPECT_THAT(Render("{{ 'a'.zfill(3) }}"), StatusIs(absl::StatusCode::kUnimplemented,
                                                     HasSubstr("unsupported method 'str.zfill'")));
  EXPECT_THAT(Render("{{ cycler('a') }}"),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("unsupported global function 'cycler'")));
  EXPECT_THAT(Render("{% for x in y recursive %}{% endfor %}"),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("recursive for loop")));
  EXPECT_THAT(Render("{{ '%s' % 1 }}"),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("printf-style")));
  EXPECT_THAT(Render("{{ 'a' is escaped }}"),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("unsupported test 'escaped'")));
}

TEST(RenderTest, UnknownFiltersAndTestsFailWhenUsed) {
  // jinja2 defers these errors to run time inside if blocks, so a guarded use renders.
  EXPECT_EQ(R("{% if 'nope' is filter %}{{ x | nope }}{% endif %}ok"), "ok");
  EXPECT_THAT(Render("{{ x | nope }}"),
              StatusIs(absl::StatusCode::kInvalidArgument, "no filter named 'nope' at 1:8"));
  EXPECT_THAT(Render("{{ x is nope }}"),
              StatusIs(absl::StatusCode::kInvalidArgument, "no test named 'nope' at 1:9"));
}

TEST(RenderTest, ParseErrorsNameTheProblem) {
  EXPECT_THAT(Template::Parse("{% frobnicate %}").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unexpected statement 'frobnicate' at 1:4")));
  EXPECT_THAT(Template::Parse("{% if x %}open").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected 'elif' or 'else' or 'endif'")));
}

TEST(RenderTest, IntegerOverflowIsAnErrorNotAWrongNumber) {
  EXPECT_THAT(Render("{{ 9223372036854775807 + 1 }}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not fit in 64 bits")));
}

TEST(RenderTest, OneTemplateRendersFromManyThreads) {
  absl::StatusOr<Template> parsed = Template::Parse(
      "{% set ns = namespace(s='') %}{% for m in messages %}{% set ns.s = ns.s ~ m %}{% endfor %}"
      "{{ ns.s }}");
  ASSERT_OK(parsed);
  std::vector<std::thread> threads;
  std::vector<std::string> results(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Variables variables;
        variables["messages"] = Value::List({Value::String(std::to_string(t)), Value::Int(i)});
        absl::StatusOr<std::string> out = parsed->Render(variables);
        results[t] = out.ok() ? *out : "error";
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(results[t], std::to_string(t) + "199");
}

}  // namespace
}  // namespace shoal::model::jinja
