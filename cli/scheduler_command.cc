// shoal scheduler: one model replica's engine core as a gRPC service (scheduler.proto),
// with its worker in-process on this machine's CPU (--world 1), plus /health, /ready and
// /metrics over HTTP. SIGTERM or SIGINT drains: new requests are refused, in-flight ones
// get --drain_seconds to finish, the rest are cancelled, then the process exits 0.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/local_engine.h"
#include "cli/model_path.h"
#include "cli/server_options.h"
#include "common/log.h"
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

constexpr int kDefaultPort = 50061;

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
      SHOAL_LOG_ERROR("the replica failed ({}); /health now answers 503",
                      engine.failure_message());
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
  SHOAL_RETURN_IF_ERROR(InitLoggingFromFlags("scheduler"));
  SHOAL_ASSIGN_OR_RETURN(const std::string path, ResolveModelPath(absl::GetFlag(FLAGS_model)));
  // SIGTERM and SIGINT are taken by sigtimedwait below; threads started from here on
  // inherit the mask, so none of them is interrupted.
  const sigset_t signals = BlockTerminationSignals();

  prometheus::Registry registry;  // outlives the engine and the HTTP server
  SHOAL_ASSIGN_OR_RETURN(LocalEngine local, StartLocalEngine(path, registry));
  std::unique_ptr<scheduler::EngineCore> engine = std::move(local.engine);
  scheduler::SchedulerService service(*engine);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  const std::string host = absl::GetFlag(FLAGS_host);
  builder.AddListeningPort(fmt::format("{}:{}", host, PortFromFlag(kDefaultPort)),
                           grpc::InsecureServerCredentials(), &grpc_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || grpc_port == 0) {
    return absl::UnavailableError(
        fmt::format("cannot listen for gRPC on {}:{}", host, PortFromFlag(kDefaultPort)));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  SHOAL_ASSIGN_OR_RETURN(
      std::unique_ptr<StatusHttpServer> http,
      StatusHttpServer::Start({.host = host,
                               .port = absl::GetFlag(FLAGS_metrics_port),
                               .registry = &registry,
                               .ready = [e = engine.get()] { return e->ready(); },
                               .healthy = [e = engine.get()] { return e->healthy(); }}));
  std::fprintf(stderr, "grpc listening on %s:%d\nhttp listening on %s:%d\n", host.c_str(),
               grpc_port, host.c_str(), http->port());
  std::fflush(stderr);

  const int signal = WaitForSignal(signals, *engine, *server);
  SHOAL_LOG_INFO("{}, draining for up to {} s", strsignal(signal),
                 absl::GetFlag(FLAGS_drain_seconds));
  server->GetHealthCheckService()->SetServingStatus(false);
  engine->Drain(absl::Seconds(absl::GetFlag(FLAGS_drain_seconds)));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  SHOAL_LOG_INFO("stopped");
  return absl::OkStatus();
}

}  // namespace

int RunScheduler(const std::vector<std::string>& args) {
  return RunWithoutArguments("scheduler", args, Serve);
}

}  // namespace shoal::cli
