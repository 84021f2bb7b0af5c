// shoal serve: router, scheduler and worker in one process, like llama-server: the
// OpenAI HTTP API (and /health, /ready, /metrics) on --port, the public gRPC API on
// --grpc-port, and the engine behind them in-process (no gRPC hop). SIGTERM or SIGINT
// drains: /ready fails, new connections are refused, in-flight requests get
// --drain-seconds to finish, then the process exits 0.
#include <csignal>
#include <cstdio>

#include "absl/flags/flag.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/local_engine.h"
#include "cli/model_path.h"
#include "cli/server_options.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "inprocess/in_process_scheduler_client.h"
#include "router/router.h"

namespace shoal::cli {
namespace {

absl::Status Serve() {
  SHOAL_RETURN_IF_ERROR(InitLoggingFromFlags("serve"));
  SHOAL_ASSIGN_OR_RETURN(const std::string path, ResolveModelPath(absl::GetFlag(FLAGS_model)));
  const sigset_t signals = BlockTerminationSignals();

  prometheus::Registry registry;  // outlives the engine and the router
  SHOAL_ASSIGN_OR_RETURN(LocalEngine local, StartLocalEngine(path, registry));
  scheduler::EngineCore& engine = *local.engine;
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<router::ServedModel> model,
                         router::ServedModel::Open(path, ServedModelNamesFromFlag()));
  std::vector<std::unique_ptr<router::SchedulerClient>> replicas;
  replicas.push_back(std::make_unique<inprocess::InProcessSchedulerClient>(engine));
  SHOAL_ASSIGN_OR_RETURN(router::RouterOptions options, RouterOptionsFromFlags());
  options.healthy = [&engine] { return engine.healthy(); };
  SHOAL_ASSIGN_OR_RETURN(
      std::unique_ptr<router::Router> router,
      router::Router::Start(options, std::move(model), std::move(replicas), registry));
  AnnounceListening(options, *router);

  // The engine failing for good: the gRPC health service says NOT_SERVING too (/health
  // and /ready already answer 503), so that an orchestrator restarts the process.
  bool marked_unhealthy = false;
  const int signal = ServeUntilTerminated(signals, *router, [&] {
    if (marked_unhealthy || engine.healthy()) return;
    marked_unhealthy = true;
    router->SetGrpcServing(false);
    SHOAL_LOG_ERROR("the engine failed ({}); health checks now fail", engine.failure_message());
  });
  SHOAL_LOG_INFO("{}: draining for up to {} s", strsignal(signal),
                 absl::GetFlag(FLAGS_drain_seconds));
  DrainRouter(*router, absl::Seconds(absl::GetFlag(FLAGS_drain_seconds)));
  engine.Drain(absl::ZeroDuration());
  SHOAL_LOG_INFO("stopped");
  return absl::OkStatus();
}

}  // namespace

int RunServe(const std::vector<std::string>& args) {
  return RunWithoutArguments("serve", args, Serve);
}

}  // namespace shoal::cli
