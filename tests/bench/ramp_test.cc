// The rate ramp against a fake server with a capacity: a request's latency grows with
// how many requests arrived in the last 50 ms beyond what the server absorbs, so a
// stage holds below the capacity and breaks above it whatever the machine's timer
// jitter (the runner's arrivals are never early, so jitter only lowers the load). Every
// stage takes 100-200 ms. And the verdict, the spec cycling, the JSON and validation.
#include "bench/load/ramp.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>

#include "boost/asio/steady_timer.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::bench {
namespace {

namespace net = boost::asio;
using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// e2e = base + per_excess * max(0, arrivals in the last `window` (this one included) -
// capacity); the first token comes at a fifth of that. Every `fail_every`-th request
// fails with HTTP 503; with `hang` none ever ends until cancelled.
class CapacityTarget final : public Target {
 public:
  struct Config {
    double base = 0.002;
    double per_excess = 0.010;
    double window = 0.050;
    int capacity = 6;  // arrivals per window: 120 requests/s
    int fail_every = 0;
    bool hang = false;
  };
  CapacityTarget(net::io_context& io, const RunClock& clock, Config config)
      : io_(io), clock_(clock), config_(config) {}

  void Send(const RequestSpec& spec, std::function<void(RequestRecord)> done) override {
    const double now = clock_.Now();
    arrivals_.push_back(now);
    while (!arrivals_.empty() && arrivals_.front() <= now - config_.window) arrivals_.pop_front();
    const int excess = std::max(0, static_cast<int>(arrivals_.size()) - config_.capacity);
    const double e2e = config_.hang ? 3600 : config_.base + config_.per_excess * excess;
    sent_indices_.push_back(spec.index);
    sent_max_tokens_.push_back(spec.max_tokens);
    auto call = std::make_shared<Call>(io_);
    call->record.index = spec.index;
    call->record.start = now;
    call->record.output_tokens = 1;
    call->done = std::move(done);
    live_.push_back(call);
    const bool fail = config_.fail_every > 0 && ++sent_ % config_.fail_every == 0;
    call->timer.expires_after(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(e2e)));
    call->timer.async_wait([this, call, fail, e2e](boost::system::error_code ec) {
      call->record.end = clock_.Now();
      if (ec) {
        call->record.outcome = Outcome::kDisconnect;
      } else if (fail) {
        call->record.outcome = Outcome::kHttpError;
        call->record.code = 503;
      } else {
        call->record.first_token = call->record.start + e2e / 5;
        call->record.token_times = {call->record.first_token};
      }
      live_.erase(std::find(live_.begin(), live_.end(), call));
      call->done(std::move(call->record));
    });
  }
  void CancelAll() override {
    for (auto& call : live_) call->timer.cancel();
  }
  std::string description() const override { return "capacity"; }

  std::vector<int64_t> sent_indices_;
  std::vector<int32_t> sent_max_tokens_;

 private:
  struct Call {
    explicit Call(net::io_context& io) : timer(io) {}
    net::steady_timer timer;
    RequestRecord record;
    std::function<void(RequestRecord)> done;
  };
  net::io_context& io_;
  const RunClock& clock_;
  const Config config_;
  std::deque<double> arrivals_;
  int sent_ = 0;
  std::vector<std::shared_ptr<Call>> live_;
};

std::vector<RequestSpec> Specs(int n) {
  std::vector<RequestSpec> specs(n);
  for (int i = 0; i < n; ++i) specs[i].index = i, specs[i].max_tokens = 100 + i;
  return specs;
}

RampOptions Options(std::vector<double> rates) {
  RampOptions options;
  options.rates = std::move(rates);
  options.stage_duration = absl::Milliseconds(150);
  options.drain_timeout = absl::Seconds(2);
  options.slo.e2e = 0.040;  // 40 ms: met with up to 3 arrivals beyond the capacity
  options.constant_arrivals = true;
  return options;
}

TEST(RampTest, StopsAtTheFirstStageAboveCapacity) {
  net::io_context io;
  RunClock clock;
  CapacityTarget target(io, clock, {});
  // Below 120/s every stage holds; at 400/s (2.5 ms gaps, 20 arrivals per window) it
  // breaks; 800/s is never run.
  const RampOptions options = Options({25, 50, 100, 400, 800});
  ASSERT_OK_AND_ASSIGN(RampResult ramp, RunRamp(io, target, CycleSpecs(Specs(7)), options, clock));
  ASSERT_EQ(ramp.stages.size(), 4u);
  EXPECT_EQ(ramp.highest_rate_held, 100);
  EXPECT_FALSE(ramp.all_held);
  for (int i = 0; i < 3; ++i) {
    const RampStage& stage = ramp.stages[i];
    EXPECT_TRUE(stage.held) << stage.rate << ": " << stage.reason;
    EXPECT_EQ(stage.summary.completed, stage.num_requests);
    EXPECT_EQ(stage.good_fraction, 1.0);
    EXPECT_EQ(stage.error_fraction, 0.0);
  }
  const RampStage& broken = ramp.stages[3];
  EXPECT_EQ(broken.rate, 400);
  EXPECT_FALSE(broken.held);
  EXPECT_LT(broken.good_fraction, 0.9);
  EXPECT_THAT(broken.reason, HasSubstr("within the SLO"));
  // rate x 150 ms requests per stage: 3.75 -> 4, 7.5 -> 8, 15, 60.
  std::vector<int64_t> sent;
  for (const RampStage& stage : ramp.stages) sent.push_back(stage.num_requests);
  EXPECT_THAT(sent, ElementsAre(4, 8, 15, 60));
  EXPECT_THAT(FormatRampTable(ramp), HasSubstr("Highest rate that held: 100 req/s"));
}

TEST(RampTest, ReportsTheLastRateWhenEveryStageHolds) {
  net::io_context io;
  RunClock clock;
  CapacityTarget target(io, clock, {});
  ASSERT_OK_AND_ASSIGN(RampResult ramp,
                       RunRamp(io, target, CycleSpecs(Specs(5)), Options({40, 80}), clock));
  ASSERT_EQ(ramp.stages.size(), 2u);
  EXPECT_EQ(ramp.highest_rate_held, 80);
  EXPECT_TRUE(ramp.all_held);
  EXPECT_THAT(FormatRampTable(ramp), HasSubstr("every rate held"));
}

TEST(RampTest, FailuresBreakAStageEvenWithinTheSlo) {
  net::io_context io;
  RunClock clock;
  CapacityTarget target(io, clock, {.fail_every = 4});
  RampOptions options = Options({50, 100});
  options.stage_requests = 8;  // 2 of 8 fail: 25%
  options.max_error_fraction = 0.2;
  ASSERT_OK_AND_ASSIGN(RampResult ramp, RunRamp(io, target, CycleSpecs(Specs(8)), options, clock));
  ASSERT_EQ(ramp.stages.size(), 1u);
  EXPECT_FALSE(ramp.highest_rate_held.has_value());
  EXPECT_EQ(ramp.stages[0].num_requests, 8);
  EXPECT_EQ(ramp.stages[0].error_fraction, 0.25);
  EXPECT_EQ(ramp.stages[0].good_fraction, 1.0);  // every completed one was in time
  EXPECT_THAT(ramp.stages[0].reason, HasSubstr("25.0% of requests failed"));
  EXPECT_THAT(FormatRampTable(ramp), HasSubstr("No rate held"));
}

TEST(RampTest, RequestsStillInFlightAfterTheDrainTimeoutAreFailures) {
  net::io_context io;
  RunClock clock;
  CapacityTarget target(io, clock, {.hang = true});
  RampOptions options = Options({100});
  options.stage_requests = 5;  // 50 ms of arrivals
  options.drain_timeout = absl::Milliseconds(100);
  const double start = clock.Now();
  ASSERT_OK_AND_ASSIGN(RampResult ramp, RunRamp(io, target, CycleSpecs(Specs(5)), options, clock));
  EXPECT_LT(clock.Now() - start, 1.0);
  ASSERT_EQ(ramp.stages.size(), 1u);
  EXPECT_EQ(ramp.stages[0].summary.failed, 5);
  EXPECT_EQ(ramp.stages[0].summary.errors.at("disconnect"), 5);
  EXPECT_FALSE(ramp.stages[0].held);
}

TEST(RampTest, StagesTakeTheWorkloadInTurnRenumbered) {
  net::io_context io;
  RunClock clock;
  CapacityTarget target(io, clock, {});
  RampOptions options = Options({100, 110});
  options.stage_requests = 3;
  ASSERT_OK_AND_ASSIGN(RampResult ramp, RunRamp(io, target, CycleSpecs(Specs(4)), options, clock));
  ASSERT_EQ(ramp.stages.size(), 2u);
  EXPECT_THAT(target.sent_indices_, ElementsAre(0, 1, 2, 0, 1, 2));
  // The workload's 4 specs in turn, wrapping: 0 1 2 | 3 0 1.
  EXPECT_THAT(target.sent_max_tokens_, ElementsAre(100, 101, 102, 103, 100, 101));
}

TEST(RampTest, AFactoryErrorEndsTheRamp) {
  net::io_context io;
  RunClock clock;
  CapacityTarget target(io, clock, {});
  StageSpecsFactory factory = [](size_t stage,
                                 int64_t n) -> absl::StatusOr<std::vector<RequestSpec>> {
    if (stage == 1) return absl::InternalError("no more prompts");
    return Specs(static_cast<int>(n));
  };
  RampOptions options = Options({100, 110});
  options.stage_requests = 2;
  EXPECT_THAT(RunRamp(io, target, factory, options, clock),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("no more prompts")));
}

TEST(RampTest, JudgeStage) {
  RampOptions options;  // at least 90% good, no failures
  EXPECT_EQ(JudgeStage({.requests = 10, .completed = 10, .good = 9}, options), "");
  EXPECT_THAT(JudgeStage({.requests = 10, .completed = 10, .good = 8}, options),
              HasSubstr("80.0% of completed requests within the SLO (fewer than 90.0%)"));
  EXPECT_THAT(JudgeStage({.requests = 10, .completed = 9, .failed = 1, .good = 9}, options),
              HasSubstr("10.0% of requests failed"));
  EXPECT_THAT(JudgeStage({.requests = 0}, options), HasSubstr("no request completed"));
  options.max_error_fraction = 0.1;
  EXPECT_EQ(JudgeStage({.requests = 10, .completed = 9, .failed = 1, .good = 9}, options), "");
}

TEST(RampTest, JsonHasEveryStageAndTheHighestRate) {
  RampResult ramp;
  ramp.stages.push_back({.rate = 1, .num_requests = 3, .held = true});
  ramp.stages.push_back({.rate = 2, .num_requests = 6, .held = false, .reason = "slow"});
  ramp.highest_rate_held = 1;
  RampOptions options = Options({1, 2, 4});
  const nlohmann::ordered_json json = ToJson(ramp, options);
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  EXPECT_THAT(keys, ElementsAre("rates", "min_good_fraction", "max_error_fraction",
                                "highest_rate_held", "all_held", "stages"));
  EXPECT_EQ(json["highest_rate_held"], 1);
  EXPECT_EQ(json["rates"].size(), 3u);
  ASSERT_EQ(json["stages"].size(), 2u);
  EXPECT_EQ(json["stages"][1]["reason"], "slow");
  EXPECT_EQ(json["stages"][1]["held"], false);
  EXPECT_TRUE(json["stages"][0]["summary"].contains("ttft_s"));
  ramp.highest_rate_held.reset();
  EXPECT_TRUE(ToJson(ramp, options)["highest_rate_held"].is_null());
}

TEST(RampTest, InvalidOptionsAreRefused) {
  net::io_context io;
  RunClock clock;
  CapacityTarget target(io, clock, {});
  const auto specs = CycleSpecs(Specs(1));
  for (const std::vector<double>& rates :
       std::vector<std::vector<double>>{{}, {0}, {2, 1}, {1, 1}, {1, INFINITY}}) {
    EXPECT_THAT(RunRamp(io, target, specs, Options(rates), clock),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rate")));
  }
  RampOptions options = Options({1});
  options.min_good_fraction = 0;
  EXPECT_FALSE(options.Validate().ok());
  options = Options({1});
  options.max_error_fraction = 1;
  EXPECT_FALSE(options.Validate().ok());
  options = Options({1});
  options.stage_duration = absl::ZeroDuration();
  EXPECT_FALSE(options.Validate().ok());
  options.stage_requests = 3;
  EXPECT_TRUE(options.Validate().ok());
  EXPECT_TRUE(target.sent_indices_.empty());
}

}  // namespace
}  // namespace shoal::bench
