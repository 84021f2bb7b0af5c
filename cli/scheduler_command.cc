// shoal scheduler: one model replica's engine core as a gRPC service (scheduler.proto),
// with its worker in-process on this machine's CPU (--world 1), plus /health, /ready and
// /metrics over HTTP. SIGTERM or SIGINT drains: new requests are refused, in-flight ones
// get --drain_seconds to finish, the rest are cancelled, then the process exits 0.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "cli/flags.h"
#include "cli/in_process_worker_client.h"
#include "cli/model_path.h"
#include "common/status_http_server.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "scheduler/engine_core.h"
#include "scheduler/scheduler_service.h"

namespace shoal::cli {
namespace {

// --max-num-seqs 0 (the default) with the in-process CPU worker: 4 per compute thread.
// On CPU a step's cost grows with every sequence in it while throughput stops growing
// near this size (2 threads: 8 running give 255-290 tok/s on Gemma 3 270M like 64 do,
// at a fraction of the time per token; docs/benchmarks.md), so admitting more only
// slows every stream. A GPU worker batches wide: vLLM's 256.
int64_t MaxNumSeqsFromFlag(const worker::EngineOptions& engine) {
  const int64_t flag = absl::GetFlag(FLAGS_max_num_seqs);
  if (flag != 0) return flag;
  return engine.device.kind == worker::DeviceKind::kCuda ? 256 : 4 * int64_t{engine.threads};
}

absl::StatusOr<v1::RegisterResponse> RegisterWorker(InProcessWorkerClient& worker,
                                                    const std::string& path,
                                                    const worker::EngineOptions& engine) {
  v1::RegisterRequest request;
  request.set_model_path(path);
  request.set_rank(0);
  request.set_world_size(1);
  request.set_kv_block_size(absl::GetFlag(FLAGS_block_size));
  // --kv-memory-fraction of RAM for a CPU worker, --gpu-memory-fraction of a GPU's.
  request.set_memory_fraction(static_cast<float>(engine.kv.memory_fraction));
  request.set_max_kv_blocks(absl::GetFlag(FLAGS_max_kv_blocks));
  request.set_max_num_batched_tokens(
      static_cast<int32_t>(absl::GetFlag(FLAGS_max_num_batched_tokens)));
  request.set_max_num_seqs(static_cast<int32_t>(MaxNumSeqsFromFlag(engine)));
  return worker.Register(request);
}

absl::StatusOr<scheduler::EngineCoreConfig> EngineConfig(const v1::RegisterResponse& registration,
                                                         const std::string& path,
                                                         const worker::EngineOptions& engine) {
  scheduler::EngineCoreConfig config;
  config.scheduler = {.max_num_batched_tokens = absl::GetFlag(FLAGS_max_num_batched_tokens),
                      .max_num_seqs = MaxNumSeqsFromFlag(engine),
                      .long_prefill_token_threshold =
                          absl::GetFlag(FLAGS_long_prefill_token_threshold)};
  config.max_waiting = absl::GetFlag(FLAGS_max_waiting);
  config.block_size = absl::GetFlag(FLAGS_block_size);
  config.enable_prefix_caching = absl::GetFlag(FLAGS_enable_prefix_caching);
  config.model_name = std::filesystem::path(path).stem().string();
  // Everything about the model comes from the worker's registration.
  SHOAL_RETURN_IF_ERROR(config.SetFromRegistration(registration));
  return config;
}

// Waits for SIGTERM or SIGINT; once a second checks the engine, and marks the gRPC
// health service NOT_SERVING when the replica failed (its /health already fails).
int WaitForSignal(const sigset_t& signals, const scheduler::EngineCore& engine,
                  grpc::Server& server) {
  bool marked_unhealthy = false;
  while (true) {
    const timespec one_second{.tv_sec = 1, .tv_nsec = 0};
    const int signal = sigtimedwait(&signals, nullptr, &one_second);
    if (signal > 0) return signal;
    if (!marked_unhealthy && !engine.healthy()) {
      server.GetHealthCheckService()->SetServingStatus(false);
      std::fprintf(stderr, "shoal scheduler: the replica failed (%s); /health now answers 503\n",
                   engine.failure_message().c_str());
      marked_unhealthy = true;
    }
  }
}

absl::Status Serve() {
  if (absl::GetFlag(FLAGS_world) != 1) {
    return absl::UnimplementedError(
        "--world must be 1: this scheduler runs one worker in-process; worker processes "
        "(shoal worker) are not supported yet");
  }
  SHOAL_ASSIGN_OR_RETURN(const std::string path, ResolveModelPath(absl::GetFlag(FLAGS_model)));
  // SIGTERM and SIGINT are taken by sigwait below; threads started from here on
  // inherit the mask, so none of them is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SHOAL_ASSIGN_OR_RETURN(const worker::EngineOptions engine_options, EngineOptionsFromFlags());
  auto worker = std::make_unique<InProcessWorkerClient>(engine_options);
  SHOAL_ASSIGN_OR_RETURN(const v1::RegisterResponse registration,
                         RegisterWorker(*worker, path, engine_options));
  SHOAL_ASSIGN_OR_RETURN(const scheduler::EngineCoreConfig config,
                         EngineConfig(registration, path, engine_options));
  prometheus::Registry registry;  // outlives the engine and the HTTP server
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<scheduler::EngineCore> engine,
                         scheduler::EngineCore::Create(config, std::move(worker), registry));
  scheduler::SchedulerService service(*engine);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  const std::string host = absl::GetFlag(FLAGS_host);
  builder.AddListeningPort(fmt::format("{}:{}", host, absl::GetFlag(FLAGS_port)),
                           grpc::InsecureServerCredentials(), &grpc_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || grpc_port == 0) {
    return absl::UnavailableError(
        fmt::format("cannot listen for gRPC on {}:{}", host, absl::GetFlag(FLAGS_port)));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  SHOAL_ASSIGN_OR_RETURN(
      std::unique_ptr<StatusHttpServer> http,
      StatusHttpServer::Start({.host = host,
                               .port = absl::GetFlag(FLAGS_metrics_port),
                               .registry = &registry,
                               .ready = [e = engine.get()] { return e->ready(); },
                               .healthy = [e = engine.get()] { return e->healthy(); }}));
  std::fprintf(stderr,
               "shoal scheduler: %s on %s; %lld KV blocks of %lld tokens (%.1f MiB, committed), "
               "context %lld; max_num_batched_tokens %lld, max_num_seqs %lld, prefix caching %s\n",
               config.model_name.c_str(), registration.device().c_str(),
               static_cast<long long>(config.num_kv_blocks), static_cast<long long>(config.block_size),
               static_cast<double>(config.kv_cache_bytes) / (1 << 20),
               static_cast<long long>(engine->max_model_len()),
               static_cast<long long>(config.scheduler.max_num_batched_tokens),
               static_cast<long long>(config.scheduler.max_num_seqs),
               config.enable_prefix_caching ? "on" : "off");
  std::fprintf(stderr, "grpc listening on %s:%d\nhttp listening on %s:%d\n", host.c_str(),
               grpc_port, host.c_str(), http->port());
  std::fflush(stderr);

  const int signal = WaitForSignal(signals, *engine, *server);
  std::fprintf(stderr, "shoal scheduler: %s, draining\n", strsignal(signal));
  server->GetHealthCheckService()->SetServingStatus(false);
  engine->Drain(absl::Seconds(absl::GetFlag(FLAGS_drain_seconds)));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  std::fprintf(stderr, "shoal scheduler: stopped\n");
  return absl::OkStatus();
}

}  // namespace

int RunScheduler(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "shoal scheduler: unexpected argument '%s'\n", args[0].c_str());
    return 2;
  }
  const absl::Status status = Serve();
  if (!status.ok()) {
    std::fprintf(stderr, "shoal scheduler: %s\n", MessageOf(status).c_str());
    return 1;
  }
  return 0;
}

}  // namespace shoal::cli
