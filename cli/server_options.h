// What `shoal serve` and `shoal router` share: their flags mapped onto the router's
// options, logging set up from --log-format/--log-level, the served names, the
// termination signals, the key file's reloads, the "listening on" lines that scripts and
// tests read, and the drain on SIGTERM.
#ifndef SHOAL_CLI_SERVER_OPTIONS_H_
#define SHOAL_CLI_SERVER_OPTIONS_H_

#include <signal.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "router/router.h"

namespace shoal::cli {

absl::Status InitLoggingFromFlags(const char* role);
std::vector<std::string> ServedModelNamesFromFlag();
absl::StatusOr<router::RouterOptions> RouterOptionsFromFlags();

// Blocks SIGTERM, SIGINT and SIGHUP in this thread and the threads it starts from now
// on, so that WaitForTermination alone receives them.
sigset_t BlockTerminationSignals();
// Returns the terminating signal (SIGTERM or SIGINT) that arrived; meanwhile calls
// `every_second` (if set) once a second and `on_hangup` (if set) at each SIGHUP.
int WaitForTermination(const sigset_t& signals, const std::function<void()>& every_second = nullptr,
                       const std::function<void()>& on_hangup = nullptr);
// WaitForTermination for a router: the key file is read again at SIGHUP and when it
// changes (checked once a second), errors logged and the old keys kept.
int ServeUntilTerminated(const sigset_t& signals, router::Router& router,
                         const std::function<void()>& every_second = nullptr);

// "http listening on HOST:PORT" and "grpc listening on HOST:PORT" on stderr.
void AnnounceListening(const router::RouterOptions& options, const router::Router& router);

// Stops taking requests, waits up to `grace` for the in-flight ones, then stops.
void DrainRouter(router::Router& router, absl::Duration grace);

}  // namespace shoal::cli

#endif  // SHOAL_CLI_SERVER_OPTIONS_H_
