#include "bench/load/stats.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::bench {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;

// The expected numbers below are numpy's (np.mean, np.percentile with its default linear
// method), computed with numpy 2.4 and pasted; the times are binary fractions so the
// records' own arithmetic is exact.
constexpr double kTol = 1e-12;

void ExpectDistribution(const Distribution& d, int64_t count, double mean, double p50, double p90,
                        double p95, double p99, double max) {
  EXPECT_EQ(d.count, count);
  EXPECT_NEAR(d.mean, mean, kTol);
  EXPECT_NEAR(d.p50, p50, kTol);
  EXPECT_NEAR(d.p90, p90, kTol);
  EXPECT_NEAR(d.p95, p95, kTol);
  EXPECT_NEAR(d.p99, p99, kTol);
  EXPECT_NEAR(d.max, max, kTol);
}

RequestRecord Ok(std::string tenant, double start, std::vector<double> token_times,
                 int64_t prompt_tokens, int64_t cached_prompt_tokens = 0) {
  RequestRecord record;
  record.tenant = std::move(tenant);
  record.start = start;
  record.first_token = token_times.front();
  record.end = token_times.back();
  record.output_tokens = static_cast<int64_t>(token_times.size());
  record.token_times = std::move(token_times);
  record.prompt_tokens = prompt_tokens;
  record.cached_prompt_tokens = cached_prompt_tokens;
  return record;
}

RequestRecord Failed(std::string tenant, Outcome outcome, int code, double start, double end) {
  RequestRecord record;
  record.tenant = std::move(tenant);
  record.outcome = outcome;
  record.code = code;
  record.start = start;
  record.end = end;
  // What a failure had received before it failed counts for nothing.
  record.prompt_tokens = 50;
  record.output_tokens = 2;
  record.first_token = start + 0.5;
  record.token_times = {start + 0.5, start + 0.75};
  return record;
}

// Four completed requests (ttft 0.5, 0.25, 0.5, 2; tpot 1/6, 0.375, none, 0.5; e2e 1,
// 1, 0.5, 2.5) and five failures, over 0 s .. 4 s.
std::vector<RequestRecord> Records() {
  return {
      Ok("a", 0.0, {0.5, 0.625, 0.875, 1.0}, 10),  // itl .125 .25 .125
      Ok("b", 0.25, {0.5, 0.75, 1.25}, 20, 16),    // itl .25 .5
      Ok("a", 1.0, {1.5}, 5),                      // one token: no tpot, no itl
      Ok("b", 1.0, {3.0, 3.5}, 7),                 // itl .5
      Failed("a", Outcome::kHttpError, 429, 1.0, 1.125),
      Failed("b", Outcome::kTimeout, 0, 2.0, 4.0),  // the last end
      Failed("a", Outcome::kGrpcError, 14, 0.5, 0.5),
      Failed("", Outcome::kDisconnect, 0, 3.0, 3.25),
      Failed("b", Outcome::kHttpError, 429, 3.5, 3.75),
  };
}

TEST(DistributeTest, InterpolatesPercentilesLikeNumpy) {
  // np.percentile([10, 1, 7, 3], [50, 90, 95, 99]); nearest-rank would give 3/7, 10, 10, 10.
  ExpectDistribution(Distribute({10, 1, 7, 3}), 4, 5.25, 5.0, 9.100000000000001, 9.549999999999999,
                     9.91, 10);
}

TEST(DistributeTest, OneToHundred) {
  std::vector<double> values;
  for (int i = 100; i >= 1; --i) values.push_back(i);
  ExpectDistribution(Distribute(values), 100, 50.5, 50.5, 90.10000000000001, 95.05, 99.01, 100);
}

TEST(DistributeTest, OneValueIsEveryPercentile) {
  ExpectDistribution(Distribute({2.5}), 1, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5);
}

TEST(DistributeTest, NoValuesIsAllZero) { ExpectDistribution(Distribute({}), 0, 0, 0, 0, 0, 0, 0); }

TEST(SummarizeTest, CountsThroughputAndTokensOfCompletedRequests) {
  const Summary s = Summarize(Records(), Slo{});
  EXPECT_EQ(s.requests, 9);
  EXPECT_EQ(s.completed, 4);
  EXPECT_EQ(s.failed, 5);
  EXPECT_DOUBLE_EQ(s.duration, 4.0);  // first start 0 to last end 4
  EXPECT_EQ(s.prompt_tokens, 42);
  EXPECT_EQ(s.output_tokens, 10);
  EXPECT_EQ(s.cached_prompt_tokens, 16);
  EXPECT_DOUBLE_EQ(s.requests_per_s, 1.0);
  EXPECT_DOUBLE_EQ(s.output_tokens_per_s, 2.5);
  EXPECT_DOUBLE_EQ(s.total_tokens_per_s, 13.0);
  EXPECT_EQ(s.good, 4);  // no SLO: every completed request is good
  EXPECT_DOUBLE_EQ(s.goodput, 1.0);
}

TEST(SummarizeTest, GivenDurationOverridesTheRecords) {
  const Summary s = Summarize(Records(), Slo{}, /*duration=*/8.0);
  EXPECT_DOUBLE_EQ(s.duration, 8.0);
  EXPECT_DOUBLE_EQ(s.requests_per_s, 0.5);
  EXPECT_DOUBLE_EQ(s.output_tokens_per_s, 1.25);
  EXPECT_DOUBLE_EQ(s.total_tokens_per_s, 6.5);
  EXPECT_DOUBLE_EQ(s.tenants.at("a").requests_per_s, 0.25);
}

TEST(SummarizeTest, LatencyDistributionsOfCompletedRequests) {
  const Summary s = Summarize(Records(), Slo{});
  ExpectDistribution(s.ttft, 4, 0.8125, 0.5, 1.5500000000000003, 1.7749999999999995,
                     1.9549999999999996, 2.0);
  // The one-token request has no TPOT (vLLM leaves it out): three values, not four.
  ExpectDistribution(s.tpot, 3, 0.34722222222222215, 0.375, 0.475, 0.4875, 0.4975, 0.5);
  // Every gap of every completed stream, pooled: .125 .25 .125 .25 .5 .5.
  ExpectDistribution(s.itl, 6, 0.2916666666666667, 0.25, 0.5, 0.5, 0.5, 0.5);
  ExpectDistribution(s.e2e, 4, 1.25, 1.0, 2.0500000000000003, 2.2749999999999995,
                     2.4549999999999996, 2.5);
}

TEST(SummarizeTest, ErrorsByKind) {
  const Summary s = Summarize(Records(), Slo{});
  EXPECT_THAT(s.errors, ElementsAre(Pair("disconnect", 1), Pair("grpc 14", 1), Pair("http 429", 2),
                                    Pair("timeout", 1)));
}

TEST(SummarizeTest, GoodputCountsRequestsWithinEveryBound) {
  // ttft <= 1 s misses the 2 s one; tpot <= 0.4 s passes 1/6, 0.375 and the one-token one.
  Summary s = Summarize(Records(), Slo{.ttft = 1, .tpot = 0.4});
  EXPECT_EQ(s.good, 3);
  EXPECT_DOUBLE_EQ(s.goodput, 0.75);
  // A tighter TPOT bound also drops the 0.375 s one.
  EXPECT_EQ(Summarize(Records(), Slo{.ttft = 1, .tpot = 0.25}).good, 2);
  // Only the 0.5 s request ends within 0.75 s.
  EXPECT_EQ(Summarize(Records(), Slo{.e2e = 0.75}).good, 1);
}

TEST(SummarizeTest, SloBoundsAreInclusive) {
  // Two TTFTs and one TPOT sit exactly on these bounds; strict bounds would count 0.
  EXPECT_EQ(Summarize(Records(), Slo{.ttft = 0.5, .tpot = 0.375}).good, 3);
  // Two E2E latencies are exactly 1 s.
  EXPECT_EQ(Summarize(Records(), Slo{.e2e = 1}).good, 3);
}

TEST(SummarizeTest, OneTokenRequestMeetsAnyTpotBound) {
  // As vLLM counts goodput, a one-token request's TPOT is 0.
  EXPECT_EQ(Summarize(Records(), Slo{.tpot = 0.1}).good, 1);
}

TEST(SummarizeTest, RequestWithoutTokensMeetsNoTtftBound) {
  RequestRecord empty;
  empty.start = 0;
  empty.end = 0.25;
  const Summary s = Summarize({empty}, Slo{.ttft = 10});
  EXPECT_EQ(s.completed, 1);
  EXPECT_EQ(s.ttft.count, 0);
  EXPECT_EQ(s.e2e.count, 1);
  EXPECT_EQ(s.good, 0);
  EXPECT_EQ(Summarize({empty}, Slo{.e2e = 10}).good, 1);
}

TEST(SummarizeTest, PerTenantOverTheWholeRunsDuration) {
  const Summary s = Summarize(Records(), Slo{.ttft = 1});
  ASSERT_EQ(s.tenants.size(), 3u);
  const Summary& a = s.tenants.at("a");
  EXPECT_EQ(a.requests, 4);
  EXPECT_EQ(a.completed, 2);
  EXPECT_THAT(a.errors, ElementsAre(Pair("grpc 14", 1), Pair("http 429", 1)));
  EXPECT_DOUBLE_EQ(a.duration, 4.0);
  EXPECT_EQ(a.prompt_tokens, 15);
  EXPECT_EQ(a.output_tokens, 5);
  EXPECT_DOUBLE_EQ(a.requests_per_s, 0.5);
  EXPECT_EQ(a.good, 2);
  EXPECT_EQ(a.tpot.count, 1);
  EXPECT_EQ(a.itl.count, 3);
  EXPECT_THAT(a.tenants, IsEmpty());

  const Summary& b = s.tenants.at("b");
  EXPECT_EQ(b.completed, 2);
  EXPECT_EQ(b.cached_prompt_tokens, 16);
  EXPECT_EQ(b.good, 1);
  EXPECT_DOUBLE_EQ(b.goodput, 0.25);
  EXPECT_THAT(b.errors, ElementsAre(Pair("http 429", 1), Pair("timeout", 1)));
  ExpectDistribution(b.ttft, 2, 1.125, 1.125, 1.825, 1.9124999999999999, 1.9825, 2.0);
  ExpectDistribution(b.tpot, 2, 0.4375, 0.4375, 0.4875, 0.49375, 0.49875, 0.5);

  const Summary& none = s.tenants.at("");  // the record without a tenant
  EXPECT_EQ(none.requests, 1);
  EXPECT_EQ(none.completed, 0);
  EXPECT_THAT(none.errors, ElementsAre(Pair("disconnect", 1)));
  ExpectDistribution(none.ttft, 0, 0, 0, 0, 0, 0, 0);
}

TEST(SummarizeTest, NoTenantsWithoutTenantLabels) {
  std::vector<RequestRecord> records = Records();
  for (RequestRecord& record : records) record.tenant.clear();
  EXPECT_THAT(Summarize(records, Slo{}).tenants, IsEmpty());
}

TEST(SummarizeTest, PerTurnOfMultiTurnRecords) {
  // Two conversations of two turns: the cold first turns wait longer for their first token.
  std::vector<RequestRecord> records = {Ok("", 0, {2.0, 2.5}, 100), Ok("", 0, {3.0, 3.25}, 100),
                                        Ok("", 2.5, {2.75, 3.0}, 150),
                                        Ok("", 3.25, {3.5, 4.0}, 150)};
  records[0].turn = records[1].turn = 1;
  records[2].turn = records[3].turn = 2;
  const Summary s = Summarize(records, Slo{.ttft = 1});
  ASSERT_EQ(s.turns.size(), 2u);
  const Summary& first = s.turns.at(1);
  EXPECT_EQ(first.requests, 2);
  EXPECT_EQ(first.prompt_tokens, 200);
  ExpectDistribution(first.ttft, 2, 2.5, 2.5, 2.9, 2.95, 2.99, 3.0);
  EXPECT_EQ(first.good, 0);
  const Summary& second = s.turns.at(2);
  ExpectDistribution(second.ttft, 2, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25);
  EXPECT_EQ(second.good, 2);
  EXPECT_DOUBLE_EQ(second.duration, 4.0);  // the whole run's, as for tenants
  EXPECT_THAT(second.turns, IsEmpty());
  const nlohmann::ordered_json json = ToJson(s);
  EXPECT_EQ(json["turns"]["2"]["good"], 2);
  EXPECT_FALSE(json["turns"]["2"].contains("turns"));
  EXPECT_THAT(FormatTable(s, Slo{.ttft = 1}), HasSubstr("Per turn"));
}

TEST(SummarizeTest, NoTurnsWithoutTurnNumbers) {
  EXPECT_THAT(Summarize(Records(), Slo{}).turns, IsEmpty());
  EXPECT_TRUE(ToJson(Summarize(Records(), Slo{}))["turns"].empty());
}

TEST(SummarizeTest, NoRecordsIsAllZero) {
  const Summary s = Summarize({}, Slo{});
  EXPECT_EQ(s.requests, 0);
  EXPECT_EQ(s.duration, 0);
  EXPECT_EQ(s.requests_per_s, 0);
  EXPECT_EQ(s.goodput, 0);
  EXPECT_EQ(s.ttft.count, 0);
}

TEST(ParseSloTest, KeysWithSecondsOrSuffixes) {
  ASSERT_OK_AND_ASSIGN(Slo slo, ParseSlo("ttft=2,tpot=150ms,e2e=30s"));
  EXPECT_EQ(slo.ttft, 2.0);
  EXPECT_EQ(slo.tpot, 0.15);
  EXPECT_EQ(slo.e2e, 30.0);
  EXPECT_FALSE(slo.empty());
}

TEST(ParseSloTest, UnnamedBoundsStayOpen) {
  ASSERT_OK_AND_ASSIGN(Slo slo, ParseSlo(" tpot = 0.5 "));
  EXPECT_TRUE(std::isinf(slo.ttft));
  EXPECT_EQ(slo.tpot, 0.5);
  EXPECT_TRUE(std::isinf(slo.e2e));
}

TEST(ParseSloTest, EmptyHasNoBounds) {
  ASSERT_OK_AND_ASSIGN(Slo slo, ParseSlo(""));
  EXPECT_TRUE(slo.empty());
}

TEST(ParseSloTest, RefusesBadParts) {
  using absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(ParseSlo("ttfb=2"), StatusIs(kInvalidArgument, HasSubstr("ttfb")));
  EXPECT_THAT(ParseSlo("ttft=abc"), StatusIs(kInvalidArgument, HasSubstr("abc")));
  EXPECT_THAT(ParseSlo("ttft=2,tpot=5us"), StatusIs(kInvalidArgument, HasSubstr("5us")));
  EXPECT_THAT(ParseSlo("ttft=0"), StatusIs(kInvalidArgument, HasSubstr("ttft")));
  EXPECT_THAT(ParseSlo("e2e=-1s"), StatusIs(kInvalidArgument, HasSubstr("e2e")));
  EXPECT_THAT(ParseSlo("ttft=nan"), StatusIs(kInvalidArgument, HasSubstr("nan")));
  EXPECT_THAT(ParseSlo("ttft"), StatusIs(kInvalidArgument, HasSubstr("\"ttft\"")));
  EXPECT_THAT(ParseSlo("ttft=1,"), StatusIs(kInvalidArgument, HasSubstr("key=value")));
  EXPECT_THAT(ParseSlo("ttft=1,ttft=2"), StatusIs(kInvalidArgument, HasSubstr("twice")));
}

TEST(ToJsonTest, DocumentedFieldsInOrder) {
  const nlohmann::ordered_json json = ToJson(Summarize(Records(), Slo{.ttft = 1}));
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_THAT(
      keys, ElementsAre("requests", "completed", "failed", "errors", "duration_s", "prompt_tokens",
                        "output_tokens", "cached_prompt_tokens", "requests_per_s",
                        "output_tokens_per_s", "total_tokens_per_s", "ttft_s", "tpot_s", "itl_s",
                        "e2e_s", "good", "goodput_requests_per_s", "tenants", "turns"));
  EXPECT_EQ(json["requests"], 9);
  EXPECT_EQ(json["errors"]["http 429"], 2);
  EXPECT_EQ(json["duration_s"], 4.0);
  EXPECT_EQ(json["good"], 3);
  EXPECT_EQ(json["goodput_requests_per_s"], 0.75);
  std::vector<std::string> stats;
  for (const auto& item : json["tpot_s"].items()) stats.push_back(item.key());
  EXPECT_THAT(stats, ElementsAre("mean", "p50", "p90", "p95", "p99", "max", "count"));
  EXPECT_EQ(json["tpot_s"]["count"], 3);
  EXPECT_EQ(json["tpot_s"]["p50"], 0.375);
  EXPECT_EQ(json["tenants"]["b"]["cached_prompt_tokens"], 16);
  EXPECT_FALSE(json["tenants"]["b"].contains("tenants"));
  EXPECT_EQ(json["tenants"][""]["errors"]["disconnect"], 1);
  // What a reader gets back from the file parses to the same document.
  EXPECT_EQ(nlohmann::ordered_json::parse(json.dump()), json);
}

TEST(ToJsonTest, TenantsIsEmptyObjectWithoutTenants) {
  const nlohmann::ordered_json json = ToJson(Summarize({}, Slo{}));
  EXPECT_TRUE(json["tenants"].is_object());
  EXPECT_TRUE(json["tenants"].empty());
  EXPECT_TRUE(json["errors"].is_object());
}

TEST(FormatTableTest, ReportsInMilliseconds) {
  const Slo slo{.ttft = 1, .tpot = 0.15};
  const std::string table = FormatTable(Summarize(Records(), slo), slo);
  EXPECT_THAT(table, HasSubstr("Successful requests:                     4\n"));
  EXPECT_THAT(table, HasSubstr("  http 429:                              2\n"));
  EXPECT_THAT(table, HasSubstr("Benchmark duration (s):                  4.00\n"));
  EXPECT_THAT(table, HasSubstr("Mean TTFT (ms):                          812.50\n"));
  EXPECT_THAT(table, HasSubstr("Median TPOT (ms):                        375.00\n"));
  EXPECT_THAT(table, HasSubstr("P99 E2EL (ms):                           2455.00\n"));
  EXPECT_THAT(table, HasSubstr("SLO:                                     ttft <= 1000 ms, "
                               "tpot <= 150 ms\n"));
  EXPECT_THAT(table, HasSubstr("Request goodput (req/s):                 0.25\n"));
  EXPECT_THAT(table, HasSubstr("(none)"));  // the tenant table's row for unlabelled records
  for (size_t start = 0, end; start < table.size(); start = end + 1) {
    end = table.find('\n', start);
    EXPECT_LE(end - start, 100u) << table.substr(start, end - start);
  }
}

TEST(FormatTableTest, NoSloLineWithoutSlo) {
  const std::string table = FormatTable(Summarize(Records(), Slo{}), Slo{});
  EXPECT_THAT(table, Not(HasSubstr("SLO")));
  EXPECT_THAT(table, Not(HasSubstr("goodput")));
}

}  // namespace
}  // namespace shoal::bench
