// The Prometheus scrape of `shoal bench`: the text format as Shoal writes it (two real
// scrapes of `shoal serve`, before and after a batch of 4 requests sharing a long
// prefix, under tests/bench/data/) and its edge cases, the delta between two scrapes
// (absent metrics stay absent), and FetchMetrics against a local HTTP server: a body, a
// 404, another status, a server that never answers, a port nobody listens on.
#include "bench/load/metrics_scrape.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "router/http_server.h"
#include "tests/bench/fake_sse_server.h"
#include "tests/support/status_matchers.h"

namespace shoal::bench {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::DoubleEq;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(SHOAL_SOURCE_DIR) + "/tests/bench/data/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ParsePrometheusTextTest, ReadsShoalsScrape) {
  const MetricsSnapshot m = ParsePrometheusText(ReadData("shoal_metrics_after.txt"));
  ASSERT_FALSE(m.empty()) << "test data missing";
  EXPECT_EQ(m.at("vllm:prefix_cache_queries_total{model_name=\"qwen3-q8_0\"}"), 285);
  EXPECT_EQ(m.at("vllm:prefix_cache_hits_total{model_name=\"qwen3-q8_0\"}"), 144);
  EXPECT_EQ(m.at("shoal_router_inflight_requests"), 0);  // no labels
  EXPECT_EQ(
      m.at("vllm:request_success_total{finished_reason=\"length\",model_name=\"qwen3-q8_0\"}"), 8);
  // Labels sorted by name in the key (le before model_name), +Inf as written.
  EXPECT_EQ(m.at("vllm:request_queue_time_seconds_bucket{le=\"+Inf\",model_name=\"qwen3-q8_0\"}"),
            8);
  EXPECT_EQ(m.at("vllm:request_queue_time_seconds_bucket{le=\"0.001\",model_name=\"qwen3-q8_0\"}"),
            7);
  EXPECT_DOUBLE_EQ(m.at("vllm:request_queue_time_seconds_sum{model_name=\"qwen3-q8_0\"}"),
                   0.00706265299999842);
  EXPECT_EQ(m.at("shoal_router_requests_total{code=\"404\",model=\"\",protocol=\"http\","
                 "route=\"other\"}"),
            1);
}

TEST(ParsePrometheusTextTest, HandlesTheFormatsEdgeCases) {
  const MetricsSnapshot m = ParsePrometheusText(
      "# HELP a_total A counter with \"quotes\" and \\ in its help.\r\n"
      "# TYPE a_total counter\r\n"
      "a_total 3\r\n"
      "\n"
      "   \t\n"
      "# some other comment\n"
      "b{z=\"1\",a=\"2\"} 1.5e3\n"                              // labels out of order
      "c{path=\"C:\\\\dir\",msg=\"say \\\"hi\\\"\\nbye\"} 7\n"  // escapes
      "d{x=\"has } and , inside\",} -2\n"                       // a trailing comma
      "e { y = \"spaced\" , }  4 1712345678901\n"               // blanks, a timestamp
      "f{} 5 -17\n"                                             // empty braces, negative timestamp
      "g_pos +Inf\n"
      "g_neg -Inf\n"
      "g_nan NaN\n"
      "ns:colon_name 0.25\n"
      "h 1\n"
      "h 2\n"  // a repeated series: the last wins
      "# EOF\n"
      "last_line_without_newline 9");
  EXPECT_EQ(m.at("a_total"), 3);
  EXPECT_EQ(m.at("b{a=\"2\",z=\"1\"}"), 1500);
  EXPECT_EQ(m.at("c{msg=\"say \\\"hi\\\"\\nbye\",path=\"C:\\\\dir\"}"), 7);
  EXPECT_EQ(m.at("d{x=\"has } and , inside\"}"), -2);
  EXPECT_EQ(m.at("e{y=\"spaced\"}"), 4);
  EXPECT_EQ(m.at("f"), 5);
  EXPECT_EQ(m.at("g_pos"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(m.at("g_neg"), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(m.at("g_nan")));
  EXPECT_EQ(m.at("ns:colon_name"), 0.25);
  EXPECT_EQ(m.at("h"), 2);
  EXPECT_EQ(m.at("last_line_without_newline"), 9);
  EXPECT_EQ(m.size(), 12u);
}

TEST(ParsePrometheusTextTest, SkipsLinesThatDoNotParse) {
  const MetricsSnapshot m = ParsePrometheusText(
      "no_value\n"
      "bad_value abc\n"
      "unterminated{a=\"x} 1\n"
      "no_equals{a\"x\"} 1\n"
      "junk_after 1 2 3\n"
      "{no_name=\"x\"} 1\n"
      "1starts_with_digit 1\n"
      "good 1\n");
  EXPECT_THAT(m, ElementsAre(Pair("good", 1)));
}

TEST(CompareTest, ShoalsScrapesBeforeAndAfterARun) {
  const MetricsDelta d = Compare(ParsePrometheusText(ReadData("shoal_metrics_before.txt")),
                                 ParsePrometheusText(ReadData("shoal_metrics_after.txt")));
  EXPECT_EQ(d.prefix_cache_queries, 285 - 49);
  EXPECT_EQ(d.prefix_cache_hits, 144);
  ASSERT_TRUE(d.prefix_cache_hit_rate.has_value());
  EXPECT_DOUBLE_EQ(*d.prefix_cache_hit_rate, 144.0 / 236.0);
  EXPECT_EQ(d.preemptions, 0);
  EXPECT_EQ(d.prompt_tokens, 285 - 49);
  EXPECT_EQ(d.generation_tokens, 51 - 27);
  ASSERT_TRUE(d.queue_time.has_value());
  EXPECT_EQ(d.queue_time->count, 4);
  EXPECT_THAT(d.queue_time->mean, ::testing::Optional(DoubleNear(
                                      (0.00706265299999842 - 0.006302325999998359) / 4, 1e-15)));
  ASSERT_TRUE(d.prefill_time.has_value() && d.decode_time.has_value());
  EXPECT_THAT(d.prefill_time->mean, ::testing::Optional(DoubleNear(
                                        (0.01554851000000212 - 0.007697473000000343) / 4, 1e-15)));
  EXPECT_THAT(d.decode_time->mean, ::testing::Optional(DoubleNear(
                                       (0.02933603499999915 - 0.01697949099999985) / 4, 1e-15)));
  ASSERT_TRUE(d.finished_by_reason.has_value());
  EXPECT_THAT(*d.finished_by_reason,
              ElementsAre(Pair("abort", 0), Pair("error", 0), Pair("length", 4), Pair("stop", 0)));
  // The router counted the 4 completions; the first scrape (route /metrics, a series
  // that appeared between the scrapes) is left out as not an API request; the old 404
  // did not change.
  EXPECT_EQ(d.router_requests, 4);
  ASSERT_TRUE(d.router_requests_by_code.has_value());
  EXPECT_THAT(*d.router_requests_by_code, ElementsAre(Pair("200", 4), Pair("404", 0)));
  EXPECT_FALSE(d.counter_reset);
}

TEST(CompareTest, MetricsAServerDoesNotExportAreAbsentNotZero) {
  // llama-server's names (with --metrics).
  const MetricsSnapshot before = ParsePrometheusText(
      "llamacpp:prompt_tokens_total 100\nllamacpp:tokens_predicted_total 40\n"
      "llamacpp:requests_processing 0\n");
  const MetricsSnapshot after = ParsePrometheusText(
      "llamacpp:prompt_tokens_total 350\nllamacpp:tokens_predicted_total 140\n"
      "llamacpp:requests_processing 1\n");
  const MetricsDelta d = Compare(before, after);
  EXPECT_EQ(d.prompt_tokens, 250);
  EXPECT_EQ(d.generation_tokens, 100);
  EXPECT_FALSE(d.prefix_cache_queries.has_value());
  EXPECT_FALSE(d.prefix_cache_hits.has_value());
  EXPECT_FALSE(d.prefix_cache_hit_rate.has_value());
  EXPECT_FALSE(d.preemptions.has_value());
  EXPECT_FALSE(d.queue_time.has_value());
  EXPECT_FALSE(d.finished_by_reason.has_value());
  EXPECT_FALSE(d.router_requests.has_value());
  const nlohmann::ordered_json json = ToJson(d);
  EXPECT_TRUE(json["prefix_cache_hit_rate"].is_null());
  EXPECT_TRUE(json["queue_time_s"].is_null());
  EXPECT_TRUE(json["router_requests_by_code"].is_null());
  EXPECT_EQ(json["prompt_tokens"].dump(), "250");  // counts as integers
  const std::string table = FormatMetricsTable(d);
  EXPECT_THAT(table, HasSubstr("Preemptions:"));
  EXPECT_THAT(table, HasSubstr("250 / 100"));
}

TEST(CompareTest, SumsOverLabelSetsAndCountsFromZeroAfterAReset) {
  const MetricsSnapshot before = ParsePrometheusText(
      "vllm:num_preemptions_total{model_name=\"a\"} 5\n"
      "vllm:num_preemptions_total{model_name=\"b\"} 10\n"
      "vllm:prefix_cache_queries_total{model_name=\"a\"} 10\n"
      "vllm:prefix_cache_hits_total{model_name=\"a\"} 4\n");
  const MetricsSnapshot after = ParsePrometheusText(
      "vllm:num_preemptions_total{model_name=\"a\"} 8\n"
      "vllm:num_preemptions_total{model_name=\"b\"} 2\n"  // b restarted
      "vllm:prefix_cache_queries_total{model_name=\"a\"} 10\n"
      "vllm:prefix_cache_hits_total{model_name=\"a\"} 4\n"
      "vllm:request_queue_time_seconds_sum 1.5\nvllm:request_queue_time_seconds_count 3\n");
  const MetricsDelta d = Compare(before, after);
  EXPECT_EQ(d.preemptions, 3 + 2);
  EXPECT_TRUE(d.counter_reset);
  // No lookups during the run: counts of zero, no rate.
  EXPECT_EQ(d.prefix_cache_queries, 0);
  EXPECT_FALSE(d.prefix_cache_hit_rate.has_value());
  // Only in the second scrape: counted from zero.
  ASSERT_TRUE(d.queue_time.has_value());
  EXPECT_THAT(d.queue_time->mean, ::testing::Optional(DoubleEq(0.5)));
}

TEST(CompareTest, AHistogramWithNoNewObservationsHasNoMean) {
  const MetricsSnapshot scrape = ParsePrometheusText(
      "vllm:request_queue_time_seconds_sum 1.5\nvllm:request_queue_time_seconds_count 3\n");
  const MetricsDelta d = Compare(scrape, scrape);
  ASSERT_TRUE(d.queue_time.has_value());
  EXPECT_EQ(d.queue_time->count, 0);
  EXPECT_FALSE(d.queue_time->mean.has_value());
  const nlohmann::ordered_json json = ToJson(d);
  EXPECT_EQ(json["queue_time_s"].dump(), R"({"count":0,"mean":null})");
  EXPECT_THAT(FormatMetricsTable(d), HasSubstr("no observations"));
}

TEST(CompareTest, JsonFieldsInTheDocumentedOrder) {
  const nlohmann::ordered_json json = ToJson(MetricsDelta{});
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  EXPECT_THAT(
      keys, ElementsAre("prefix_cache_queries", "prefix_cache_hits", "prefix_cache_hit_rate",
                        "preemptions", "prompt_tokens", "generation_tokens", "queue_time_s",
                        "prefill_time_s", "decode_time_s", "finished_by_reason", "router_requests",
                        "router_requests_by_code", "counter_reset"));
}

class FetchMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = router::HttpServer::Start(
        {},
        [](const router::HttpRequest& request) {
          router::HandlerResult result;
          if (request.path == "/metrics") {
            result.response = {.status = 200,
                               .content_type = "text/plain; version=0.0.4",
                               .body = "# TYPE x_total counter\nx_total 42\n"};
          } else if (request.path == "/broken") {
            result.response = {.status = 500, .body = "{}"};
          } else {
            result.response = {.status = 404, .body = "{}"};
          }
          return result;
        },
        [](const router::ExchangeRecord&) {});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::unique_ptr<router::HttpServer> server_;
};

TEST_F(FetchMetricsTest, ReturnsTheBodyOf200) {
  auto body = FetchMetrics("127.0.0.1", server_->port());
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "# TYPE x_total counter\nx_total 42\n");
  EXPECT_EQ(ParsePrometheusText(*body).at("x_total"), 42);
  EXPECT_TRUE(FetchMetrics("localhost", server_->port(), "/metrics").ok());
}

TEST_F(FetchMetricsTest, A404IsNotFoundAndOtherStatusesUnavailable) {
  EXPECT_THAT(FetchMetrics("127.0.0.1", server_->port(), "/nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("HTTP 404")));
  EXPECT_THAT(FetchMetrics("127.0.0.1", server_->port(), "/broken"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 500")));
}

TEST(FetchMetricsTimeoutTest, AServerThatNeverAnswersTimesOut) {
  // Reads the request, then holds the connection open without a byte of response.
  fake::FakeSseServer silent([](const fake::ReceivedRequest&) {
    return fake::Script{.after = fake::Script::After::kHold};
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(FetchMetrics("127.0.0.1", silent.port(), "/metrics", absl::Milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("no response in time")));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(seconds, 0.19);
  EXPECT_LT(seconds, 2.0);
  EXPECT_EQ(silent.requests().size(), 1u);
}

TEST(FetchMetricsTimeoutTest, NobodyListeningIsUnavailable) {
  int port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }  // closed: connections to it are refused
  EXPECT_THAT(FetchMetrics("127.0.0.1", port, "/metrics", absl::Seconds(2)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connect")));
}

TEST(FetchMetricsTimeoutTest, BadArgumentsAreRefused) {
  EXPECT_THAT(FetchMetrics("127.0.0.1", 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port")));
  EXPECT_THAT(FetchMetrics("127.0.0.1", 80, "metrics"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("path")));
  EXPECT_THAT(FetchMetrics("127.0.0.1", 80, "/metrics", absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timeout")));
}

}  // namespace
}  // namespace shoal::bench
