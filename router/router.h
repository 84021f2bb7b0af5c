// Public header of shoal::router: the front door. A Router serves one model (its
// tokenizer and chat template read from the model file) to OpenAI HTTP clients (with
// SSE streaming) and public gRPC clients (shoal.v1.Inference, grpc.health.v1), and
// forwards every generation, as token ids, to a ready scheduler replica through a
// SchedulerClient: over gRPC for `shoal router`, in-process for `shoal serve`.
//
// Threads: the HTTP server's I/O threads and gRPC's callback threads run the requests;
// a ReplicaSet thread polls the replicas. Every public method is thread-safe.
#ifndef SHOAL_ROUTER_ROUTER_H_
#define SHOAL_ROUTER_ROUTER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "prometheus/registry.h"
#include "router/http_server.h"
#include "router/scheduler_client.h"
#include "router/served_model.h"

namespace grpc {
class Server;
}

namespace shoal::router {

class AdmissionQueue;
class InferenceService;
class OpenAiRoutes;
class ReplicaSet;
class RouterContext;
class RouterMetrics;
class TenantDirectory;
class TenantGate;
class TenantLimiter;
class TenantMetrics;

struct RouterOptions {
  HttpServerOptions http;
  // The public gRPC API: host:port; port 0 picks a free one; a negative port: none.
  std::string grpc_host = "127.0.0.1";
  int grpc_port = -1;
  absl::Duration replica_poll_interval = absl::Seconds(1);
  // Whether this process can still serve (GET /health); unset: always. `shoal serve`
  // passes its engine's health.
  std::function<bool()> healthy;
  // Log one line per request (at info level).
  bool log_requests = true;
  // The key file (tenant_config.h); empty: the endpoint is open to anyone (local use).
  std::string api_keys_path;
  // The key of the tenants' prefix-cache salts (tenant_gate.h); empty: random, this
  // process's own. Routers in front of the same schedulers should share one.
  std::string cache_salt_secret;
  absl::Status Validate() const;
};

class Router {
 public:
  // Starts serving. `registry` (which /metrics exposes) must outlive the router.
  static absl::StatusOr<std::unique_ptr<Router>> Start(
      const RouterOptions& options, std::unique_ptr<ServedModel> model,
      std::vector<std::unique_ptr<SchedulerClient>> replicas, prometheus::Registry& registry);
  ~Router();  // Stop()

  int http_port() const;
  int grpc_port() const { return grpc_port_; }
  // A replica is ready and the router is not draining.
  bool ready() const;
  // Requests in flight (HTTP and gRPC generations).
  int64_t inflight() const { return inflight_.load(); }

  // Reads the key file again (SIGHUP); on an error the current keys stay in force.
  absl::Status ReloadApiKeys();
  // ReloadApiKeys() when the file changed since it was last read; OK when it did not.
  absl::Status ReloadApiKeysIfChanged();

  // The gRPC health service's answer (for the whole server and shoal.v1.Inference).
  void SetGrpcServing(bool serving);

  // SIGTERM: /ready fails, no new connections, no new generations (503); in-flight
  // ones go on. Then wait until inflight() is 0 or the drain time passed, then Stop().
  void BeginDrain();
  // Closes every connection and call (cancelling what they started) and stops.
  void Stop();

 private:
  Router() = default;
  void OnInflightChange(int delta);

  std::unique_ptr<ServedModel> model_;
  std::unique_ptr<ReplicaSet> replicas_;
  std::unique_ptr<RouterMetrics> metrics_;
  std::unique_ptr<TenantDirectory> tenant_directory_;
  std::unique_ptr<TenantLimiter> tenant_limiter_;
  std::unique_ptr<TenantMetrics> tenant_metrics_;
  std::unique_ptr<TenantGate> tenant_gate_;
  std::unique_ptr<AdmissionQueue> admission_;
  std::unique_ptr<RouterContext> context_;
  std::unique_ptr<OpenAiRoutes> routes_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<InferenceService> grpc_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  int grpc_port_ = 0;
  std::atomic<int64_t> inflight_{0};
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_ROUTER_H_
