#include "model/jinja/value_format.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/status_matchers.h"

namespace shoal::model::jinja {
namespace {

using ::shoal::testing::StatusIs;

std::string Repr(const Value& v) {
  std::string out;
  EXPECT_OK(AppendRepr(v, {}, &out));
  return out;
}

std::string Json(const Value& v, JsonOptions options = {}) {
  std::string out;
  EXPECT_OK(AppendJson(v, options, {}, &out));
  return out;
}

Value FromJson(const char* text) {
  absl::StatusOr<Value> v = Value::FromJson(nlohmann::ordered_json::parse(text));
  EXPECT_OK(v);
  return v.ok() ? *v : Value();
}

TEST(FormatFloatTest, MatchesPythonRepr) {
  EXPECT_EQ(FormatFloat(1.0), "1.0");
  EXPECT_EQ(FormatFloat(-0.0), "-0.0");
  EXPECT_EQ(FormatFloat(0.1), "0.1");
  EXPECT_EQ(FormatFloat(1e-4), "0.0001");
  EXPECT_EQ(FormatFloat(1e-5), "1e-05");
  EXPECT_EQ(FormatFloat(1.5e-7), "1.5e-07");
  EXPECT_EQ(FormatFloat(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(FormatFloat(1e15), "1000000000000000.0");
  EXPECT_EQ(FormatFloat(1e16), "1e+16");
  EXPECT_EQ(FormatFloat(2.5e100), "2.5e+100");
  EXPECT_EQ(FormatFloat(0.30000000000000004), "0.30000000000000004");
  EXPECT_EQ(FormatFloat(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatFloat(std::nan("")), "nan");
}

TEST(ReprTest, QuotesStringsLikePython) {
  EXPECT_EQ(Repr(Value::String("plain")), "'plain'");
  EXPECT_EQ(Repr(Value::String("it's")), "\"it's\"");
  EXPECT_EQ(Repr(Value::String("both ' and \"")), "'both \\' and \"'");
  EXPECT_EQ(Repr(Value::String("a\nb\t\\\x01\x7f")), "'a\\nb\\t\\\\\\x01\\x7f'");
  EXPECT_EQ(Repr(Value::String("é 世界 🚀")), "'é 世界 🚀'");
  // Non-printable code points: NBSP, line separator, zero-width space.
  EXPECT_EQ(Repr(Value::String("\u00a0\u2028\u200b")), "'\\xa0\\u2028\\u200b'");
}

TEST(ReprTest, PrintsContainers) {
  EXPECT_EQ(Repr(FromJson(R"({"a": [1, 2.5, null, true, "x"], "b": {}})")),
            "{'a': [1, 2.5, None, True, 'x'], 'b': {}}");
  EXPECT_EQ(Repr(Value::List({Value::Int(1)}, /*is_tuple=*/true)), "(1,)");
  EXPECT_EQ(Repr(Value::List({}, /*is_tuple=*/true)), "()");
}

TEST(JsonTest, MatchesJsonDumpsDefaults) {
  EXPECT_EQ(Json(FromJson(R"({"b": "é\"\\\n\u0001<>&", "a": [1, 2.0, null, false]})")),
            R"({"b": "é\"\\\n\u0001<>&", "a": [1, 2.0, null, false]})");
  EXPECT_EQ(Json(Value::Float(1e20)), "1e+20");
  EXPECT_EQ(Json(Value::Float(std::nan(""))), "NaN");
}

TEST(JsonTest, IndentsAndSortsLikePython) {
  JsonOptions options;
  options.has_indent = true;
  options.indent = "  ";
  options.item_separator = ",";
  EXPECT_EQ(Json(FromJson(R"({"a": [1, {}], "b": []})"), options),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}");
  JsonOptions sorted;
  sorted.sort_keys = true;
  sorted.ensure_ascii = true;
  EXPECT_EQ(Json(FromJson(R"({"b": "é🚀", "a": 1})"), sorted),
            R"({"a": 1, "b": "\u00e9\ud83d\ude80"})");
}

TEST(JsonTest, RejectsValuesJsonCannotHold) {
  std::string out;
  EXPECT_THAT(AppendJson(Value::Undefined(), {}, {}, &out),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Object of type Undefined is not JSON serializable"));
}

TEST(FormatLimitsTest, StopsAtTheSizeLimit) {
  Value v = Value::String(std::string(100, 'x'));
  for (int i = 0; i < 40; ++i) v = Value::List({v, v});  // 2^40 strings when printed
  std::string out;
  EXPECT_THAT(AppendRepr(v, {.max_depth = 200, .max_bytes = 1 << 20}, &out),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::HasSubstr("limit")));
}

TEST(ValueTest, FromJsonRejectsDeepNesting) {
  std::string deep(300, '[');
  deep += std::string(300, ']');
  EXPECT_THAT(
      Value::FromJson(nlohmann::ordered_json::parse(deep), 200),
      StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("nested too deeply")));
}

TEST(ValueTest, EqualityFollowsPython) {
  WorkBudget budget(1000);
  EXPECT_TRUE(*Equals(Value::Int(1), Value::Float(1.0), &budget));
  EXPECT_TRUE(*Equals(Value::Bool(true), Value::Int(1), &budget));
  EXPECT_FALSE(*Equals(Value::List({}, true), Value::List({}), &budget));
  EXPECT_TRUE(*Equals(FromJson(R"({"a": 1, "b": 2})"), FromJson(R"({"b": 2, "a": 1})"), &budget));
  EXPECT_FALSE(*Equals(Value::Float(std::nan("")), Value::Float(std::nan("")), &budget));
}

}  // namespace
}  // namespace shoal::model::jinja
