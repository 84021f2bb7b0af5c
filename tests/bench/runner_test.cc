// The run loop against a fake target whose requests take known times on the same
// io_context: the concurrency cap holds, an open loop keeps its arrival rate, --duration
// stops a run and its in-flight requests end as disconnects, errors are counted, not
// fatal; a session's turn waits for the previous one to end, without holding up other
// sessions. And the random workload: exact prompt lengths of ordinary tokens.
#include "bench/load/runner.h"

#include <algorithm>
#include <map>
#include <set>
#include <memory>

#include "bench/load/agent_workload.h"
#include "bench/load/workload.h"
#include "boost/asio/steady_timer.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/model_file.h"
#include "tests/support/model_files.h"

namespace shoal::bench {
namespace {

namespace net = boost::asio;

// Each request: its first token after `ttft`, done after `e2e`; every `fail_every`-th
// fails with HTTP 500.
class FakeTarget final : public Target {
 public:
  FakeTarget(net::io_context& io, const RunClock& clock, double ttft, double e2e)
      : io_(io), clock_(clock), ttft_(ttft), e2e_(e2e) {}

  void Send(const RequestSpec& spec, std::function<void(RequestRecord)> done) override {
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    auto call = std::make_shared<Call>(io_);
    call->record.index = spec.index;
    call->record.start = clock_.Now();
    call->record.output_tokens = spec.max_tokens;
    call->done = std::move(done);
    send_times_.push_back(call->record.start);
    sent_.push_back(spec.index);
    starts_[spec.index] = call->record.start;
    live_.push_back(call);
    call->timer.expires_after(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(e2e_)));
    const bool fail = fail_every_ > 0 && (spec.index + 1) % fail_every_ == 0;
    call->timer.async_wait([this, call, fail](boost::system::error_code ec) {
      call->record.end = clock_.Now();
      if (ec) {
        call->record.outcome = Outcome::kDisconnect;
      } else if (fail) {
        call->record.outcome = Outcome::kHttpError;
        call->record.code = 500;
      } else {
        call->record.first_token = call->record.start + ttft_;
        call->record.token_times = {call->record.first_token, call->record.end};
      }
      --in_flight_;
      ends_[call->record.index] = call->record.end;
      live_.erase(std::find(live_.begin(), live_.end(), call));
      call->done(std::move(call->record));
    });
  }

  void CancelAll() override {
    for (auto& call : live_) call->timer.cancel();
  }
  std::string description() const override { return "fake"; }

  int max_in_flight_ = 0;
  int fail_every_ = 0;
  std::vector<double> send_times_;
  std::vector<int64_t> sent_;            // spec indices in the order sent
  std::map<int64_t, double> starts_, ends_;  // by spec index

 private:
  struct Call {
    explicit Call(net::io_context& io) : timer(io) {}
    net::steady_timer timer;
    RequestRecord record;
    std::function<void(RequestRecord)> done;
  };
  net::io_context& io_;
  const RunClock& clock_;
  const double ttft_, e2e_;
  int in_flight_ = 0;
  std::vector<std::shared_ptr<Call>> live_;
};

std::vector<RequestSpec> Specs(int n) {
  std::vector<RequestSpec> specs(n);
  for (int i = 0; i < n; ++i) specs[i].index = i, specs[i].max_tokens = 4;
  return specs;
}

TEST(RunnerTest, ClosedLoopKeepsExactlyTheConcurrencyInFlight) {
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.002, 0.010);
  auto result = bench::Run(io, target, Specs(20), {.concurrency = 4}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->records.size(), 20u);
  EXPECT_EQ(target.max_in_flight_, 4);
  // 20 requests of 10 ms, 4 at a time: about 50 ms.
  EXPECT_GE(result->wall_seconds, 0.045);
  EXPECT_LT(result->wall_seconds, 1.0);
}

TEST(RunnerTest, OpenLoopSendsAtTheRequestedRate) {
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.001, 0.002);
  auto result = bench::Run(io, target, Specs(40),
                    {.request_rate = 200, .constant_arrivals = true}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(target.send_times_.size(), 40u);
  // Constant gaps of 5 ms: the 40th request goes out 195 ms after the first (timers
  // may fire late on a busy machine, never early).
  const double span = target.send_times_.back() - target.send_times_.front();
  EXPECT_GE(span, 0.195 - 1e-3);
  EXPECT_LT(span, 0.195 + 0.15);
}

TEST(RunnerTest, OpenLoopRespectsTheConcurrencyCap) {
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.001, 0.050);
  auto result = bench::Run(io, target, Specs(10), {.concurrency = 2, .request_rate = 1000}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->records.size(), 10u);
  EXPECT_EQ(target.max_in_flight_, 2);
}

TEST(RunnerTest, DurationStopsTheRunAndGivesUpWhatIsInFlight) {
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.001, 10.0);  // requests that would take 10 s
  auto result = bench::Run(io, target, Specs(100),
                    {.concurrency = 3, .duration = absl::Milliseconds(200)}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LT(result->wall_seconds, 2.0);
  ASSERT_EQ(result->records.size(), 3u);  // only those sent; each given up
  for (const RequestRecord& record : result->records) {
    EXPECT_EQ(record.outcome, Outcome::kDisconnect);
  }
}

TEST(RunnerTest, ErrorsAreCountedNotFatal) {
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.001, 0.002);
  target.fail_every_ = 3;
  auto result = bench::Run(io, target, Specs(9), {.concurrency = 2}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->records.size(), 9u);
  EXPECT_EQ(std::count_if(result->records.begin(), result->records.end(),
                          [](const RequestRecord& r) { return r.outcome == Outcome::kHttpError; }),
            3);
}

TEST(RunnerTest, ABoundlessRunIsRefused) {
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.001, 0.002);
  EXPECT_FALSE(bench::Run(io, target, Specs(1), {}, clock).ok());  // no concurrency, no rate
  EXPECT_FALSE(bench::Run(io, target, Specs(1), {.concurrency = 1, .request_rate = -1}, clock).ok());
}

// Two agents of three turns each (turn-major: specs 0 and 1 are turn 1, 2 and 3 turn 2).
std::vector<RequestSpec> TwoAgentsThreeTurns() {
  auto model = model::ModelFile::Open(testing::Gemma3Path());
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return {};
  auto specs = MakeAgentWorkload((*model)->tokenizer(),
                                 {.num_agents = 2, .turns = 3, .system_prompt_len = 20,
                                  .num_tools = 1, .tool_len = 40, .user_turn_len = 5,
                                  .assistant_turn_len = 5, .output_len = 4});
  EXPECT_TRUE(specs.ok()) << specs.status();
  return specs.ok() ? *specs : std::vector<RequestSpec>{};
}

// Every spec that comes after another was sent no earlier than that one ended.
void ExpectTurnsWaited(const std::vector<RequestSpec>& specs, const FakeTarget& target) {
  for (const RequestSpec& spec : specs) {
    if (spec.after < 0 || !target.starts_.contains(spec.index)) continue;
    ASSERT_TRUE(target.ends_.contains(spec.after)) << spec.index;
    EXPECT_GE(target.starts_.at(spec.index), target.ends_.at(spec.after))
        << "turn " << spec.turn << " of agent " << spec.session << " went before turn "
        << spec.turn - 1 << " ended";
  }
}

TEST(RunnerSessionTest, ATurnIsSentOnlyAfterThePreviousTurnEnded) {
  const std::vector<RequestSpec> specs = TwoAgentsThreeTurns();
  ASSERT_EQ(specs.size(), 6u);
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.002, 0.020);
  target.fail_every_ = 2;  // turns of agent 1 fail: the next turn still follows them
  auto result = bench::Run(io, target, specs, {.concurrency = 8}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->records.size(), 6u);
  ExpectTurnsWaited(specs, target);
  // However many may be in flight, only one turn per agent is.
  EXPECT_EQ(target.max_in_flight_, 2);
  EXPECT_THAT(target.sent_, ::testing::ElementsAre(0, 1, 2, 3, 4, 5));
  for (const RequestRecord& record : result->records) {
    EXPECT_EQ(record.session, specs[record.index].session);
    EXPECT_EQ(record.turn, specs[record.index].turn);
  }
}

TEST(RunnerSessionTest, WithConcurrencyTwoBothAgentsProgress) {
  const std::vector<RequestSpec> specs = TwoAgentsThreeTurns();
  ASSERT_EQ(specs.size(), 6u);
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.002, 0.030);
  auto result = bench::Run(io, target, specs, {.concurrency = 2}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->records.size(), 6u);
  ExpectTurnsWaited(specs, target);
  EXPECT_EQ(target.max_in_flight_, 2);
  // Each turn of agent 1 is in flight together with the same turn of agent 0.
  for (int64_t turn = 0; turn < 3; ++turn) {
    EXPECT_LT(target.starts_.at(2 * turn + 1), target.ends_.at(2 * turn)) << "turn " << turn + 1;
  }
  EXPECT_THAT(target.sent_, ::testing::ElementsAre(0, 1, 2, 3, 4, 5));
}

TEST(RunnerSessionTest, ConcurrencyOneRunsTheTurnsOneByOne) {
  const std::vector<RequestSpec> specs = TwoAgentsThreeTurns();
  ASSERT_EQ(specs.size(), 6u);
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.001, 0.005);
  auto result = bench::Run(io, target, specs, {.concurrency = 1}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->records.size(), 6u);
  EXPECT_EQ(target.max_in_flight_, 1);
  EXPECT_THAT(target.sent_, ::testing::ElementsAre(0, 1, 2, 3, 4, 5));
}

TEST(RunnerSessionTest, AWaitingSpecDoesNotHoldUpLaterReadyOnes) {
  std::vector<RequestSpec> specs = Specs(4);
  specs[1].after = 0;
  specs[3].after = 1;
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.001, 0.010);
  auto result = bench::Run(io, target, specs, {.concurrency = 2}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->records.size(), 4u);
  EXPECT_THAT(target.sent_, ::testing::ElementsAre(0, 2, 1, 3));
  ExpectTurnsWaited(specs, target);
}

TEST(RunnerSessionTest, AnOpenLoopTurnWaitsForItsArrivalAndForThePreviousTurn) {
  const std::vector<RequestSpec> specs = TwoAgentsThreeTurns();
  ASSERT_EQ(specs.size(), 6u);
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.001, 0.040);
  // An arrival every 10 ms; a turn takes 40 ms.
  auto result =
      bench::Run(io, target, specs, {.request_rate = 100, .constant_arrivals = true}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->records.size(), 6u);
  ExpectTurnsWaited(specs, target);
  EXPECT_EQ(target.max_in_flight_, 2);
  // Agent 1's first turn arrives 10 ms after agent 0's, not with it.
  EXPECT_GE(target.starts_.at(1) - target.starts_.at(0), 0.010 - 1e-3);
}

TEST(RunnerSessionTest, DurationEndsARunWhoseLaterTurnsWait) {
  const std::vector<RequestSpec> specs = TwoAgentsThreeTurns();
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.001, 10.0);
  auto result = bench::Run(io, target, specs,
                           {.concurrency = 8, .duration = absl::Milliseconds(200)}, clock);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LT(result->wall_seconds, 2.0);
  ASSERT_EQ(result->records.size(), 2u);  // the first turns, given up
  for (const RequestRecord& record : result->records) {
    EXPECT_EQ(record.outcome, Outcome::kDisconnect);
    EXPECT_EQ(record.turn, 1);
  }
}

TEST(RunnerSessionTest, AnAfterThatIsNotAnEarlierSpecIsRefused) {
  net::io_context io;
  RunClock clock;
  FakeTarget target(io, clock, 0.001, 0.002);
  for (const int64_t after : {1, 2, -2}) {
    std::vector<RequestSpec> specs = Specs(3);
    specs[1].after = after;
    auto result = bench::Run(io, target, specs, {.concurrency = 1}, clock);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << after;
  }
  EXPECT_TRUE(target.sent_.empty());
}

TEST(RandomWorkloadTest, PromptsHaveExactLengthsOfOrdinaryTokensBehindASharedPrefix) {
  auto model = model::ModelFile::Open(testing::Gemma3Path());
  ASSERT_TRUE(model.ok()) << model.status();
  const model::Tokenizer& tokenizer = (*model)->tokenizer();
  auto specs = MakeRandomWorkload(tokenizer, {.num_requests = 20, .input_len = 50,
                                              .output_len = 8, .range_ratio = 0.5,
                                              .prefix_len = 10, .seed = 7});
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 20u);
  const std::vector<int32_t> prefix((*specs)[0].prompt_token_ids.begin(),
                                    (*specs)[0].prompt_token_ids.begin() + 11);  // BOS + 10
  EXPECT_EQ(prefix.front(), tokenizer.bos_id());
  std::set<int32_t> lengths;
  for (const RequestSpec& spec : *specs) {
    const int own = static_cast<int>(spec.prompt_token_ids.size()) - 11;
    EXPECT_GE(own, 25);
    EXPECT_LE(own, 75);
    lengths.insert(own);
    EXPECT_EQ(spec.prompt_tokens, static_cast<int32_t>(spec.prompt_token_ids.size()));
    EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), spec.prompt_token_ids.begin()));
    for (size_t k = 1; k < spec.prompt_token_ids.size(); ++k) {
      EXPECT_FALSE(tokenizer.IsControl(spec.prompt_token_ids[k]));
    }
    EXPECT_GE(spec.max_tokens, 4);
    EXPECT_LE(spec.max_tokens, 12);
  }
  EXPECT_GT(lengths.size(), 5u) << "lengths vary within the range";
  // The same seed makes the same workload.
  auto again = MakeRandomWorkload(tokenizer, {.num_requests = 20, .input_len = 50,
                                              .output_len = 8, .range_ratio = 0.5,
                                              .prefix_len = 10, .seed = 7});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[13].prompt_token_ids, (*specs)[13].prompt_token_ids);
}

}  // namespace
}  // namespace shoal::bench
