// Test harness for the SchedulerClient implementations: an EngineCore over the fake
// worker of tests/scheduler/fake_worker.h (its tokens are a hash of the whole history,
// so any mistake in the path shows as different tokens), reached either in-process or
// through a real SchedulerService on 127.0.0.1 (port 0) in this process; and a consumer
// that collects a call's messages, every wait bounded.
#ifndef SHOAL_TESTS_INPROCESS_SCHEDULER_CLIENT_HARNESS_H_
#define SHOAL_TESTS_INPROCESS_SCHEDULER_CLIENT_HARNESS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "inprocess/in_process_scheduler_client.h"
#include "prometheus/registry.h"
#include "router/grpc_scheduler_client.h"
#include "router/scheduler_client.h"
#include "scheduler/engine_core.h"
#include "scheduler/scheduler_service.h"
#include "tests/scheduler/fake_worker.h"

namespace shoal::testing {

enum class Transport { kInProcess, kGrpc };

// The fake worker behind the scheduler's WorkerClient interface; `step_delay` paces
// steps so that a test can act while a request runs.
class FakeWorkerClient final : public scheduler::WorkerClient {
 public:
  FakeWorkerClient(int64_t num_blocks, int64_t block_size, absl::Duration step_delay)
      : worker_(num_blocks, block_size), step_delay_(step_delay) {}

  absl::StatusOr<v1::RegisterResponse> Register(const v1::RegisterRequest& request) override {
    return absl::UnimplementedError("the fake worker is registered by the harness");
  }
  absl::Status Step(const v1::StepRequest& request, v1::StepResult& result) override {
    result = worker_.Step(request);
    if (step_delay_ > absl::ZeroDuration()) absl::SleepFor(step_delay_);
    return absl::OkStatus();
  }

 private:
  scheduler::testing::FakeWorker worker_;
  const absl::Duration step_delay_;
};

struct HarnessOptions {
  int64_t num_kv_blocks = 256;
  int32_t context_length = 4096;
  int64_t max_num_seqs = 8;
  int64_t max_waiting = 64;
  int64_t max_unread_tokens = 4096;
  absl::Duration step_delay = absl::ZeroDuration();
};

// Owns, in order of destruction: the client, the gRPC server, the engine.
class Harness {
 public:
  Harness(Transport transport, const HarnessOptions& options) {
    v1::RegisterResponse registration;
    registration.set_num_kv_blocks(options.num_kv_blocks);
    registration.set_model_fingerprint("fake-model");
    registration.mutable_model()->set_name("fake");
    registration.mutable_model()->set_context_length(options.context_length);
    registration.mutable_model()->set_vocab_size(scheduler::testing::kFakeVocab);
    scheduler::EngineCoreConfig config{.block_size = 16,
                                       .max_waiting = options.max_waiting,
                                       .max_unread_tokens = options.max_unread_tokens};
    config.scheduler.max_num_seqs = options.max_num_seqs;
    EXPECT_TRUE(config.SetFromRegistration(registration).ok());
    auto engine = scheduler::EngineCore::Create(
        config, std::make_unique<FakeWorkerClient>(options.num_kv_blocks, 16, options.step_delay),
        registry_);
    EXPECT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    if (transport == Transport::kInProcess) {
      client_ = std::make_unique<inprocess::InProcessSchedulerClient>(*engine_);
      return;
    }
    service_ = std::make_unique<scheduler::SchedulerService>(*engine_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    EXPECT_TRUE(server_ != nullptr && port > 0);
    auto client = router::GrpcSchedulerClient::Create("127.0.0.1:" + std::to_string(port));
    EXPECT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  ~Harness() {
    client_.reset();
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    server_.reset();
    service_.reset();
    engine_.reset();
  }

  router::SchedulerClient& client() { return *client_; }
  void DestroyClient() { client_.reset(); }
  scheduler::EngineCore& engine() { return *engine_; }

 private:
  prometheus::Registry registry_;  // outlives the engine, whose metrics live in it
  std::unique_ptr<scheduler::EngineCore> engine_;
  std::unique_ptr<scheduler::SchedulerService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<router::SchedulerClient> client_;
};

// Counts on_ready calls and lets the test thread wait for the next one.
class Signal {
 public:
  void Notify() {
    absl::MutexLock lock(&mu_);
    ++count_;
  }
  int64_t count() {
    absl::MutexLock lock(&mu_);
    return count_;
  }
  // False when no call came after `seen` by `deadline`.
  bool WaitPast(int64_t seen, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto past = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ > seen; };
    return mu_.AwaitWithDeadline(absl::Condition(&past), deadline);
  }

 private:
  absl::Mutex mu_;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

// A started call and its signal; on_ready holds the signal, never the test's frame.
struct Started {
  std::shared_ptr<Signal> signal = std::make_shared<Signal>();
  std::unique_ptr<router::GenerateCall> call;
};

inline Started Start(router::SchedulerClient& client, const v1::SchedulerGenerateRequest& r) {
  Started s;
  s.call = client.Generate(r, [signal = s.signal] { signal->Notify(); });
  return s;
}

struct Outcome {
  std::vector<int32_t> tokens;
  int32_t cached_prompt_tokens = -1;  // from the first message
  std::optional<v1::SchedulerGenerateResponse::Finish> finish;
  absl::Status error;
  bool timed_out = false;
};

// Takes what is there, then waits for on_ready, until the call ends (at most
// `timeout`), or only until `min_tokens` arrived when that is set.
inline void Consume(Started& s, Outcome& out, absl::Duration timeout = absl::Seconds(20),
                    size_t min_tokens = SIZE_MAX) {
  const absl::Time deadline = absl::Now() + timeout;
  v1::SchedulerGenerateResponse r;
  while (true) {
    const int64_t seen = s.signal->count();
    const bool ended = s.call->ended();  // before taking, so a final message is taken below
    while (s.call->Take(r)) {
      if (out.cached_prompt_tokens < 0) out.cached_prompt_tokens = r.cached_prompt_tokens();
      out.tokens.insert(out.tokens.end(), r.token_ids().begin(), r.token_ids().end());
      if (r.has_finish()) out.finish = r.finish();
    }
    if (out.finish.has_value() || out.tokens.size() >= min_tokens) return;
    if (ended) {
      out.error = s.call->error();
      return;
    }
    if (!s.signal->WaitPast(seen, deadline)) {
      out.timed_out = true;
      ADD_FAILURE() << "the call did not end within " << timeout;
      return;
    }
  }
}

inline Outcome Collect(Started& s, absl::Duration timeout = absl::Seconds(20)) {
  Outcome out;
  Consume(s, out, timeout);
  return out;
}

inline v1::SchedulerGenerateRequest MakeRequest(const std::string& id,
                                                const std::vector<int32_t>& prompt,
                                                int max_tokens) {
  v1::SchedulerGenerateRequest r;
  r.set_request_id(id);
  r.mutable_prompt_token_ids()->Add(prompt.begin(), prompt.end());
  r.mutable_sampling()->set_temperature(0);
  r.mutable_sampling()->set_max_tokens(max_tokens);
  return r;
}

// Polls Stats until `done` holds or `timeout` passes; the last snapshot.
template <typename Predicate>
v1::StatsResponse WaitForStats(router::SchedulerClient& client, Predicate done,
                               absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  v1::StatsResponse stats;
  while (true) {
    absl::StatusOr<v1::StatsResponse> s = client.Stats(absl::Seconds(2));
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) stats = *s;
    if ((s.ok() && done(stats)) || absl::Now() > deadline) return stats;
    absl::SleepFor(absl::Milliseconds(2));
  }
}

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_INPROCESS_SCHEDULER_CLIENT_HARNESS_H_
