// The router's SchedulerClient (router/scheduler_client.h), every case once through
// InProcessSchedulerClient and once through GrpcSchedulerClient to a real
// SchedulerService, over the same EngineCore with a fake worker: tokens exactly as the
// fake model generates them and a Finish with usage; Cancel as CANCELLED or STOP;
// refusals (duplicate id, invalid request, overload with retry-after) as error();
// destroying a running call frees its KV blocks and silences on_ready; a consumer that
// never takes cannot grow memory; Stats. Plus a scheduler nobody listens on (gRPC).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <numeric>
#include <thread>

#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/inprocess/scheduler_client_harness.h"
#include "tests/support/status_matchers.h"

namespace shoal::testing {
namespace {

using scheduler::testing::FakeGenerate;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Lt;
using ::testing::SizeIs;

std::vector<int32_t> Prompt(int n, int32_t first = 1) {
  std::vector<int32_t> prompt(n);
  std::iota(prompt.begin(), prompt.end(), first);
  return prompt;
}

std::string TransportName(const ::testing::TestParamInfo<Transport>& info) {
  return info.param == Transport::kInProcess ? "InProcess" : "Grpc";
}

class SchedulerClientTest : public ::testing::TestWithParam<Transport> {
 protected:
  std::unique_ptr<Harness> MakeHarness(const HarnessOptions& options = {}) {
    return std::make_unique<Harness>(GetParam(), options);
  }
};

TEST_P(SchedulerClientTest, TokensArriveAsTheFakeModelGeneratesThem) {
  auto h = MakeHarness();
  std::vector<Started> calls;
  // Prompts with nothing in common, so none is served from the prefix cache.
  auto prompt = [](int i) { return Prompt(20 + i, /*first=*/100 * i + 1); };
  for (int i = 0; i < 4; ++i) {
    calls.push_back(Start(h->client(), MakeRequest("r" + std::to_string(i), prompt(i), 40)));
  }
  for (int i = 0; i < 4; ++i) {
    Outcome out = Collect(calls[i]);
    EXPECT_OK(out.error);
    EXPECT_THAT(out.tokens, ElementsAreArray(FakeGenerate(prompt(i), 40)));
    ASSERT_TRUE(out.finish.has_value());
    EXPECT_EQ(out.finish->reason(), v1::FINISH_REASON_LENGTH);
    EXPECT_EQ(out.finish->usage().prompt_tokens(), 20 + i);
    EXPECT_EQ(out.finish->usage().completion_tokens(), 40);
    EXPECT_EQ(out.finish->usage().total_tokens(), 60 + i);
    EXPECT_EQ(out.cached_prompt_tokens, 0);
    EXPECT_TRUE(calls[i].call->ended());
    EXPECT_OK(calls[i].call->error());
    EXPECT_GE(calls[i].signal->count(), 1);
  }
}

TEST_P(SchedulerClientTest, CachedPromptTokensArriveInTheFirstMessage) {
  auto h = MakeHarness();
  Started first = Start(h->client(), MakeRequest("first", Prompt(40), 5));
  ASSERT_TRUE(Collect(first).finish.has_value());
  Started again = Start(h->client(), MakeRequest("again", Prompt(40), 5));
  const Outcome out = Collect(again);
  ASSERT_TRUE(out.finish.has_value());
  EXPECT_GE(out.cached_prompt_tokens, 16);  // at least the first full block
  EXPECT_EQ(out.cached_prompt_tokens, out.finish->usage().cached_prompt_tokens());
  EXPECT_THAT(out.tokens, ElementsAreArray(FakeGenerate(Prompt(40), 5)));
}

TEST_P(SchedulerClientTest, StopTokenFinishesWithStop) {
  auto h = MakeHarness();
  const std::vector<int32_t> expected = FakeGenerate(Prompt(10), 30);
  v1::SchedulerGenerateRequest r = MakeRequest("stop", Prompt(10), 30);
  r.mutable_sampling()->add_stop_token_ids(expected[7]);
  Started s = Start(h->client(), r);
  Outcome out = Collect(s);
  const std::vector<int32_t> want = FakeGenerate(Prompt(10), 30, {&expected[7], 1});
  EXPECT_THAT(out.tokens, ElementsAreArray(want));
  ASSERT_TRUE(out.finish.has_value());
  EXPECT_EQ(out.finish->reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(out.finish->stop_token_id(), expected[7]);
  EXPECT_EQ(out.finish->usage().completion_tokens(), static_cast<int32_t>(want.size()));
}

// Cancel after the first tokens (`before_any_token`: right away) with `reason`; the
// call still ends with a Finish, whose usage counts exactly the tokens received.
void ExpectCancelFinishes(Harness& h, v1::CancelReason reason, v1::FinishReason want,
                          bool before_any_token) {
  Started s = Start(h.client(), MakeRequest("c", Prompt(8), 3000));
  Outcome out;
  if (!before_any_token) {
    Consume(s, out, absl::Seconds(20), /*min_tokens=*/3);
    ASSERT_FALSE(out.finish.has_value());
  }
  s.call->Cancel(reason);
  s.call->Cancel(reason);  // a no-op
  Consume(s, out);
  EXPECT_OK(out.error);
  ASSERT_TRUE(out.finish.has_value());
  EXPECT_EQ(out.finish->reason(), want);
  EXPECT_THAT(out.tokens, SizeIs(Lt(3000)));
  EXPECT_EQ(out.finish->usage().completion_tokens(), static_cast<int32_t>(out.tokens.size()));
  const std::vector<int32_t> all = FakeGenerate(Prompt(8), out.tokens.size());
  EXPECT_THAT(out.tokens, ElementsAreArray(all));
}

TEST_P(SchedulerClientTest, CancelClientGoneFinishesCancelled) {
  auto h = MakeHarness({.step_delay = absl::Milliseconds(1)});
  ExpectCancelFinishes(*h, v1::CANCEL_REASON_CLIENT_GONE, v1::FINISH_REASON_CANCELLED, false);
}

TEST_P(SchedulerClientTest, CancelStopStringFinishesStop) {
  auto h = MakeHarness({.step_delay = absl::Milliseconds(1)});
  ExpectCancelFinishes(*h, v1::CANCEL_REASON_STOP_STRING, v1::FINISH_REASON_STOP, false);
}

TEST_P(SchedulerClientTest, CancelRightAfterGenerateStillCancels) {
  auto h = MakeHarness({.step_delay = absl::Milliseconds(1)});
  ExpectCancelFinishes(*h, v1::CANCEL_REASON_CLIENT_GONE, v1::FINISH_REASON_CANCELLED, true);
}

TEST_P(SchedulerClientTest, DuplicateIdIsRefusedAndLeavesTheFirstUntouched) {
  auto h = MakeHarness({.step_delay = absl::Milliseconds(1)});
  Started first = Start(h->client(), MakeRequest("dup", Prompt(12), 60));
  Outcome out;
  Consume(first, out, absl::Seconds(20), /*min_tokens=*/1);
  {
    Started second = Start(h->client(), MakeRequest("dup", Prompt(5), 10));
    Outcome refused = Collect(second);
    EXPECT_THAT(refused.error, StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("dup")));
    EXPECT_TRUE(refused.tokens.empty());
    EXPECT_FALSE(refused.finish.has_value());
    EXPECT_TRUE(second.call->ended());
    EXPECT_EQ(second.signal->count(), 1);
    second.call->Cancel(v1::CANCEL_REASON_CLIENT_GONE);  // cancels nothing of the first's
  }                                                      // destroyed: cancels nothing either
  Consume(first, out);
  ASSERT_TRUE(out.finish.has_value());
  EXPECT_EQ(out.finish->reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_THAT(out.tokens, ElementsAreArray(FakeGenerate(Prompt(12), 60)));
}

TEST_P(SchedulerClientTest, InvalidRequestIsRefused) {
  auto h = MakeHarness();
  Started s = Start(h->client(), MakeRequest("empty", {}, 10));
  Outcome out = Collect(s);
  EXPECT_THAT(out.error, StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_TRUE(s.call->ended());
  EXPECT_EQ(s.signal->count(), 1);
  Started bad_token = Start(h->client(), MakeRequest("vocab", {1, 5000}, 10));
  EXPECT_THAT(Collect(bad_token).error, StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST_P(SchedulerClientTest, OverloadIsRefusedWithRetryAfter) {
  auto h = MakeHarness({.max_num_seqs = 1, .max_waiting = 1, .step_delay = absl::Milliseconds(1)});
  Started running = Start(h->client(), MakeRequest("running", Prompt(4), 3000));
  Outcome out;
  Consume(running, out, absl::Seconds(20), /*min_tokens=*/1);  // admitted: nothing waits
  Started waiting = Start(h->client(), MakeRequest("waiting", Prompt(4), 10));
  // Over gRPC the two Generates could reach the engine in either order.
  EXPECT_EQ(
      WaitForStats(h->client(), [](const v1::StatsResponse& st) { return st.num_waiting() == 1; })
          .num_waiting(),
      1);
  Started refused = Start(h->client(), MakeRequest("refused", Prompt(4), 10));
  const Outcome r = Collect(refused);
  EXPECT_THAT(r.error, StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  EXPECT_GT(RetryAfterSeconds(r.error), 0);
  EXPECT_FALSE(waiting.call->ended());
  running.call.reset();  // the waiting one runs now
  const Outcome w = Collect(waiting);
  ASSERT_TRUE(w.finish.has_value());
  EXPECT_EQ(w.finish->reason(), v1::FINISH_REASON_LENGTH);
}

TEST_P(SchedulerClientTest, DestroyingARunningCallFreesItsBlocksAndSilencesOnReady) {
  auto h = MakeHarness({.step_delay = absl::Milliseconds(1)});
  ASSERT_OK_AND_ASSIGN(const v1::StatsResponse baseline, h->client().Stats(absl::Seconds(5)));
  Started s = Start(h->client(), MakeRequest("gone", Prompt(40), 3000));
  Outcome out;
  Consume(s, out, absl::Seconds(20), /*min_tokens=*/20);
  ASSERT_OK_AND_ASSIGN(const v1::StatsResponse busy, h->client().Stats(absl::Seconds(5)));
  EXPECT_EQ(busy.num_running(), 1);
  EXPECT_LT(busy.num_kv_blocks_free(), baseline.num_kv_blocks_free());
  std::shared_ptr<Signal> signal = s.signal;
  s.call.reset();
  const int64_t calls_at_destruction = signal->count();
  const v1::StatsResponse after = WaitForStats(h->client(), [&](const v1::StatsResponse& st) {
    return st.num_running() == 0 && st.num_kv_blocks_free() == baseline.num_kv_blocks_free();
  });
  EXPECT_EQ(after.num_running(), 0);
  EXPECT_EQ(after.num_kv_blocks_free(), baseline.num_kv_blocks_free());
  // The request has finished on the engine (and for gRPC the stream is torn down by
  // now, or will be while the harness shuts down): no on_ready after the destructor.
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(signal->count(), calls_at_destruction);
  h.reset();
  EXPECT_EQ(signal->count(), calls_at_destruction);
}

TEST_P(SchedulerClientTest, DestroyingCallsWhileTokensStreamNeverCallsOnReadyLate) {
  auto h = MakeHarness({.max_num_seqs = 16});
  struct Watch {
    std::atomic<bool> destroyed{false};
    std::atomic<int> late{0};
  };
  std::vector<std::shared_ptr<Watch>> watches;
  for (int i = 0; i < 30; ++i) {
    auto watch = std::make_shared<Watch>();
    watches.push_back(watch);
    auto signal = std::make_shared<Signal>();
    std::unique_ptr<router::GenerateCall> call = h->client().Generate(
        MakeRequest("churn" + std::to_string(i), Prompt(8, 10 * i), 2000), [watch, signal] {
          if (watch->destroyed.load()) watch->late.fetch_add(1);
          signal->Notify();
        });
    // Destroyed at once for some, after the first data for others: mid-stream either way.
    if (i % 2 == 1) {
      ASSERT_TRUE(signal->WaitPast(0, absl::Now() + absl::Seconds(20)));
    }
    call.reset();
    watch->destroyed.store(true);
  }
  WaitForStats(h->client(), [](const v1::StatsResponse& st) { return st.num_running() == 0; });
  h.reset();  // every stream and reactor is gone after this
  for (const auto& watch : watches) EXPECT_EQ(watch->late.load(), 0);
}

TEST_P(SchedulerClientTest, ConsumerThatNeverTakesIsBounded) {
  constexpr int kMaxTokens = 60000;
  // Steps paced so that a consumer that read would keep up with them.
  auto h = MakeHarness({.num_kv_blocks = 4000,
                        .context_length = 65536,
                        .max_unread_tokens = 8,
                        .step_delay = absl::Microseconds(50)});
  ASSERT_OK_AND_ASSIGN(const v1::StatsResponse baseline, h->client().Stats(absl::Seconds(5)));
  Started s = Start(h->client(), MakeRequest("stalled", Prompt(4), kMaxTokens));
  // Nobody takes: the engine stops the request once it holds more than 8 unread tokens
  // (over gRPC, once the stream's window is full and the server's outbox grows).
  const v1::StatsResponse after = WaitForStats(
      h->client(),
      [&](const v1::StatsResponse& st) {
        return st.num_steps() > 0 && st.num_running() == 0 &&
               st.num_kv_blocks_free() == baseline.num_kv_blocks_free();
      },
      absl::Seconds(30));
  EXPECT_EQ(after.num_running(), 0);
  // The stalled stream holds up no other on the same connection.
  // (8 tokens: never more unread than the bound, however slowly this thread takes them.)
  Started other = Start(h->client(), MakeRequest("other", Prompt(6), 8));
  EXPECT_THAT(Collect(other).tokens, ElementsAreArray(FakeGenerate(Prompt(6), 8)));
  const Outcome out = Collect(s);
  ASSERT_TRUE(out.finish.has_value());
  EXPECT_EQ(out.finish->reason(), v1::FINISH_REASON_ABORTED);
  EXPECT_EQ(out.finish->error().code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_FALSE(out.finish->error().retryable());
  EXPECT_THAT(out.tokens, ElementsAreArray(FakeGenerate(Prompt(4), out.tokens.size())));
  // In-process exactly the bound; over gRPC the bound plus at most what the stream's
  // 64 KiB window held (~7300 one-token messages; with gRPC's BDP probing on, the window
  // grows and ~30000 got through).
  const size_t bound = GetParam() == Transport::kInProcess ? 9 : 10000;
  EXPECT_LE(out.tokens.size(), bound);
  std::printf("a stream nobody read stopped after %zu tokens\n", out.tokens.size());
}

// The router's reactors hold their own lock while they Take, and take that lock in
// on_ready: a client that called on_ready under its own lock would invert the two (the
// gRPC client once did, and absl's deadlock detector aborted the router).
TEST_P(SchedulerClientTest, OnReadyMayTakeTheLockTheConsumerHoldsWhileTaking) {
  auto h = MakeHarness({.step_delay = absl::Milliseconds(1)});
  absl::Mutex consumer_mu;
  int64_t wakeups = 0;
  std::unique_ptr<router::GenerateCall> call = h->client().Generate(
      MakeRequest("locked", Prompt(8), 30), [&consumer_mu, &wakeups] {
        absl::MutexLock lock(&consumer_mu);
        ++wakeups;
      });
  std::vector<int32_t> tokens;
  bool finished = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!finished && absl::Now() < deadline) {
    absl::MutexLock lock(&consumer_mu);
    v1::SchedulerGenerateResponse r;
    while (call->Take(r)) {
      tokens.insert(tokens.end(), r.token_ids().begin(), r.token_ids().end());
      finished |= r.has_finish();
    }
    const int64_t seen = wakeups;
    auto woken = [&wakeups, seen]() { return wakeups > seen; };
    if (!finished) consumer_mu.AwaitWithTimeout(absl::Condition(&woken), absl::Milliseconds(50));
  }
  EXPECT_TRUE(finished);
  EXPECT_THAT(tokens, ElementsAreArray(FakeGenerate(Prompt(8), 30)));
  call.reset();  // must not wait on, or deadlock with, an on_ready in progress
}

TEST_P(SchedulerClientTest, StatsReportReady) {
  auto h = MakeHarness({.num_kv_blocks = 100, .context_length = 1024});
  ASSERT_OK_AND_ASSIGN(const v1::StatsResponse stats, h->client().Stats(absl::Seconds(5)));
  EXPECT_TRUE(stats.ready());
  EXPECT_TRUE(stats.healthy());
  EXPECT_EQ(stats.num_running(), 0);
  EXPECT_EQ(stats.num_kv_blocks_total(), 100);
  EXPECT_EQ(stats.kv_block_size(), 16);
  EXPECT_EQ(stats.max_model_len(), 1024);
  if (GetParam() == Transport::kInProcess) {
    EXPECT_EQ(h->client().address(), "in-process");
  } else {
    EXPECT_THAT(h->client().address(), ::testing::StartsWith("127.0.0.1:"));
  }
}

INSTANTIATE_TEST_SUITE_P(scheduler_client, SchedulerClientTest,
                         ::testing::Values(Transport::kInProcess, Transport::kGrpc), TransportName);

// A port nothing listens on: bound, then closed.
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// gRPC only.
using GrpcSchedulerClientTest = SchedulerClientTest;

TEST_P(GrpcSchedulerClientTest, UnreachableSchedulerIsUnavailable) {
  const std::string address = "127.0.0.1:" + std::to_string(UnusedPort());
  ASSERT_OK_AND_ASSIGN(auto client, router::GrpcSchedulerClient::Create(address));
  EXPECT_EQ(client->address(), address);
  Started s = Start(*client, MakeRequest("nobody", Prompt(4), 10));
  const Outcome out = Collect(s, absl::Seconds(10));
  EXPECT_THAT(out.error, StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_TRUE(s.call->ended());
  EXPECT_FALSE(out.finish.has_value());
  EXPECT_EQ(s.signal->count(), 1);

  const absl::Time start = absl::Now();
  EXPECT_THAT(client->Stats(absl::Milliseconds(100)),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_P(GrpcSchedulerClientTest, DestroyingTheClientCancelsItsLiveCalls) {
  auto h = MakeHarness({.step_delay = absl::Milliseconds(1)});
  const v1::StatsResponse baseline = h->engine().Stats();
  Started s = Start(h->client(), MakeRequest("live", Prompt(9), 3000));
  Outcome out;
  Consume(s, out, absl::Seconds(20), /*min_tokens=*/2);
  h->DestroyClient();  // returns once gRPC let go of the stream
  EXPECT_TRUE(s.call->ended());
  EXPECT_THAT(s.call->error(), StatusIs(absl::StatusCode::kCancelled, ::testing::_));
  s.call->Cancel(v1::CANCEL_REASON_CLIENT_GONE);  // the client is gone: a no-op
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (h->engine().Stats().num_kv_blocks_free() != baseline.num_kv_blocks_free() &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_EQ(h->engine().Stats().num_running(), 0);
  EXPECT_EQ(h->engine().Stats().num_kv_blocks_free(), baseline.num_kv_blocks_free());
}

TEST_P(GrpcSchedulerClientTest, EmptyAddressIsInvalid) {
  EXPECT_THAT(router::GrpcSchedulerClient::Create(""),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

INSTANTIATE_TEST_SUITE_P(scheduler_client, GrpcSchedulerClientTest,
                         ::testing::Values(Transport::kGrpc), TransportName);

}  // namespace
}  // namespace shoal::testing
