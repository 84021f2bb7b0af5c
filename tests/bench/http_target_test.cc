// The HTTP target against a scripted server (fake_sse_server.h) that writes exact bytes
// at known times, plus the SSE parser and the stream reader on their own.
//
// Timing: the server sends each piece at a known delay after the request arrived; a
// token's arrival must come no earlier than that delay after Send, and at most
// kTolerance (20 ms) after the server began the write that carries it (both read on the
// steady clock), so a late wake-up of the fake server on a busy CI machine does not count
// against the target. Timer-driven ends (timeout, cancel) get kTimerSlack. Every test
// runs its io_context with a bound (Client::Run) and finishes in well under a second.
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/load/openai_stream.h"
#include "bench/load/sse_parser.h"
#include "bench/load/target.h"
#include "boost/asio/steady_timer.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/bench/fake_sse_server.h"
#include "tests/support/status_matchers.h"

namespace shoal::bench {
namespace {

using ::shoal::bench::fake::ChunkedSseHead;
using ::shoal::bench::fake::FakeSseServer;
using ::shoal::bench::fake::HttpChunk;
using ::shoal::bench::fake::kLastChunk;
using ::shoal::bench::fake::ReceivedRequest;
using ::shoal::bench::fake::Script;
using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr double kTolerance = 0.020;   // seconds
constexpr double kTimerSlack = 0.100;  // seconds
constexpr std::string_view kDone = "data: [DONE]\n\n";

// `finish` is a JSON literal: "null" or "\"length\"".
std::string CompletionChunk(const std::string& text, const std::string& finish = "null") {
  return R"({"id":"cmpl-1","object":"text_completion","choices":[{"index":0,"text":")" + text +
         R"(","logprobs":null,"finish_reason":)" + finish + "}]}";
}
std::string ChatChunk(const std::string& delta, const std::string& finish = "null") {
  return R"({"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":)" +
         delta + R"(,"finish_reason":)" + finish + "}]}";
}
std::string UsageChunk(int prompt, int completion, int cached) {
  return absl::StrCat(R"({"id":"cmpl-1","choices":[],"usage":{"prompt_tokens":)", prompt,
                      R"(,"completion_tokens":)", completion, R"(,"total_tokens":)",
                      prompt + completion, R"(,"prompt_tokens_details":{"cached_tokens":)", cached,
                      "}}}");
}
std::string Sse(std::string_view json) { return "data: " + std::string(json) + "\n\n"; }

// A chunked 200 stream: the head at once, each event in its own HTTP chunk at its time,
// then [DONE] and the body's end.
Script ChunkedEvents(const std::vector<std::pair<int, std::string>>& events, int done_at) {
  Script script;
  script.writes.push_back({0, ChunkedSseHead()});
  for (const auto& [at_ms, json] : events) script.writes.push_back({at_ms, HttpChunk(Sse(json))});
  script.writes.push_back({done_at, HttpChunk(kDone) + std::string(kLastChunk)});
  return script;
}

// Three tokens at 20, 40, 60 ms, usage, [DONE] at 70 ms.
Script ThreeTokens() {
  return ChunkedEvents({{20, CompletionChunk("a")},
                        {40, CompletionChunk("b")},
                        {60, CompletionChunk("c", "\"length\"")},
                        {65, UsageChunk(3, 3, 0)}},
                       70);
}

RequestSpec Spec(int64_t index = 0) {
  RequestSpec spec;
  spec.index = index;
  spec.prompt_token_ids = {1, 2, 3};
  spec.prompt_tokens = 3;
  spec.max_tokens = 4;
  return spec;
}

// The run's side: a target on an io_context that the test thread runs.
class Client {
 public:
  explicit Client(int port, Api api = Api::kCompletions,
                  absl::Duration timeout = absl::Seconds(5)) {
    origin_ = std::chrono::steady_clock::now();  // clock_'s origin, a moment later
    auto target = MakeHttpTarget(
        io_,
        {.port = port, .api = api, .model = "m", .request_timeout = timeout, .clock = &clock_});
    if (!target.ok()) {
      ADD_FAILURE() << target.status();
      std::abort();
    }
    target_ = *std::move(target);
  }

  void Send(const RequestSpec& spec) {
    target_->Send(spec, [this](RequestRecord record) { records_.push_back(std::move(record)); });
  }
  // Until every request's done ran (nothing else keeps the io_context busy), bounded.
  void Run() {
    io_.restart();
    io_.run_for(std::chrono::seconds(10));
  }

  // When the server began each write for its `request`-th request, on the run's clock.
  std::vector<double> WriteTimes(const FakeSseServer& server, size_t request) const {
    std::vector<double> times;
    for (const auto& time : server.write_times(request)) {
      times.push_back(std::chrono::duration<double>(time - origin_).count());
    }
    return times;
  }

  boost::asio::io_context& io() { return io_; }
  Target& target() { return *target_; }
  const std::vector<RequestRecord>& records() const { return records_; }

 private:
  boost::asio::io_context io_;
  RunClock clock_;
  std::chrono::steady_clock::time_point origin_;
  std::unique_ptr<Target> target_;
  std::vector<RequestRecord> records_;
};

// What the script sent: when (ms after the request arrived) and in which of its writes.
struct Sent {
  int at_ms;
  size_t write;
};

void ExpectArrival(double time, const RequestRecord& record, const std::vector<double>& writes,
                   const Sent& sent, const std::string& what) {
  ASSERT_LT(sent.write, writes.size()) << what;
  EXPECT_GE(time - record.start, sent.at_ms / 1000.0) << what;
  EXPECT_GE(time, writes[sent.write] - 0.001) << what;  // 1 ms: origin_ was read after clock_'s
  EXPECT_LE(time, writes[sent.write] + kTolerance) << what;
}

// The token arrivals (and so the TTFT) and the end ([DONE]).
void ExpectTimes(const RequestRecord& record, const std::vector<double>& writes,
                 const std::vector<Sent>& tokens, const Sent& end) {
  ASSERT_EQ(record.token_times.size(), tokens.size());
  for (size_t k = 0; k < tokens.size(); ++k) {
    ExpectArrival(record.token_times[k], record, writes, tokens[k], "token " + std::to_string(k));
  }
  if (!tokens.empty()) {
    EXPECT_EQ(record.first_token, record.token_times[0]);
  }
  ExpectArrival(record.end, record, writes, end, "end");
}

TEST(HttpTargetTest, TokenTimesFollowTheServersDelaysAndUsageGivesCounts) {
  FakeSseServer server([](const ReceivedRequest&) {
    return ChunkedEvents({{100, CompletionChunk("a")},
                          {150, CompletionChunk("b")},
                          {200, CompletionChunk("c")},
                          {250, CompletionChunk("d", "\"length\"")},
                          {260, UsageChunk(7, 4, 3)}},
                         270);
  });
  Client client(server.port());
  RequestSpec spec = Spec();
  spec.min_tokens = 2;
  spec.api_key = "sk-test";
  client.Send(spec);
  client.Run();

  ASSERT_EQ(client.records().size(), 1u);
  const RequestRecord& record = client.records()[0];
  EXPECT_EQ(record.outcome, Outcome::kOk) << record.error;
  ExpectTimes(record, client.WriteTimes(server, 0), {{100, 1}, {150, 2}, {200, 3}, {250, 4}},
              {270, 6});
  EXPECT_EQ(record.prompt_tokens, 7);
  EXPECT_EQ(record.output_tokens, 4);
  EXPECT_EQ(record.cached_prompt_tokens, 3);

  const std::vector<ReceivedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/v1/completions");
  EXPECT_EQ(requests[0].authorization, "Bearer sk-test");
  EXPECT_EQ(requests[0].body, Json::parse(R"({"model":"m","prompt":[1,2,3],"max_tokens":4,
      "n_predict":4,"temperature":0,"stream":true,"stream_options":{"include_usage":true},
      "ignore_eos":true,"min_tokens":2})"));
}

TEST(HttpTargetTest, SseFramingEdgeCasesAreReadAsTheSdkReadsThem) {
  const std::string first = Sse(CompletionChunk("a"));
  const size_t half = first.size() / 2;
  const std::string third = CompletionChunk("c");
  Script script;
  // A keep-alive comment, then an event whose line is split across two TCP writes: it
  // arrives with the second.
  script.writes.push_back(
      {0, ChunkedSseHead() + HttpChunk(": keep-alive\n\n" + first.substr(0, half))});
  script.writes.push_back({80, HttpChunk(first.substr(half))});
  // `data:` without its space, CRLF line ends.
  script.writes.push_back({120, HttpChunk("data:" + CompletionChunk("b") + "\r\n\r\n")});
  // HTTP chunk boundaries inside a line, a comment between lines.
  script.writes.push_back({160, HttpChunk("data: " + third.substr(0, 10)) +
                                    HttpChunk(third.substr(10) + "\n") + HttpChunk(": ping\n\n")});
  // Two events in one chunk: two arrivals at once.
  script.writes.push_back({200, HttpChunk(Sse(CompletionChunk("d")) + Sse(CompletionChunk("e")))});
  script.writes.push_back({240, HttpChunk(kDone) + std::string(kLastChunk)});
  FakeSseServer server([&](const ReceivedRequest&) { return script; });
  Client client(server.port());
  client.Send(Spec());
  client.Run();

  ASSERT_EQ(client.records().size(), 1u);
  const RequestRecord& record = client.records()[0];
  EXPECT_EQ(record.outcome, Outcome::kOk) << record.error;
  ExpectTimes(record, client.WriteTimes(server, 0),
              {{80, 1}, {120, 2}, {160, 3}, {200, 4}, {200, 4}}, {240, 5});
  EXPECT_EQ(record.output_tokens, 5);  // no usage: the arrivals
  EXPECT_EQ(record.prompt_tokens, 3);  // no usage: the workload's count
}

TEST(HttpTargetTest, ChatRoleChunkAndClosingChunkAreNotTokenArrivals) {
  FakeSseServer server([](const ReceivedRequest&) {
    return ChunkedEvents({{30, ChatChunk(R"({"role":"assistant","content":""})")},
                          {60, ChatChunk(R"({"content":"Hel"})")},
                          {90, ChatChunk(R"({"content":"lo"})")},
                          {120, ChatChunk(R"({"content":"!"})")},
                          {130, ChatChunk("{}", "\"stop\"")},
                          {135, UsageChunk(5, 3, 0)}},
                         140);
  });
  Client client(server.port(), Api::kChatCompletions);
  RequestSpec spec = Spec();
  spec.messages = {{"system", "be brief"}, {"user", "hi"}};
  client.Send(spec);
  client.Run();

  ASSERT_EQ(client.records().size(), 1u);
  const RequestRecord& record = client.records()[0];
  EXPECT_EQ(record.outcome, Outcome::kOk) << record.error;
  ExpectTimes(record, client.WriteTimes(server, 0), {{60, 2}, {90, 3}, {120, 4}}, {140, 7});
  EXPECT_EQ(record.output_tokens, 3);
  const std::vector<ReceivedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/v1/chat/completions");
  EXPECT_EQ(requests[0].body["messages"], Json::parse(R"([{"role":"system","content":"be brief"},
                                                         {"role":"user","content":"hi"}])"));
  EXPECT_FALSE(requests[0].body.contains("prompt"));
}

TEST(HttpTargetTest, CloseDelimitedLlamaServerStreamCountsTextChunks) {
  // llama-server's completions: a chunk per token, then one with the finish_reason and
  // no text, no usage; here the body ends when the server closes the connection.
  FakeSseServer server([](const ReceivedRequest&) {
    Script script;
    script.writes.push_back({0,
                             "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             "Connection: close\r\n\r\n"});
    script.writes.push_back({20, Sse(CompletionChunk("a"))});
    script.writes.push_back({40, Sse(CompletionChunk("b"))});
    script.writes.push_back({60, Sse(CompletionChunk("", "\"length\""))});
    script.writes.push_back({70, std::string(kDone)});
    script.after = Script::After::kClose;
    return script;
  });
  Client client(server.port());
  client.Send(Spec());
  client.Run();

  ASSERT_EQ(client.records().size(), 1u);
  const RequestRecord& record = client.records()[0];
  EXPECT_EQ(record.outcome, Outcome::kOk) << record.error;
  ExpectTimes(record, client.WriteTimes(server, 0), {{20, 1}, {40, 2}}, {70, 4});
  EXPECT_EQ(record.output_tokens, 2);
}

TEST(HttpTargetTest, ErrorStatusCarriesTheOpenAiErrorMessage) {
  FakeSseServer server([](const ReceivedRequest&) {
    const std::string body =
        R"({"error":{"message":"queue full","type":"rate_limit_error","param":null,"code":429}})";
    return Script{.writes = {{0, absl::StrCat("HTTP/1.1 429 Too Many Requests\r\n"
                                              "Content-Type: application/json\r\nContent-Length: ",
                                              body.size(), "\r\n\r\n", body)}}};
  });
  Client client(server.port());
  client.Send(Spec());
  client.Run();

  ASSERT_EQ(client.records().size(), 1u);
  const RequestRecord& record = client.records()[0];
  EXPECT_EQ(record.outcome, Outcome::kHttpError);
  EXPECT_EQ(record.code, 429);
  EXPECT_EQ(record.error, "queue full");
  EXPECT_EQ(record.first_token, -1);
}

TEST(HttpTargetTest, InBandErrorEventIsAnHttpError) {
  FakeSseServer server([](const ReceivedRequest&) {
    return ChunkedEvents(
        {{10, CompletionChunk("a")},
         {20, R"({"error":{"message":"worker lost","type":"InternalServerError","code":500}})"}},
        25);
  });
  Client client(server.port());
  client.Send(Spec());
  client.Run();

  ASSERT_EQ(client.records().size(), 1u);
  const RequestRecord& record = client.records()[0];
  EXPECT_EQ(record.outcome, Outcome::kHttpError);
  EXPECT_EQ(record.code, 500);
  EXPECT_EQ(record.error, "worker lost");
  ExpectTimes(record, client.WriteTimes(server, 0), {{10, 1}}, {20, 2});
}

TEST(HttpTargetTest, ServerClosingMidStreamIsADisconnect) {
  FakeSseServer server([](const ReceivedRequest& request) {
    Script script;
    if (request.connection == 1) {  // chunked: the body is cut inside
      script.writes = {{0, ChunkedSseHead()}, {10, HttpChunk(Sse(CompletionChunk("a")))}};
    } else {  // close-delimited: the body "ends", but without [DONE]
      script.writes = {{0, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"},
                       {10, Sse(CompletionChunk("a"))}};
    }
    script.after = Script::After::kClose;
    return script;
  });
  Client client(server.port());
  client.Send(Spec(0));
  client.Run();
  client.Send(Spec(1));
  client.Run();

  ASSERT_EQ(client.records().size(), 2u);
  for (const RequestRecord& record : client.records()) {
    EXPECT_EQ(record.outcome, Outcome::kDisconnect) << record.index;
    const std::vector<double> writes = client.WriteTimes(server, record.index);
    ASSERT_EQ(record.token_times.size(), 1u);
    ExpectArrival(record.token_times[0], record, writes, {10, 1}, "token");
  }
  EXPECT_THAT(client.records()[0].error, HasSubstr("read: "));
  EXPECT_THAT(client.records()[1].error, HasSubstr("before data: [DONE]"));
}

TEST(HttpTargetTest, RequestTimeoutEndsTheRequest) {
  FakeSseServer server([](const ReceivedRequest&) {
    return Script{.writes = {{0, ChunkedSseHead()}}, .after = Script::After::kHold};
  });
  Client client(server.port(), Api::kCompletions, absl::Milliseconds(200));
  client.Send(Spec());
  client.Run();

  ASSERT_EQ(client.records().size(), 1u);
  EXPECT_EQ(client.records()[0].outcome, Outcome::kTimeout);
  EXPECT_GE(client.records()[0].e2e(), 0.200);
  EXPECT_LE(client.records()[0].e2e(), 0.200 + kTimerSlack);
}

TEST(HttpTargetTest, CancelAllEndsEveryRequestInFlightOnce) {
  FakeSseServer server([](const ReceivedRequest&) {
    return Script{.writes = {{0, ChunkedSseHead()}, {10, HttpChunk(Sse(CompletionChunk("a")))}},
                  .after = Script::After::kHold};
  });
  Client client(server.port());
  for (int k = 0; k < 3; ++k) client.Send(Spec(k));
  boost::asio::steady_timer timer(client.io(), std::chrono::milliseconds(100));
  timer.async_wait([&](boost::system::error_code) { client.target().CancelAll(); });
  client.Run();

  ASSERT_EQ(client.records().size(), 3u);
  std::set<int64_t> indexes;
  for (const RequestRecord& record : client.records()) {
    indexes.insert(record.index);
    EXPECT_EQ(record.outcome, Outcome::kDisconnect);
    EXPECT_EQ(record.error, "cancelled by the run");
    EXPECT_GE(record.e2e(), 0.100);
    EXPECT_LE(record.e2e(), 0.100 + kTimerSlack);
    EXPECT_EQ(record.token_times.size(), 1u);
  }
  EXPECT_EQ(indexes, (std::set<int64_t>{0, 1, 2}));
}

TEST(HttpTargetTest, DestroyingTheTargetDropsRequestsInFlightWithoutDone) {
  FakeSseServer server([](const ReceivedRequest&) {
    return Script{.writes = {{0, ChunkedSseHead()}}, .after = Script::After::kHold};
  });
  boost::asio::io_context io;
  RunClock clock;
  int done_calls = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto target, MakeHttpTarget(io, {.port = server.port(), .clock = &clock}));
    target->Send(Spec(), [&](RequestRecord) { ++done_calls; });
    io.run_for(std::chrono::milliseconds(50));
  }
  io.restart();
  io.run_for(std::chrono::seconds(5));  // the aborted handlers run and let go
  EXPECT_EQ(done_calls, 0);
}

TEST(HttpTargetTest, SequentialRequestsReuseOneConnection) {
  FakeSseServer server([](const ReceivedRequest&) { return ThreeTokens(); });
  Client client(server.port());
  client.Send(Spec(0));
  client.Run();
  client.Send(Spec(1));
  client.Run();

  ASSERT_EQ(client.records().size(), 2u);
  for (const RequestRecord& record : client.records()) EXPECT_TRUE(record.ok()) << record.error;
  EXPECT_EQ(server.accepts(), 1);
  const std::vector<ReceivedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].on_connection, 2);
}

TEST(HttpTargetTest, ConnectionTheServerClosedWhileIdleIsReopened) {
  FakeSseServer server([](const ReceivedRequest&) {
    Script script = ThreeTokens();
    script.after = Script::After::kClose;  // without saying so in the response
    return script;
  });
  Client client(server.port());
  client.Send(Spec(0));
  client.Run();
  client.Send(Spec(1));
  client.Run();

  ASSERT_EQ(client.records().size(), 2u);
  for (const RequestRecord& record : client.records()) EXPECT_TRUE(record.ok()) << record.error;
  EXPECT_EQ(server.accepts(), 2);
}

TEST(HttpTargetTest, RequestOnAConnectionClosedUnderItIsSentAgain) {
  // The server takes the second request on the first connection and closes without an
  // answer (an idle timeout racing the request): the request goes again, on a new one.
  FakeSseServer server([](const ReceivedRequest& request) {
    if (request.on_connection == 2) return Script{.after = Script::After::kClose};
    return ThreeTokens();
  });
  Client client(server.port());
  client.Send(Spec(0));
  client.Run();
  client.Send(Spec(1));
  client.Run();

  ASSERT_EQ(client.records().size(), 2u);
  for (const RequestRecord& record : client.records()) EXPECT_TRUE(record.ok()) << record.error;
  EXPECT_EQ(server.accepts(), 2);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(HttpTargetTest, RefusedConnectionIsADisconnectReportedAfterSendReturns) {
  int port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }
  Client client(port);
  client.Send(Spec());
  EXPECT_TRUE(client.records().empty());  // done is posted, never run inside Send
  client.Run();

  ASSERT_EQ(client.records().size(), 1u);
  EXPECT_EQ(client.records()[0].outcome, Outcome::kDisconnect);
  EXPECT_THAT(client.records()[0].error, HasSubstr("connect: "));
}

TEST(HttpTargetTest, HundredConcurrentRequestsOnOneThreadThenReuseTheirConnections) {
  FakeSseServer server([](const ReceivedRequest&) { return ThreeTokens(); });
  Client client(server.port());
  for (int wave = 0; wave < 2; ++wave) {
    for (int k = 0; k < 100; ++k) client.Send(Spec(wave * 100 + k));
    client.Run();
  }

  ASSERT_EQ(client.records().size(), 200u);
  for (const RequestRecord& record : client.records()) {
    EXPECT_TRUE(record.ok()) << record.index << ": " << record.error;
    EXPECT_EQ(record.output_tokens, 3);
    EXPECT_EQ(record.token_times.size(), 3u);
  }
  EXPECT_EQ(server.accepts(), 100);
}

TEST(HttpTargetTest, OptionsAreCheckedAndDescribed) {
  boost::asio::io_context io;
  RunClock clock;
  EXPECT_THAT(MakeHttpTarget(io, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("clock")));
  EXPECT_THAT(MakeHttpTarget(io, {.port = 0, .clock = &clock}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port")));
  ASSERT_OK_AND_ASSIGN(
      auto target,
      MakeHttpTarget(io, {.port = 8080, .api = Api::kChatCompletions, .clock = &clock}));
  EXPECT_EQ(target->description(), "http://127.0.0.1:8080/v1/chat/completions");
}

// --- The SSE parser and the stream reader on their own -------------------------------

std::vector<SseParser::Event> ParseInPieces(std::string_view stream, size_t piece) {
  SseParser parser;
  std::vector<SseParser::Event> events;
  for (size_t pos = 0; pos < stream.size(); pos += piece) {
    parser.Feed(stream.substr(pos, piece), events);
  }
  return events;
}

TEST(SseParserTest, AnyPiecingGivesTheSdksEvents) {
  const std::string_view stream =
      ": keep-alive\n\ndata: a\n\ndata:b\r\n\r\ndata: one\ndata:  two\n\n"
      "event: ping\n\nid: 7\nretry: 10\n\ndata: c\r\rdata: [DONE]\n\n";
  for (size_t piece : {stream.size(), size_t{1}, size_t{2}, size_t{5}}) {
    std::vector<std::string> data, names;
    for (const SseParser::Event& event : ParseInPieces(stream, piece)) {
      data.push_back(event.data);
      names.push_back(event.event);
    }
    EXPECT_THAT(data, ElementsAre("a", "b", "one\n two", "", "c", "[DONE]")) << piece;
    EXPECT_THAT(names, ElementsAre("", "", "", "ping", "", "")) << piece;
  }
}

TEST(SseParserTest, CrLfSplitAcrossPiecesIsOneLineEnd) {
  SseParser parser;
  std::vector<SseParser::Event> events;
  parser.Feed("data: a\r", events);
  parser.Feed("\ndata: b\r", events);
  parser.Feed("\n\r", events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\nb");
}

TEST(StreamReaderTest, ShoalEmptyStepChunksCountButAnEmptyFinishingChunkDoesNot) {
  RequestRecord record;
  StreamReader reader(Api::kCompletions, &record);
  // Shoal and vLLM: a chunk per step, its text empty for a control token.
  EXPECT_EQ(reader.OnEvent(CompletionChunk(""), 1.0), StreamReader::Result::kMore);
  EXPECT_EQ(reader.OnEvent(CompletionChunk("x"), 2.0), StreamReader::Result::kMore);
  EXPECT_EQ(reader.OnEvent(CompletionChunk("y", "\"length\""), 3.0), StreamReader::Result::kMore);
  // llama-server's closing chunk: no text, the finish_reason.
  EXPECT_EQ(reader.OnEvent(CompletionChunk("", "\"length\""), 4.0), StreamReader::Result::kMore);
  EXPECT_EQ(reader.OnEvent("[DONE]", 5.0), StreamReader::Result::kDone);
  reader.Finish();
  EXPECT_THAT(record.token_times, ElementsAre(1.0, 2.0, 3.0));
  EXPECT_EQ(record.first_token, 1.0);
  EXPECT_EQ(record.output_tokens, 3);
}

TEST(StreamReaderTest, ChatRoleChunkWithNullContentIsNotCounted) {
  RequestRecord record;
  StreamReader reader(Api::kChatCompletions, &record);
  reader.OnEvent(ChatChunk(R"({"role":"assistant","content":null})"), 1.0);  // llama-server
  reader.OnEvent(ChatChunk(R"({"role":"assistant","content":"Hi"})"), 2.0);  // role and text
  reader.OnEvent(ChatChunk(R"({"reasoning_content":"hmm"})"), 3.0);
  reader.OnEvent(ChatChunk(R"({"content":""})"), 4.0);  // an empty step
  reader.OnEvent(ChatChunk(R"({"content":null})", "\"stop\""), 5.0);
  reader.Finish();
  EXPECT_THAT(record.token_times, ElementsAre(2.0, 3.0, 4.0));
}

TEST(StreamReaderTest, ErrorsAreNamed) {
  RequestRecord record;
  StreamReader reader(Api::kCompletions, &record);
  EXPECT_EQ(reader.OnEvent(R"({"error":"boom"})", 1.0), StreamReader::Result::kError);
  EXPECT_EQ(reader.error(), "boom");
  EXPECT_EQ(reader.error_code(), 0);
  StreamReader other(Api::kCompletions, &record);
  EXPECT_EQ(other.OnEvent("not json", 1.0), StreamReader::Result::kError);
  EXPECT_THAT(other.error(), HasSubstr("not a JSON object"));
  StreamReader quiet(Api::kCompletions, &record);
  EXPECT_EQ(quiet.OnEvent(R"({"error":null,"choices":[]})", 1.0), StreamReader::Result::kMore);
}

TEST(ErrorMessageOfTest, ReadsTheCommonShapes) {
  EXPECT_EQ(ErrorMessageOf(R"({"error":{"message":"bad model","code":404}})"), "bad model");
  EXPECT_EQ(ErrorMessageOf(R"({"error":"overloaded"})"), "overloaded");
  EXPECT_EQ(ErrorMessageOf(R"({"detail":"Not Found"})"), "Not Found");
  EXPECT_EQ(ErrorMessageOf("upstream timed out"), "upstream timed out");
}

}  // namespace
}  // namespace shoal::bench
