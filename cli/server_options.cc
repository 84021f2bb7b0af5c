#include "cli/server_options.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/flags.h"
#include "cli/local_engine.h"
#include "common/log.h"

namespace shoal::cli {

absl::Status InitLoggingFromFlags(const char* role) {
  const std::string format = absl::GetFlag(FLAGS_log_format);
  if (format != "text" && format != "json") {
    return absl::InvalidArgumentError("--log-format must be text or json");
  }
  return log::Init({.json = format == "json", .level = absl::GetFlag(FLAGS_log_level),
                    .role = role});
}

std::vector<std::string> ServedModelNamesFromFlag() {
  std::vector<std::string> names;
  for (auto part : absl::StrSplit(absl::GetFlag(FLAGS_served_model_name), ',')) {
    if (!part.empty()) names.emplace_back(part.data(), part.size());
  }
  return names;
}

absl::StatusOr<router::RouterOptions> RouterOptionsFromFlags() {
  router::RouterOptions options;
  options.http.host = absl::GetFlag(FLAGS_host);
  options.http.port = PortFromFlag(8080);
  options.http.io_threads = absl::GetFlag(FLAGS_http_threads);
  options.http.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.http.max_body_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  options.http.request_timeout = absl::Seconds(absl::GetFlag(FLAGS_http_request_timeout_seconds));
  options.http.write_timeout = absl::Seconds(absl::GetFlag(FLAGS_http_write_timeout_seconds));
  options.http.keepalive_interval = absl::Seconds(absl::GetFlag(FLAGS_sse_keepalive_seconds));
  options.grpc_host = options.http.host;
  options.grpc_port = absl::GetFlag(FLAGS_grpc_port);
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  return options;
}

sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int WaitForTermination(const sigset_t& signals, const std::function<void()>& every_second) {
  while (true) {
    const timespec one_second{.tv_sec = 1, .tv_nsec = 0};
    const int signal = sigtimedwait(&signals, nullptr, &one_second);
    if (signal > 0) return signal;
    if (every_second) every_second();
  }
}

void AnnounceListening(const router::RouterOptions& options, const router::Router& router) {
  std::fprintf(stderr, "http listening on %s:%d\n", options.http.host.c_str(), router.http_port());
  if (options.grpc_port >= 0) {
    std::fprintf(stderr, "grpc listening on %s:%d\n", options.grpc_host.c_str(),
                 router.grpc_port());
  }
  std::fflush(stderr);
}

void DrainRouter(router::Router& router, absl::Duration grace) {
  router.BeginDrain();
  const absl::Time deadline = absl::Now() + grace;
  while (router.inflight() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  if (router.inflight() > 0) {
    SHOAL_LOG_WARN("{} requests still in flight after the drain time: cancelling them",
                   router.inflight());
  }
  router.Stop();
}

}  // namespace shoal::cli
