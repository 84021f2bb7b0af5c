// The engine core (scheduler/engine_core.h) on its own thread with a real in-process
// CPU worker on a random-weight model: concurrent requests give exactly the tokens each
// gives alone (greedy), also when a tiny KV cache forces preemptions; shared prefixes
// are served from the prefix cache; cancellation frees blocks; bad input is rejected.
#include "scheduler/engine_core.h"

#include <random>
#include <thread>

#include "cli/in_process_worker_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"

namespace shoal::scheduler {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

struct Engine {
  prometheus::Registry registry;  // outlives the core, whose metrics live in it
  std::unique_ptr<EngineCore> core;
  int32_t vocab = 0;
};

std::unique_ptr<Engine> MakeEngine(const std::string& arch, int64_t max_kv_blocks,
                                   SchedulerConfig scheduler = {}) {
  auto engine = std::make_unique<Engine>();
  auto worker = std::make_unique<cli::InProcessWorkerClient>(
      worker::EngineOptions{.threads = 2, .kv = {.type = kernels::KvType::kF32}});
  v1::RegisterRequest reg;
  reg.set_model_path(::shoal::testing::TestModelPath(arch, "f32"));
  reg.set_world_size(1);
  reg.set_kv_block_size(16);
  reg.set_max_kv_blocks(max_kv_blocks);
  auto registered = worker->Register(reg);
  EXPECT_TRUE(registered.ok()) << registered.status();
  const model::ModelFile& model = worker->executor()->model();
  engine->vocab = static_cast<int32_t>(model.config().n_vocab);
  EngineCoreConfig config{.scheduler = scheduler,
                          .block_size = 16,
                          .model_name = arch,
                          .limits = {.max_model_len = model.config().context_length,
                                     .vocab_size = engine->vocab,
                                     .eog_token_ids = model.tokenizer().eog_ids()},
                          .num_kv_blocks = registered->num_kv_blocks()};
  auto core = EngineCore::Create(config, std::move(worker), engine->registry);
  EXPECT_TRUE(core.ok()) << core.status();
  engine->core = std::move(*core);
  return engine;
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
                                 SchedulerConfig scheduler, bool expect_preemption) {
  auto engine = MakeEngine(arch, max_kv_blocks, scheduler);
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
    EXPECT_EQ(batched.finish.reason(), v1::FINISH_REASON_LENGTH) << batched.finish.error_message();
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

TEST(EngineCoreTest, PreemptionUnderATinyKvCacheStillGivesTheSameTokens) {
  // 12 blocks of 16 tokens for 32 requests of up to 80 tokens each.
  ExpectConcurrentEqualsAlone("qwen3", 12, {.max_num_batched_tokens = 64, .max_num_seqs = 32},
                              true);
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

TEST(EngineCoreTest, DrainCancelsWhatIsLeftAndRefusesNewWork) {
  auto engine = MakeEngine("llama", 64);
  ASSERT_OK_AND_ASSIGN(auto stream, engine->core->Submit(Greedy("x", {1, 2, 3}, 1000)));
  engine->core->Drain(absl::Milliseconds(50));
  const Outcome out = Collect(*stream);
  EXPECT_EQ(out.finish.reason(), v1::FINISH_REASON_CANCELLED);
  EXPECT_THAT(engine->core->Submit(Greedy("y", {1}, 1)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shutting down")));
}

}  // namespace
}  // namespace shoal::scheduler
