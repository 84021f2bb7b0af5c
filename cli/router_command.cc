// shoal router: the front door alone, in front of `shoal scheduler` processes
// (--scheduler HOST:PORT, one per replica). The model file gives it the tokenizer and
// the chat template; the weights stay with the workers. SIGTERM or SIGINT drains like
// `shoal serve`.
#include <csignal>
#include <cstdio>

#include "absl/flags/flag.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/model_path.h"
#include "cli/server_options.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "router/grpc_scheduler_client.h"
#include "router/router.h"

namespace shoal::cli {
namespace {

absl::Status Route() {
  SHOAL_RETURN_IF_ERROR(InitLoggingFromFlags("router"));
  const std::vector<std::string> addresses = absl::GetFlag(FLAGS_scheduler);
  if (addresses.empty()) {
    return absl::InvalidArgumentError("--scheduler HOST:PORT is required (one per replica)");
  }
  SHOAL_ASSIGN_OR_RETURN(const std::string path, ResolveModelPath(absl::GetFlag(FLAGS_model)));
  const sigset_t signals = BlockTerminationSignals();

  std::vector<std::unique_ptr<router::SchedulerClient>> replicas;
  for (const std::string& address : addresses) {
    SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<router::GrpcSchedulerClient> client,
                           router::GrpcSchedulerClient::Create(address));
    replicas.push_back(std::move(client));
  }
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<router::ServedModel> model,
                         router::ServedModel::Open(path, ServedModelNamesFromFlag()));
  SHOAL_ASSIGN_OR_RETURN(router::RouterOptions options, RouterOptionsFromFlags());
  prometheus::Registry registry;
  SHOAL_ASSIGN_OR_RETURN(
      std::unique_ptr<router::Router> router,
      router::Router::Start(options, std::move(model), std::move(replicas), registry));
  SHOAL_LOG_INFO("routing to {} scheduler(s): {}", addresses.size(), fmt::join(addresses, ", "));
  AnnounceListening(options, *router);

  const int signal = ServeUntilTerminated(signals, *router);
  SHOAL_LOG_INFO("{}: draining for up to {} s", strsignal(signal),
                 absl::GetFlag(FLAGS_drain_seconds));
  DrainRouter(*router, absl::Seconds(absl::GetFlag(FLAGS_drain_seconds)));
  SHOAL_LOG_INFO("stopped");
  return absl::OkStatus();
}

}  // namespace

int RunRouter(const std::vector<std::string>& args) {
  return RunWithoutArguments("router", args, Route);
}

}  // namespace shoal::cli
