// The engine core (scheduler/engine_core.h) on its own thread with a real in-process
// CPU worker on a random-weight model: concurrent requests give exactly the tokens each
// gives alone (greedy), with and without the prefix cache, also when a tiny KV cache
// forces preemptions; shared prefixes are served from the prefix cache; cancellation
// frees blocks and is scoped to the caller's own request; overload is refused at
// Submit; a sequence that cannot be sampled fails alone; a failed worker aborts every
// request retryably and marks the replica unhealthy; a stream nobody reads is bounded.
#include "scheduler/engine_core.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "absl/synchronization/notification.h"
#include "inprocess/in_process_worker_client.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/gguf/gguf_file.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"

namespace shoal::scheduler {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

// Passes steps through to a real worker until `die` is notified, then reports a
// transport failure, as a worker process that died would.
class FailingWorker final : public WorkerClient {
 public:
  FailingWorker(std::unique_ptr<WorkerClient> inner, absl::Notification* die)
      : inner_(std::move(inner)), die_(die) {}
  absl::StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request) override {
    return inner_->Register(request);
  }
  absl::Status Step(const v1::StepRequest& request, v1::StepResult& result) override {
    if (die_->HasBeenNotified()) return absl::UnavailableError("the worker died");
    return inner_->Step(request, result);
  }

 private:
  std::unique_ptr<WorkerClient> inner_;
  absl::Notification* die_;
};

struct Engine {
  prometheus::Registry registry;  // outlives the core, whose metrics live in it
  std::unique_ptr<EngineCore> core;
  int32_t vocab = 0;
};

struct EngineOptions {
  std::string model_path;
  int64_t max_kv_blocks = 64;
  SchedulerConfig scheduler = {};
  bool prefix_caching = true;
  int64_t max_unread_tokens = 4096;
  int64_t max_waiting = 4096;
  absl::Notification* kill_worker = nullptr;  // set: the worker fails once it is notified
};

std::unique_ptr<Engine> MakeEngine(const EngineOptions& options) {
  auto engine = std::make_unique<Engine>();
  std::unique_ptr<WorkerClient> worker = std::make_unique<inprocess::InProcessWorkerClient>(
      worker::EngineOptions{.threads = 2, .kv = {.type = kernels::KvType::kF32}});
  if (options.kill_worker != nullptr) {
    worker = std::make_unique<FailingWorker>(std::move(worker), options.kill_worker);
  }
  v1::RegisterRequest reg;
  reg.set_model_path(options.model_path);
  reg.set_world_size(1);
  reg.set_kv_block_size(16);
  reg.set_max_kv_blocks(options.max_kv_blocks);
  auto registered = worker->Register(reg);
  EXPECT_TRUE(registered.ok()) << registered.status();
  EngineCoreConfig config{.scheduler = options.scheduler,
                          .block_size = 16,
                          .enable_prefix_caching = options.prefix_caching,
                          .max_waiting = options.max_waiting,
                          .max_unread_tokens = options.max_unread_tokens};
  EXPECT_OK(config.SetFromRegistration(*registered));
  engine->vocab = config.limits.vocab_size;
  auto core = EngineCore::Create(config, std::move(worker), engine->registry);
  EXPECT_TRUE(core.ok()) << core.status();
  engine->core = std::move(*core);
  return engine;
}

std::unique_ptr<Engine> MakeEngine(const std::string& arch, int64_t max_kv_blocks,
                                   SchedulerConfig scheduler = {}, bool prefix_caching = true) {
  return MakeEngine({.model_path = ::shoal::testing::TestModelPath(arch, "f32"),
                     .max_kv_blocks = max_kv_blocks,
                     .scheduler = scheduler,
                     .prefix_caching = prefix_caching});
}

v1::SchedulerGenerateRequest Greedy(const std::string& id, std::vector<int32_t> prompt,
                                    int max_tokens) {
  v1::SchedulerGenerateRequest r;
  r.set_request_id(id);
  r.mutable_prompt_token_ids()->Add(prompt.begin(), prompt.end());
  r.mutable_sampling()->set_temperature(0);
  r.mutable_sampling()->set_max_tokens(max_tokens);
  r.mutable_sampling()->set_ignore_eos(true);
  return r;
}

struct Outcome {
  std::vector<int32_t> tokens;
  std::vector<v1::TokenLogprob> logprobs;
  v1::SchedulerGenerateResponse::Finish finish;
  int32_t cached_prompt_tokens = -1;
};

Outcome Collect(RequestStream& stream) {
  Outcome out;
  v1::SchedulerGenerateResponse msg;
  for (int i = 0; i < 100000; ++i) {
    stream.WaitForData();
    if (!stream.TakePending(msg)) continue;
    if (out.cached_prompt_tokens < 0) out.cached_prompt_tokens = msg.cached_prompt_tokens();
    out.tokens.insert(out.tokens.end(), msg.token_ids().begin(), msg.token_ids().end());
    out.logprobs.insert(out.logprobs.end(), msg.logprobs().begin(), msg.logprobs().end());
    if (msg.has_finish()) {
      out.finish = msg.finish();
      return out;
    }
  }
  ADD_FAILURE() << "the stream never finished";
  return out;
}

Outcome RunAlone(EngineCore& core, const v1::SchedulerGenerateRequest& r) {
  auto stream = core.Submit(r);
  EXPECT_TRUE(stream.ok()) << stream.status();
  return Collect(**stream);
}

std::vector<int32_t> RandomPrompt(std::mt19937& rng, int n, int32_t vocab) {
  std::vector<int32_t> p(n);
  for (int32_t& t : p) t = static_cast<int32_t>(rng() % vocab);
  return p;
}

void ExpectConcurrentEqualsAlone(const std::string& arch, int64_t max_kv_blocks,
                                 SchedulerConfig scheduler, bool expect_preemption,
                                 bool prefix_caching = true) {
  auto engine = MakeEngine(arch, max_kv_blocks, scheduler, prefix_caching);
  std::mt19937 rng(5);
  std::vector<v1::SchedulerGenerateRequest> requests;
  for (int i = 0; i < 32; ++i) {
    requests.push_back(Greedy("r" + std::to_string(i),
                              RandomPrompt(rng, 1 + rng() % 60, engine->vocab), 4 + rng() % 16));
  }
  std::vector<Outcome> alone;
  for (const auto& r : requests) alone.push_back(RunAlone(*engine->core, r));
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (auto r : requests) {
    r.set_request_id(r.request_id() + "-batched");
    ASSERT_OK_AND_ASSIGN(auto s, engine->core->Submit(r));
    streams.push_back(s);
  }
  int preemptions = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const Outcome batched = Collect(*streams[i]);
    EXPECT_EQ(batched.tokens, alone[i].tokens) << requests[i].request_id();
    EXPECT_EQ(batched.finish.reason(), v1::FINISH_REASON_LENGTH) << batched.finish.error().message();
    EXPECT_EQ(batched.finish.usage().completion_tokens(), requests[i].sampling().max_tokens());
    preemptions += batched.finish.num_preemptions();
  }
  if (expect_preemption) {
    EXPECT_GT(preemptions, 0);
  }
  const v1::StatsResponse stats = engine->core->Stats();
  EXPECT_EQ(stats.num_running() + stats.num_waiting(), 0);
  EXPECT_EQ(stats.num_kv_blocks_free(), stats.num_kv_blocks_total());
}

TEST(EngineCoreTest, ConcurrentRequestsGiveTheTokensEachGivesAlone) {
  for (const char* arch : {"llama", "qwen3moe", "gemma3"}) {
    SCOPED_TRACE(arch);
    ExpectConcurrentEqualsAlone(arch, 512, {.max_num_batched_tokens = 96, .max_num_seqs = 32},
                                false);
  }
}

// The batched run would reuse the alone runs' cached prompts; without the prefix cache
// every batched token is computed in a batch.
TEST(EngineCoreTest, ConcurrentRequestsGiveTheTokensEachGivesAloneWithoutThePrefixCache) {
  for (const char* arch : {"llama", "qwen3moe", "gemma3"}) {
    SCOPED_TRACE(arch);
    ExpectConcurrentEqualsAlone(arch, 512, {.max_num_batched_tokens = 96, .max_num_seqs = 32},
                                false, /*prefix_caching=*/false);
  }
}

TEST(EngineCoreTest, PreemptionUnderATinyKvCacheStillGivesTheSameTokens) {
  // 12 blocks of 16 tokens for 32 requests of up to 80 tokens each.
  ExpectConcurrentEqualsAlone("qwen3", 12, {.max_num_batched_tokens = 64, .max_num_seqs = 32},
                              true);
  ExpectConcurrentEqualsAlone("qwen3", 12, {.max_num_batched_tokens = 64, .max_num_seqs = 32},
                              true, /*prefix_caching=*/false);
}

TEST(EngineCoreTest, ASharedPrefixIsServedFromThePrefixCache) {
  auto engine = MakeEngine("llama", 256);
  std::mt19937 rng(9);
  const std::vector<int32_t> system = RandomPrompt(rng, 100, engine->vocab);
  std::vector<int32_t> a = system, b = system;
  a.push_back(1);
  b.push_back(2);
  const Outcome first = RunAlone(*engine->core, Greedy("a", a, 3));
  EXPECT_EQ(first.cached_prompt_tokens, 0);
  const Outcome second = RunAlone(*engine->core, Greedy("b", b, 3));
  EXPECT_EQ(second.cached_prompt_tokens, 96) << "6 full blocks of the 100 shared tokens";
  EXPECT_EQ(second.finish.usage().cached_prompt_tokens(), 96);
  const v1::StatsResponse stats = engine->core->Stats();
  EXPECT_EQ(stats.prefix_cache_hit_tokens(), 96);
  EXPECT_EQ(stats.prefix_cache_queried_tokens(), 202);
}

TEST(EngineCoreTest, CancellationFreesTheBlocksWithinAStep) {
  auto engine = MakeEngine("llama", 64);
  ASSERT_OK_AND_ASSIGN(auto stream, engine->core->Submit(Greedy("long", {5, 6, 7}, 1000)));
  v1::SchedulerGenerateResponse msg;
  stream->WaitForData();
  ASSERT_TRUE(stream->TakePending(msg));
  ASSERT_OK(engine->core->Cancel("long"));
  const Outcome rest = Collect(*stream);
  EXPECT_EQ(rest.finish.reason(), v1::FINISH_REASON_CANCELLED);
  EXPECT_LT(rest.finish.usage().completion_tokens(), 1000);
  for (int i = 0; i < 200 && engine->core->Stats().num_kv_blocks_free() != 64; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(engine->core->Stats().num_kv_blocks_free(), 64);
  EXPECT_THAT(engine->core->Cancel("long"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("long")));
}

TEST(EngineCoreTest, BadRequestsAreClearErrors) {
  auto engine = MakeEngine("llama", 64);
  EngineCore& core = *engine->core;
  EXPECT_THAT(core.Submit(Greedy("empty", {}, 3)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(core.Submit(Greedy("zero", {1}, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_tokens must be >= 1")));
  EXPECT_THAT(core.Submit(Greedy("huge", {1}, 1 << 30)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exceed")));
  EXPECT_THAT(core.Submit(Greedy("long", std::vector<int32_t>(core.max_model_len(), 1), 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("context")));
  EXPECT_THAT(core.Submit(Greedy("vocab", {engine->vocab}, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outside the vocabulary")));
  auto bad = Greedy("temp", {1}, 1);
  bad.mutable_sampling()->set_temperature(-1);
  EXPECT_THAT(core.Submit(bad), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("temperature")));
  bad = Greedy("top_p", {1}, 1);
  bad.mutable_sampling()->set_top_p(0);
  EXPECT_THAT(core.Submit(bad), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("top_p")));
  EXPECT_THAT(core.Submit(Greedy("", {1}, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  ASSERT_OK_AND_ASSIGN(auto stream, core.Submit(Greedy("dup", {1, 2}, 50)));
  EXPECT_THAT(core.Submit(Greedy("dup", {1, 2}, 5)),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("dup")));
  Collect(*stream);
  EXPECT_THAT(core.Cancel("nobody"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nobody")));
}

TEST(EngineCoreTest, DrainAbortsWhatIsLeftRetryablyAndRefusesNewWork) {
  auto engine = MakeEngine("llama", 64);
  ASSERT_OK_AND_ASSIGN(auto stream, engine->core->Submit(Greedy("x", {1, 2, 3}, 1000)));
  engine->core->Drain(absl::Milliseconds(50));
  const Outcome out = Collect(*stream);
  EXPECT_EQ(out.finish.reason(), v1::FINISH_REASON_ABORTED) << "the server ended it, not the client";
  EXPECT_EQ(out.finish.error().code(), static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(out.finish.error().retryable());
  EXPECT_THAT(engine->core->Submit(Greedy("y", {1}, 1)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shutting down")));
}

// Under KV pressure few requests run, so requests wait; beyond max_waiting, Submit
// refuses with a retry-after, and every request it accepted finishes normally.
TEST(EngineCoreTest, OverloadIsRefusedAtSubmitAndNeverFailsAnAcceptedRequest) {
  auto engine = MakeEngine({.model_path = ::shoal::testing::TestModelPath("llama", "f32"),
                            .max_kv_blocks = 12,
                            .scheduler = {.max_num_seqs = 32},
                            .max_waiting = 3});
  std::mt19937 rng(3);
  std::vector<std::shared_ptr<RequestStream>> accepted;
  int refused = 0;
  for (int i = 0; i < 24; ++i) {
    absl::StatusOr<std::shared_ptr<RequestStream>> stream = engine->core->Submit(
        Greedy("r" + std::to_string(i), RandomPrompt(rng, 40, engine->vocab), 60));
    if (stream.ok()) {
      accepted.push_back(*stream);
      continue;
    }
    EXPECT_THAT(stream.status(), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("waiting")));
    EXPECT_GE(RetryAfterSeconds(stream.status()), 1);
    ++refused;
  }
  EXPECT_GT(refused, 0) << "the test must overload the scheduler";
  for (const auto& stream : accepted) {
    const Outcome out = Collect(*stream);
    EXPECT_EQ(out.finish.reason(), v1::FINISH_REASON_LENGTH) << out.finish.error().message();
    EXPECT_EQ(out.tokens.size(), 60u);
  }
}

// A copy of the f32 llama test model whose embedding row of `token` is NaN: every
// sequence holding that token gets logits with no finite value.
std::string ModelWithNanToken(int32_t token) {
  const std::string source = ::shoal::testing::TestModelPath("llama", "f32");
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "llama-f32-nan-token.gguf").string();
  auto gguf = model::GgufFile::Open(source);
  EXPECT_TRUE(gguf.ok()) << gguf.status();
  const model::GgufTensorInfo* embd = (*gguf)->FindTensor("token_embd.weight");
  EXPECT_NE(embd, nullptr);
  EXPECT_EQ(embd->type, GgmlType::kF32);
  std::filesystem::copy_file(source, path, std::filesystem::copy_options::overwrite_existing);
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(static_cast<std::streamoff>((*gguf)->data_offset() + embd->offset +
                                         token * embd->row_bytes()));
  const std::vector<float> nan_row(embd->ne[0], std::nanf(""));
  file.write(reinterpret_cast<const char*>(nan_row.data()),
             static_cast<std::streamsize>(nan_row.size() * sizeof(float)));
  EXPECT_TRUE(file.good());
  return path;
}

TEST(EngineCoreTest, ASequenceThatCannotBeSampledFailsAlone) {
  constexpr int32_t kPoison = 77;
  auto engine = MakeEngine({.model_path = ModelWithNanToken(kPoison), .max_kv_blocks = 64});
  const v1::SchedulerGenerateRequest good = Greedy("good", {5, 6, 7, 8}, 12);
  const Outcome alone = RunAlone(*engine->core, good);
  ASSERT_EQ(alone.finish.reason(), v1::FINISH_REASON_LENGTH);
  auto good_again = good;
  good_again.set_request_id("good-again");
  ASSERT_OK_AND_ASSIGN(auto healthy_stream, engine->core->Submit(good_again));
  ASSERT_OK_AND_ASSIGN(auto poisoned_stream,
                       engine->core->Submit(Greedy("poisoned", {5, kPoison, 7}, 12)));
  const Outcome poisoned = Collect(*poisoned_stream);
  EXPECT_EQ(poisoned.finish.reason(), v1::FINISH_REASON_ERROR);
  EXPECT_EQ(poisoned.finish.error().code(), static_cast<int>(absl::StatusCode::kInternal));
  EXPECT_FALSE(poisoned.finish.error().retryable());
  EXPECT_THAT(poisoned.finish.error().message(), HasSubstr("finite"));
  const Outcome batched = Collect(*healthy_stream);
  EXPECT_EQ(batched.finish.reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(batched.tokens, alone.tokens);
  EXPECT_TRUE(engine->core->ready());
  EXPECT_TRUE(engine->core->healthy());
  auto later = good;
  later.set_request_id("later");
  EXPECT_EQ(RunAlone(*engine->core, later).tokens, alone.tokens) << "the replica still serves";
}

TEST(EngineCoreTest, AFailedWorkerAbortsEveryRequestRetryablyAndMarksTheReplicaUnhealthy) {
  absl::Notification kill_worker;
  auto engine = MakeEngine({.model_path = ::shoal::testing::TestModelPath("llama", "f32"),
                            .max_kv_blocks = 64,
                            .kill_worker = &kill_worker});
  ASSERT_OK_AND_ASSIGN(auto a, engine->core->Submit(Greedy("a", {1, 2, 3}, 1000)));
  ASSERT_OK_AND_ASSIGN(auto b, engine->core->Submit(Greedy("b", {4, 5}, 1000)));
  a->WaitForData();  // running
  kill_worker.Notify();
  for (const auto& stream : {a, b}) {
    const Outcome out = Collect(*stream);
    EXPECT_EQ(out.finish.reason(), v1::FINISH_REASON_ABORTED);
    EXPECT_EQ(out.finish.error().code(), static_cast<int>(absl::StatusCode::kUnavailable));
    EXPECT_TRUE(out.finish.error().retryable());
    EXPECT_THAT(out.finish.error().message(), HasSubstr("the worker died"));
    EXPECT_LT(out.tokens.size(), 1000u);
  }
  EXPECT_FALSE(engine->core->ready());
  EXPECT_FALSE(engine->core->healthy());
  EXPECT_FALSE(engine->core->Stats().healthy());
  EXPECT_THAT(engine->core->failure_message(), HasSubstr("the worker died"));
  EXPECT_THAT(engine->core->Submit(Greedy("c", {1}, 1)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("lost a worker")));
}

// A call's cancellation names its own stream: once its request finished, a late
// cancel must not reach a newer request that reuses the id.
TEST(EngineCoreTest, ALateCancelCannotReachAnotherCallsRequestOfTheSameId) {
  auto engine = MakeEngine("llama", 64);
  ASSERT_OK_AND_ASSIGN(auto first, engine->core->Submit(Greedy("same", {1, 2}, 2)));
  Collect(*first);
  ASSERT_OK_AND_ASSIGN(auto second, engine->core->Submit(Greedy("same", {3, 4}, 40)));
  engine->core->Cancel(first, v1::CANCEL_REASON_CLIENT_GONE);
  const Outcome out = Collect(*second);
  EXPECT_EQ(out.finish.reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(out.tokens.size(), 40u);
}

TEST(EngineCoreTest, AnIdIsFreeAgainAsSoonAsItsFinalMessageArrives) {
  auto engine = MakeEngine("llama", 64);
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK_AND_ASSIGN(auto stream, engine->core->Submit(Greedy("reused", {1, 2, 3}, 1)));
    Collect(*stream);
  }
}

TEST(EngineCoreTest, RepeatedCancelsAreNoOpsAndAStopStringCancelFinishesAsStop) {
  auto engine = MakeEngine("llama", 64);
  ASSERT_OK_AND_ASSIGN(auto stream, engine->core->Submit(Greedy("s", {5, 6, 7}, 1000)));
  stream->WaitForData();
  for (int i = 0; i < 3; ++i) ASSERT_OK(engine->core->Cancel("s", v1::CANCEL_REASON_STOP_STRING));
  const Outcome out = Collect(*stream);
  EXPECT_EQ(out.finish.reason(), v1::FINISH_REASON_STOP);
  EXPECT_FALSE(out.finish.has_stop_token_id()) << "a stop string, not a token, ended it";
  EXPECT_FALSE(out.finish.has_error());
}

TEST(RequestStreamTest, ACancelIsRequestedOnceAndAStopStringReasonWins) {
  RequestStream stream("s");
  EXPECT_EQ(stream.cancel_reason(), v1::CANCEL_REASON_UNSPECIFIED);
  EXPECT_TRUE(stream.MarkCancelRequested(v1::CANCEL_REASON_CLIENT_GONE));
  EXPECT_FALSE(stream.MarkCancelRequested(v1::CANCEL_REASON_CLIENT_GONE)) << "queued once only";
  EXPECT_EQ(stream.cancel_reason(), v1::CANCEL_REASON_CLIENT_GONE);
  // The router matched a stop string, then its call went away: still a stop.
  EXPECT_FALSE(stream.MarkCancelRequested(v1::CANCEL_REASON_STOP_STRING));
  EXPECT_EQ(stream.cancel_reason(), v1::CANCEL_REASON_STOP_STRING);
  EXPECT_FALSE(stream.MarkCancelRequested(v1::CANCEL_REASON_CLIENT_GONE));
  EXPECT_EQ(stream.cancel_reason(), v1::CANCEL_REASON_STOP_STRING);
}

// A consumer that never reads: the engine stops the request once max_unread_tokens
// are pending, rather than buffering the whole generation.
TEST(EngineCoreTest, AStreamNobodyReadsIsStoppedAtTheUnreadBound) {
  auto engine = MakeEngine({.model_path = ::shoal::testing::TestModelPath("llama", "f32"),
                            .max_kv_blocks = 64,
                            .max_unread_tokens = 8});
  ASSERT_OK_AND_ASSIGN(auto stream, engine->core->Submit(Greedy("stalled", {1, 2, 3}, 200)));
  // Not reading is the point: wait for the end without taking anything (ctest's
  // timeout bounds a hang).
  while (!stream->finished()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const Outcome out = Collect(*stream);
  EXPECT_EQ(out.finish.reason(), v1::FINISH_REASON_ABORTED);
  EXPECT_EQ(out.finish.error().code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_FALSE(out.finish.error().retryable());
  EXPECT_THAT(out.finish.error().message(), HasSubstr("unread"));
  EXPECT_EQ(out.tokens.size(), 9u) << "stopped at the first token over the bound";
}

// logprobs unset: none; 0: the chosen token's only (chat's logprobs without
// top_logprobs); n: the chosen token's and n alternatives.
TEST(EngineCoreTest, LogprobsDistinguishNoneFromTheChosenTokenOnly) {
  auto engine = MakeEngine("llama", 64);
  const Outcome none = RunAlone(*engine->core, Greedy("none", {1, 2, 3}, 4));
  EXPECT_TRUE(none.logprobs.empty());
  auto chosen_only = Greedy("chosen", {1, 2, 3}, 4);
  chosen_only.mutable_sampling()->set_logprobs(0);
  const Outcome chosen = RunAlone(*engine->core, chosen_only);
  ASSERT_EQ(chosen.logprobs.size(), 4u);
  auto with_top = Greedy("top", {1, 2, 3}, 4);
  with_top.mutable_sampling()->set_logprobs(3);
  const Outcome top = RunAlone(*engine->core, with_top);
  ASSERT_EQ(top.logprobs.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(chosen.logprobs[i].token_id(), chosen.tokens[i]);
    EXPECT_LE(chosen.logprobs[i].logprob(), 0.0f);
    EXPECT_EQ(chosen.logprobs[i].top_logprobs_size(), 0);
    ASSERT_EQ(top.logprobs[i].top_logprobs_size(), 3);
    // Greedy: the chosen token is the most likely one.
    EXPECT_EQ(top.logprobs[i].top_logprobs(0).token_id(), top.tokens[i]);
    EXPECT_FLOAT_EQ(top.logprobs[i].logprob(), chosen.logprobs[i].logprob());
  }
}

}  // namespace
}  // namespace shoal::scheduler
