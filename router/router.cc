#include "router/router.h"

#include "common/log.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "router/admission_queue.h"
#include "router/inference_service.h"
#include "router/openai_routes.h"
#include "router/replica_set.h"
#include "router/router_context.h"
#include "router/router_metrics.h"
#include "router/tenant_directory.h"
#include "router/tenant_gate.h"
#include "router/tenant_limiter.h"
#include "router/tenant_metrics.h"

namespace shoal::router {

absl::Status RouterOptions::Validate() const {
  SHOAL_RETURN_IF_ERROR(http.Validate());
  if (grpc_port > 65535) return absl::InvalidArgumentError("grpc_port must be <= 65535");
  if (replica_poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("replica_poll_interval must be positive");
  }
  return absl::OkStatus();
}

namespace {

void LogExchange(const ExchangeRecord& record) {
  // Never a key, a prompt or generated text at info level.
  SHOAL_LOG_INFO("{} {} {} {} model={} prompt_tokens={} completion_tokens={} {:.3f}s{}",
                 record.info.request_id.empty() ? "-" : record.info.request_id, record.method,
                 record.path, record.status, record.info.model.empty() ? "-" : record.info.model,
                 record.info.prompt_tokens, record.info.completion_tokens, record.seconds,
                 record.client_gone ? " client-gone" : "");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Router>> Router::Start(
    const RouterOptions& options, std::unique_ptr<ServedModel> model,
    std::vector<std::unique_ptr<SchedulerClient>> replicas, prometheus::Registry& registry) {
  SHOAL_RETURN_IF_ERROR(options.Validate());
  if (replicas.empty()) return absl::InvalidArgumentError("a router needs at least one scheduler");
  auto router = absl::WrapUnique(new Router());
  router->model_ = std::move(model);
  router->replicas_ =
      std::make_unique<ReplicaSet>(std::move(replicas), options.replica_poll_interval);
  router->metrics_ = std::make_unique<RouterMetrics>(registry);
  if (options.api_keys_path.empty()) {
    router->tenant_directory_ = std::make_unique<TenantDirectory>();
    SHOAL_LOG_WARN("no --api-keys file: the endpoint is open to anyone who can reach it");
  } else {
    SHOAL_ASSIGN_OR_RETURN(router->tenant_directory_, TenantDirectory::Load(options.api_keys_path));
    SHOAL_LOG_INFO("API keys from {}: {} tenants", options.api_keys_path,
                   router->tenant_directory_->table()->tenants.size());
  }
  router->tenant_limiter_ = std::make_unique<TenantLimiter>();
  router->tenant_metrics_ = std::make_unique<TenantMetrics>(registry);
  router->tenant_gate_ = std::make_unique<TenantGate>(
      *router->tenant_directory_, *router->tenant_limiter_, *router->tenant_metrics_,
      options.cache_salt_secret.empty() ? RandomCacheSaltSecret() : options.cache_salt_secret);
  router->admission_ = std::make_unique<AdmissionQueue>(
      [replicas = router->replicas_.get()] { return replicas->Capacity(); });
  router->replicas_->SetOnRoom([admission = router->admission_.get()] { admission->Pump(); });
  Router* self = router.get();
  router->context_ = std::make_unique<RouterContext>(
      *router->model_, *router->replicas_, *router->metrics_, *router->tenant_gate_,
      *router->admission_, registry, options.healthy,
      [self](int delta) { self->OnInflightChange(delta); });
  router->routes_ = std::make_unique<OpenAiRoutes>(*router->context_);

  SHOAL_ASSIGN_OR_RETURN(router->http_,
                         HttpServer::Start(
                             options.http,
                             [routes = router->routes_.get()](const HttpRequest& request) {
                               return routes->Handle(request);
                             },
                             [metrics = router->metrics_.get(),
                              log = options.log_requests](const ExchangeRecord& record) {
                               metrics->RecordHttp(record);
                               if (log && record.path != "/metrics" && record.path != "/health" &&
                                   record.path != "/ready") {
                                 LogExchange(record);
                               }
                             }));

  if (options.grpc_port >= 0) {
    router->grpc_service_ = std::make_unique<InferenceService>(*router->context_);
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(fmt::format("{}:{}", options.grpc_host, options.grpc_port),
                             grpc::InsecureServerCredentials(), &router->grpc_port_);
    builder.RegisterService(router->grpc_service_.get());
    router->grpc_server_ = builder.BuildAndStart();
    if (router->grpc_server_ == nullptr || router->grpc_port_ == 0) {
      return absl::UnavailableError(
          fmt::format("cannot listen for gRPC on {}:{}", options.grpc_host, options.grpc_port));
    }
    grpc::HealthCheckServiceInterface* health = router->grpc_server_->GetHealthCheckService();
    health->SetServingStatus(true);
    health->SetServingStatus("shoal.v1.Inference", true);
  }
  return router;
}

Router::~Router() { Stop(); }

int Router::http_port() const { return http_ == nullptr ? 0 : http_->port(); }

bool Router::ready() const { return context_ != nullptr && context_->ready(); }

void Router::OnInflightChange(int delta) {
  inflight_ += delta;
  metrics_->AddInflight(delta);
}

absl::Status Router::ReloadApiKeys() {
  SHOAL_RETURN_IF_ERROR(tenant_directory_->Reload());
  if (!tenant_directory_->open()) {
    SHOAL_LOG_INFO("API keys reloaded from {}: {} tenants", tenant_directory_->path(),
                   tenant_directory_->table()->tenants.size());
  }
  return absl::OkStatus();
}

absl::Status Router::ReloadApiKeysIfChanged() {
  const std::shared_ptr<const TenantTable> before = tenant_directory_->table();
  SHOAL_RETURN_IF_ERROR(tenant_directory_->ReloadIfChanged());
  if (tenant_directory_->table() != before) {
    SHOAL_LOG_INFO("API keys reloaded from {} (the file changed): {} tenants",
                   tenant_directory_->path(), tenant_directory_->table()->tenants.size());
  }
  return absl::OkStatus();
}

void Router::SetGrpcServing(bool serving) {
  if (grpc_server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  health->SetServingStatus(serving);
  health->SetServingStatus("shoal.v1.Inference", serving);
}

void Router::BeginDrain() {
  if (context_ == nullptr || context_->draining()) return;
  context_->BeginDrain();
  if (http_ != nullptr) http_->StopAccepting();
  SetGrpcServing(false);
}

void Router::Stop() {
  BeginDrain();
  if (grpc_server_ != nullptr) {
    // In-flight calls are cancelled (their reactors cancel upstream) after a moment.
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    grpc_server_->Wait();
    grpc_server_.reset();
  }
  if (http_ != nullptr) http_->Stop();
  http_.reset();
  replicas_.reset();
}

}  // namespace shoal::router
