// The scheduling policy (scheduler/scheduler.h) driven step by step against the fake
// worker (fake_worker.h): a per-step table of what runs, the token budget and decode
// priority under random load, preemption and resumption giving the tokens of an
// uninterrupted run, cancellation freeing blocks, arrival order (tenant fairness is the
// router's) and priorities.
#include "scheduler/scheduler.h"

#include <algorithm>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/step_messages.h"
#include "tests/scheduler/fake_worker.h"
#include "tests/support/status_matchers.h"

namespace shoal::scheduler {
namespace {

using ::testing::ElementsAre;
using testing::FakeGenerate;
using testing::FakeWorker;
using ::testing::Pair;

struct Harness {
  Harness(SchedulerConfig config, int64_t num_blocks, int64_t block_size = 4,
          bool prefix_caching = true)
      : worker(num_blocks, block_size) {
    auto made = KvCacheManager::Create({.num_blocks = num_blocks,
                                        .block_size = block_size,
                                        .enable_prefix_caching = prefix_caching,
                                        .model_key = "fake"});
    EXPECT_TRUE(made.ok());
    kv = std::move(*made);
    if (config.max_model_len == 0) config.max_model_len = 4096;
    scheduler = std::make_unique<Scheduler>(config, *kv);
  }

  void Add(const std::string& id, std::vector<int32_t> prompt, int64_t max_tokens,
           int32_t priority = 0, const std::string& tenant = "") {
    auto r = std::make_unique<Request>();
    r->id = id;
    r->prompt_token_ids = prompt;
    r->all_token_ids = std::move(prompt);
    r->max_tokens = max_tokens;
    r->priority = priority;
    r->tenant = tenant;
    ASSERT_OK(scheduler->AddRequest(std::move(r)));
  }

  // One step end to end; returns what was scheduled, as (id, tokens) pairs.
  std::vector<std::pair<std::string, int64_t>> Step() {
    SchedulerOutput out = scheduler->Schedule();
    last_preempted = out.preempted.size();
    std::vector<std::pair<std::string, int64_t>> table;
    for (const ScheduledRequest& s : out.scheduled)
      table.emplace_back(s.request->id, s.num_new_tokens);
    EXPECT_LE(out.num_scheduled_tokens, scheduler->config().max_num_batched_tokens);
    v1::StepRequest request;
    BuildStepRequest(out, forget, ++step_id, request);
    forget.clear();
    const v1::StepResult result = worker.Step(request);
    EXPECT_EQ(result.error_message(), "");
    std::vector<int32_t> tokens;
    EXPECT_OK(CollectSampledTokens(out, result, tokens));
    for (FinishedRequest& f : scheduler->UpdateFromOutput(out, tokens)) {
      if (f.was_on_workers) forget.push_back(f.request->sequence_id);
      outputs[f.request->id] = f.request->output_token_ids;
      statuses[f.request->id] = f.request->status;
    }
    return table;
  }

  void RunToCompletion(int max_steps = 10000) {
    for (int i = 0; i < max_steps && (scheduler->num_running() + scheduler->num_waiting()) > 0;
         ++i) {
      Step();
    }
    ASSERT_EQ(scheduler->num_running() + scheduler->num_waiting(), 0);
  }

  FakeWorker worker;
  std::unique_ptr<KvCacheManager> kv;
  std::unique_ptr<Scheduler> scheduler;
  std::vector<uint64_t> forget;
  uint64_t step_id = 0;
  size_t last_preempted = 0;
  std::map<std::string, std::vector<int32_t>> outputs;
  std::map<std::string, RequestStatus> statuses;
};

std::vector<int32_t> Prompt(int n, int32_t seed) {
  std::vector<int32_t> p(n);
  for (int i = 0; i < n; ++i) p[i] = (seed * 7919 + i * 104729) % testing::kFakeVocab;
  return p;
}

TEST(SchedulerTest, PerStepTableOfChunkedPrefillAndDecode) {
  // Budget 8 tokens. "a" (10-token prompt) is chunked 8 + 2; "b" (3 tokens) joins as
  // soon as the budget allows; decodes (1 token each) are scheduled before prefills.
  Harness h({.max_num_batched_tokens = 8, .max_num_seqs = 4}, 32);
  h.Add("a", Prompt(10, 1), 3);
  h.Add("b", Prompt(3, 2), 2);
  EXPECT_THAT(h.Step(), ElementsAre(Pair("a", 8)));
  EXPECT_THAT(h.Step(), ElementsAre(Pair("a", 2), Pair("b", 3)));
  EXPECT_THAT(h.Step(), ElementsAre(Pair("a", 1), Pair("b", 1)));
  EXPECT_THAT(h.Step(), ElementsAre(Pair("a", 1)));  // b finished with its 2 tokens
  EXPECT_EQ(h.scheduler->num_running(), 0);
  EXPECT_EQ(h.outputs["a"], FakeGenerate(Prompt(10, 1), 3));
  EXPECT_EQ(h.outputs["b"], FakeGenerate(Prompt(3, 2), 2));
  EXPECT_EQ(h.statuses["a"], RequestStatus::kFinishedLength);
}

TEST(SchedulerTest, LongPrefillThresholdKeepsDecodesFlowing) {
  Harness h({.max_num_batched_tokens = 64, .max_num_seqs = 4, .long_prefill_token_threshold = 8},
            64);
  h.Add("short", Prompt(2, 3), 20);
  h.Step();  // short's prefill
  h.Add("long", Prompt(100, 4), 1);
  for (int i = 0; i < 12; ++i) {
    const auto table = h.Step();
    ASSERT_FALSE(table.empty());
    EXPECT_EQ(table[0], std::make_pair(std::string("short"), int64_t{1})) << "step " << i;
    if (table.size() > 1) {
      EXPECT_LE(table[1].second, 8);
    }
  }
}

TEST(SchedulerTest, RandomLoadNeverExceedsTheBudgetAndNeverStarvesADecode) {
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    const int64_t budget = 4 + rng() % 60;
    Harness h({.max_num_batched_tokens = budget, .max_num_seqs = 1 + int64_t(rng() % 8)},
              64 + rng() % 64);
    std::map<std::string, std::pair<std::vector<int32_t>, int64_t>> expected;
    for (int i = 0; i < 30; ++i) {
      const std::string id = "r" + std::to_string(i);
      const std::vector<int32_t> prompt = Prompt(1 + rng() % 40, int32_t(seed * 100 + i));
      const int64_t max_tokens = 1 + rng() % 20;
      h.Add(id, prompt, max_tokens);
      expected[id] = {prompt, max_tokens};
    }
    for (int step = 0; step < 5000 && h.scheduler->num_running() + h.scheduler->num_waiting() > 0;
         ++step) {
      // Every running request that is decoding (one token to run) must be scheduled
      // unless memory forced a preemption.
      std::vector<std::string> decoding;
      for (Request* r : h.scheduler->running()) {
        if (r->num_tokens() - r->num_computed_tokens == 1) decoding.push_back(r->id);
      }
      const auto table = h.Step();
      if (h.last_preempted == 0 && static_cast<int64_t>(decoding.size()) <= budget) {
        for (const std::string& id : decoding) {
          EXPECT_TRUE(
              std::any_of(table.begin(), table.end(), [&](const auto& e) { return e.first == id; }))
              << id << " starved at step " << step;
        }
      }
    }
    ASSERT_EQ(h.scheduler->num_running() + h.scheduler->num_waiting(), 0);
    for (const auto& [id, e] : expected) {
      EXPECT_EQ(h.outputs[id], FakeGenerate(e.first, e.second)) << id;
    }
    EXPECT_EQ(h.kv->num_free_blocks(), h.kv->num_blocks());
  }
}

TEST(SchedulerTest, PreemptionAndRecomputeGiveTheUninterruptedTokens) {
  // 12 blocks of 4 tokens cannot hold three requests growing to 30 tokens each.
  Harness h({.max_num_batched_tokens = 32, .max_num_seqs = 8}, 12);
  h.Add("a", Prompt(10, 1), 20);
  h.Add("b", Prompt(9, 2), 20);
  h.Add("c", Prompt(11, 3), 20);
  int preemptions = 0;
  for (int i = 0; i < 500 && h.scheduler->num_running() + h.scheduler->num_waiting() > 0; ++i) {
    h.Step();
    preemptions += h.last_preempted;
  }
  EXPECT_GT(preemptions, 0) << "the test must exercise preemption";
  EXPECT_EQ(h.outputs["a"], FakeGenerate(Prompt(10, 1), 20));
  EXPECT_EQ(h.outputs["b"], FakeGenerate(Prompt(9, 2), 20));
  EXPECT_EQ(h.outputs["c"], FakeGenerate(Prompt(11, 3), 20));
  h.Step();  // an empty step carries the last forget
  EXPECT_EQ(h.worker.num_sequences(), 0) << "finished sequences are forgotten";
}

TEST(SchedulerTest, BlocksOfTokensGivenBackInTheirStepAreNeverCacheHits) {
  // 8 blocks of 4 tokens; prefill chunks of 8 tokens (2 blocks).
  Harness h({.max_num_batched_tokens = 64, .max_num_seqs = 8, .long_prefill_token_threshold = 8},
            8);
  h.Add("a", Prompt(24, 1), 3, /*priority=*/1);
  EXPECT_THAT(h.Step(), ElementsAre(Pair("a", 8)));
  h.Add("b", Prompt(12, 2), 1, /*priority=*/0);
  EXPECT_THAT(h.Step(), ElementsAre(Pair("a", 8), Pair("b", 8)));
  // "a" takes the last two blocks for [16, 24); "b" then needs one for [8, 12), and
  // the worst request, "a", gives its chunk back and is preempted.
  EXPECT_THAT(h.Step(), ElementsAre(Pair("b", 4)));
  EXPECT_EQ(h.last_preempted, 1u);
  ASSERT_EQ(h.statuses["b"], RequestStatus::kFinishedLength);
  // "a" resumes on its cached prefix: only the blocks it computed, [0, 16).
  EXPECT_THAT(h.Step(), ElementsAre(Pair("a", 8)));
  h.RunToCompletion();
  EXPECT_EQ(h.outputs["a"], FakeGenerate(Prompt(24, 1), 3));
  EXPECT_EQ(h.outputs["b"], FakeGenerate(Prompt(12, 2), 1));
}

// A request scheduled earlier in a step than a better-priority one can be preempted
// later in the same step and give its tokens back. Blocks it filled only on paper must
// not become prefix-cache hits: any request (or the victim itself, on resume) that
// hits them would be computed on KV that was never written.
TEST(SchedulerTest, MixedPrioritiesAndTenantsUnderKvPressureGiveTheUnloadedTokens) {
  int64_t preemptions = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    Harness h({.max_num_batched_tokens = 8 + int64_t(rng() % 24),
               .max_num_seqs = 2 + int64_t(rng() % 5),
               .long_prefill_token_threshold = 4 + int64_t(rng() % 3) * 4},
              12 + rng() % 10);
    const std::vector<int32_t> shared = Prompt(6, int32_t(seed));
    std::map<std::string, std::pair<std::vector<int32_t>, int64_t>> expected;
    int next = 0;
    for (int step = 0; step < 5000; ++step) {
      // Requests arrive over the first steps, so running order differs from priority.
      if (next < 16 && rng() % 2 == 0) {
        const std::string id = "r" + std::to_string(next);
        std::vector<int32_t> prompt = rng() % 2 ? shared : std::vector<int32_t>{};
        const std::vector<int32_t> tail = Prompt(1 + rng() % 24, int32_t(seed * 100 + next));
        prompt.insert(prompt.end(), tail.begin(), tail.end());
        const int64_t max_tokens = 4 + rng() % 12;
        h.Add(id, prompt, max_tokens, /*priority=*/int32_t(rng() % 3) - 1,
              /*tenant=*/rng() % 2 ? "t1" : "t2");
        expected[id] = {prompt, max_tokens};
        ++next;
      }
      if (next == 16 && h.scheduler->num_running() + h.scheduler->num_waiting() == 0) break;
      h.Step();
      preemptions += h.last_preempted;
    }
    ASSERT_EQ(h.scheduler->num_running() + h.scheduler->num_waiting(), 0);
    for (const auto& [id, e] : expected) {
      EXPECT_EQ(h.outputs[id], FakeGenerate(e.first, e.second)) << id;
    }
  }
  EXPECT_GT(preemptions, 100) << "the test must exercise preemption";
}

TEST(SchedulerTest, TheNewestRequestIsPreemptedAndWaitsAtItsOldPlace) {
  Harness h({.max_num_batched_tokens = 64, .max_num_seqs = 8}, 6);
  h.Add("old", Prompt(8, 1), 100);
  h.Add("new", Prompt(8, 2), 100);
  h.Step();  // both prefilled: 4 blocks of 6
  for (int i = 0; i < 8 && h.last_preempted == 0; ++i) h.Step();
  ASSERT_EQ(h.last_preempted, 1u);
  ASSERT_NE(h.scheduler->Find("new"), nullptr);
  EXPECT_EQ(h.scheduler->Find("new")->status, RequestStatus::kPreempted);
  EXPECT_EQ(h.scheduler->Find("old")->status, RequestStatus::kRunning);
  EXPECT_EQ(h.scheduler->num_preempted_waiting(), 1);
}

TEST(SchedulerTest, CancellationFreesBlocksAndForgetsTheSequence) {
  Harness h({.max_num_batched_tokens = 64, .max_num_seqs = 8}, 16, 4, /*prefix_caching=*/false);
  h.Add("a", Prompt(10, 1), 50);
  h.Add("b", Prompt(5, 2), 50);
  h.Step();
  h.Step();
  EXPECT_LT(h.kv->num_free_blocks(), 16);
  ASSERT_OK_AND_ASSIGN(FinishedRequest a, h.scheduler->AbortRequest("a"));
  EXPECT_EQ(a.request->status, RequestStatus::kFinishedCancelled);
  EXPECT_TRUE(a.was_on_workers);
  h.forget.push_back(a.request->sequence_id);
  ASSERT_OK_AND_ASSIGN(FinishedRequest b, h.scheduler->AbortRequest("b"));
  h.forget.push_back(b.request->sequence_id);
  EXPECT_EQ(h.kv->num_free_blocks(), 16);
  h.Step();
  EXPECT_EQ(h.worker.num_sequences(), 0);
  EXPECT_THAT(h.scheduler->AbortRequest("a"),
              ::shoal::testing::StatusIs(absl::StatusCode::kNotFound, ::testing::HasSubstr("'a'")));
}

TEST(SchedulerTest, SharedPrefixIsComputedOnce) {
  Harness h({.max_num_batched_tokens = 256, .max_num_seqs = 8}, 64);
  std::vector<int32_t> system = Prompt(40, 9);
  std::vector<int32_t> p1 = system, p2 = system;
  p1.push_back(1);
  p2.push_back(2);
  h.Add("first", p1, 2);
  h.RunToCompletion();
  const int64_t before = h.worker.tokens_computed();
  h.Add("second", p2, 2);
  h.RunToCompletion();
  // 40 shared tokens = 10 full blocks cached; "second" computes its last token and the
  // decode step only.
  EXPECT_EQ(h.worker.tokens_computed() - before, 1 + 1);
  EXPECT_EQ(h.outputs["second"], FakeGenerate(p2, 2));
  EXPECT_EQ(h.kv->prefix_hit_tokens(), 40);
}

// Requests that arrive together behind one long shared prefix (agents with one system
// prompt): the first computes it, the others wait a step for its blocks instead of
// computing the same KV in the same step, then start past it.
TEST(SchedulerTest, ASharedPrefixInFlightIsComputedOnceForRequestsArrivingTogether) {
  Harness h({.max_num_batched_tokens = 256, .max_num_seqs = 8}, 128);
  const std::vector<int32_t> system = Prompt(40, 9);  // 10 blocks of 4
  for (int i = 0; i < 3; ++i) {
    std::vector<int32_t> prompt = system;
    prompt.insert(prompt.end(), {100 + i, 200 + i, 300 + i});
    h.Add("agent" + std::to_string(i), prompt, 2);
  }
  // Step 1: the budget could hold all three prompts (43 tokens each), yet only the
  // first runs: the others' next block is one it is computing.
  EXPECT_THAT(h.Step(), ElementsAre(Pair("agent0", 43)));
  // Step 2: they start past the 40 cached tokens.
  EXPECT_THAT(h.Step(), ElementsAre(Pair("agent0", 1), Pair("agent1", 3), Pair("agent2", 3)));
  h.RunToCompletion();
  EXPECT_EQ(h.kv->prefix_hit_tokens(), 80);
  for (int i = 0; i < 3; ++i) {
    std::vector<int32_t> prompt = system;
    prompt.insert(prompt.end(), {100 + i, 200 + i, 300 + i});
    EXPECT_EQ(h.outputs["agent" + std::to_string(i)], FakeGenerate(prompt, 2));
  }
}

TEST(SchedulerTest, WithoutPrefixCachingNothingWaitsForBlocksInFlight) {
  Harness h({.max_num_batched_tokens = 256, .max_num_seqs = 8}, 128, 4,
            /*prefix_caching=*/false);
  h.Add("a", Prompt(40, 9), 2);
  h.Add("b", Prompt(40, 9), 2);
  EXPECT_THAT(h.Step(), ElementsAre(Pair("a", 40), Pair("b", 40)));
}

// Fairness between tenants is the router's (its fair queue decides what reaches the
// scheduler): here requests run in arrival order whatever their tenant.
TEST(SchedulerTest, WaitingRequestsRunInArrivalOrderWhateverTheirTenant) {
  Harness h({.max_num_batched_tokens = 64, .max_num_seqs = 1}, 128);
  h.Add("flood0", Prompt(4, 0), 2, 0, "flood");
  h.Add("flood1", Prompt(4, 1), 2, 0, "flood");
  h.Add("other", Prompt(4, 99), 2, 0, "other");
  std::vector<std::string> started;
  for (int step = 0; step < 20 && h.outputs.size() < 3; ++step) {
    for (const auto& [id, tokens] : h.Step()) {
      if (std::find(started.begin(), started.end(), id) == started.end()) started.push_back(id);
    }
  }
  EXPECT_THAT(started, ElementsAre("flood0", "flood1", "other"));
}

// Under KV pressure a more urgent waiting request preempts a less urgent running one
// (which is recomputed later), and both still produce their unloaded tokens.
TEST(SchedulerTest, AnUrgentRequestPreemptsALessUrgentOneForBlocks) {
  Harness h({.max_num_batched_tokens = 64, .max_num_seqs = 8}, 8);  // 8 blocks of 4
  const std::vector<int32_t> low = Prompt(16, 1), high = Prompt(16, 2);
  h.Add("low", low, 12, /*priority=*/5);
  h.Step();
  h.Step();  // low holds 5 of the 8 blocks now
  h.Add("high", high, 4, /*priority=*/-1);
  const auto table = h.Step();
  EXPECT_EQ(h.last_preempted, 1u);
  EXPECT_THAT(table, ElementsAre(Pair("high", 16)));  // 4 blocks: 3 were free
  EXPECT_EQ(h.scheduler->Find("low")->status, RequestStatus::kPreempted);
  h.RunToCompletion();
  EXPECT_EQ(h.outputs["high"], FakeGenerate(high, 4));
  EXPECT_EQ(h.outputs["low"], FakeGenerate(low, 12));
}

TEST(SchedulerTest, AnUrgentRequestPreemptsALessUrgentOneForASlot) {
  Harness h({.max_num_batched_tokens = 64, .max_num_seqs = 1}, 64);
  h.Add("low", Prompt(4, 1), 20, /*priority=*/0);
  h.Step();
  h.Add("same", Prompt(4, 3), 2, /*priority=*/0);  // as urgent: it waits
  h.Add("high", Prompt(4, 2), 2, /*priority=*/-1);
  EXPECT_THAT(h.Step(), ElementsAre(Pair("high", 4)));
  EXPECT_EQ(h.scheduler->Find("low")->status, RequestStatus::kPreempted);
  EXPECT_EQ(h.scheduler->Find("same")->status, RequestStatus::kWaiting);
  h.RunToCompletion();
  EXPECT_EQ(h.outputs["low"], FakeGenerate(Prompt(4, 1), 20));
  EXPECT_EQ(h.outputs["high"], FakeGenerate(Prompt(4, 2), 2));
}

TEST(SchedulerTest, LowerPriorityValuesRunFirst) {
  Harness h({.max_num_batched_tokens = 64, .max_num_seqs = 1}, 64);
  h.Add("background", Prompt(4, 1), 3, /*priority=*/5);
  h.Add("urgent", Prompt(4, 2), 3, /*priority=*/-1);
  EXPECT_THAT(h.Step(), ElementsAre(Pair("urgent", 4)));
}

// The waiting bound is the engine's, at submission: the scheduler takes every request
// it is handed (one refused here would fail after its caller was told it was accepted).
TEST(SchedulerTest, DuplicateIdsAreRefusedAndEveryOtherRequestIsTaken) {
  Harness h({.max_num_batched_tokens = 8, .max_num_seqs = 1}, 8);
  h.Add("a", Prompt(2, 1), 1);
  auto dup = std::make_unique<Request>();
  dup->id = "a";
  dup->all_token_ids = dup->prompt_token_ids = {1};
  EXPECT_THAT(h.scheduler->AddRequest(std::move(dup)),
              ::shoal::testing::StatusIs(absl::StatusCode::kAlreadyExists, ::testing::_));
  h.Add("b", Prompt(2, 2), 1);
  h.Add("c", Prompt(2, 3), 1);
  EXPECT_EQ(h.scheduler->num_waiting(), 3);
  h.RunToCompletion();
  EXPECT_EQ(h.outputs["c"], FakeGenerate(Prompt(2, 3), 1));
}

}  // namespace
}  // namespace shoal::scheduler
