#include "cli/server_options.h"

#include <cstdio>
#include <fstream>
#include <iterator>

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
  return log::Init(
      {.json = format == "json", .level = absl::GetFlag(FLAGS_log_level), .role = role});
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
  options.api_keys_path = absl::GetFlag(FLAGS_api_keys);
  if (const std::string secret_file = absl::GetFlag(FLAGS_cache_salt_secret_file);
      !secret_file.empty()) {
    std::ifstream in(secret_file, std::ios::binary);
    std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) {
      return absl::NotFoundError("cannot read --cache-salt-secret-file " + secret_file);
    }
    if (secret.size() < 16 || secret.size() > 4096) {
      return absl::InvalidArgumentError(
          "--cache-salt-secret-file must hold 16 to 4096 bytes (e.g. 32 random bytes)");
    }
    options.cache_salt_secret = std::move(secret);
  }
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  return options;
}

sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int WaitForTermination(const sigset_t& signals, const std::function<void()>& every_second,
                       const std::function<void()>& on_hangup) {
  while (true) {
    const timespec one_second{.tv_sec = 1, .tv_nsec = 0};
    const int signal = sigtimedwait(&signals, nullptr, &one_second);
    if (signal == SIGHUP) {
      if (on_hangup) on_hangup();
      continue;
    }
    if (signal > 0) return signal;
    if (every_second) every_second();
  }
}

int ServeUntilTerminated(const sigset_t& signals, router::Router& router,
                         const std::function<void()>& every_second) {
  return WaitForTermination(
      signals,
      [&] {
        if (absl::Status status = router.ReloadApiKeysIfChanged(); !status.ok()) {
          SHOAL_LOG_ERROR("the key file changed but was not reloaded ({}); the old keys stay",
                          std::string(status.message()));
        }
        if (every_second) every_second();
      },
      [&] {
        if (absl::Status status = router.ReloadApiKeys(); !status.ok()) {
          SHOAL_LOG_ERROR("SIGHUP: the key file was not reloaded ({}); the old keys stay",
                          std::string(status.message()));
        }
      });
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
