// The run loop against a fake target whose requests take known times on the same
// io_context: the concurrency cap holds, an open loop keeps its arrival rate, --duration
// stops a run and its in-flight requests end as disconnects, errors are counted, not
// fatal. And the random workload: exact prompt lengths of ordinary tokens.
#include "bench/load/runner.h"

#include <algorithm>
#include <set>
#include <memory>

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
