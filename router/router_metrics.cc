#include "router/router_metrics.h"

#include <array>
#include <string_view>

namespace shoal::router {
namespace {

using prometheus::Histogram;

const Histogram::BucketBoundaries& LatencyBuckets() {
  static const Histogram::BucketBoundaries buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
      1,      2.5,   5,      10,    20,   40,    80,   160, 320};
  return buckets;
}

const Histogram::BucketBoundaries& SizeBuckets() {
  static const Histogram::BucketBoundaries buckets = {
      64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216};
  return buckets;
}

const Histogram::BucketBoundaries& TokenBuckets() {
  static const Histogram::BucketBoundaries buckets = {
      1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072};
  return buckets;
}

constexpr std::array<std::string_view, 11> kRoutes = {
    "/v1/chat/completions", "/v1/completions", "/v1/models", "/tokenize", "/detokenize",
    "/health",              "/ready",          "/metrics",   "/",         "/version", "-"};

}  // namespace

RouterMetrics::RouterMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("shoal_router_requests_total")
                    .Help("Requests answered by the router, by protocol, route, status code "
                          "and model")
                    .Register(registry)),
      disconnects_(prometheus::BuildCounter()
                       .Name("shoal_router_client_disconnects_total")
                       .Help("Requests whose client left before the response was complete")
                       .Register(registry)),
      inflight_(prometheus::BuildGauge()
                    .Name("shoal_router_inflight_requests")
                    .Help("Generation requests in flight (streams and waiting completions)")
                    .Register(registry)
                    .Add({})),
      first_byte_(prometheus::BuildHistogram()
                      .Name("shoal_router_time_to_first_byte_seconds")
                      .Help("Time from a request's arrival to the first byte of its response")
                      .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("shoal_router_request_duration_seconds")
                    .Help("Time from a request's arrival to its response's last byte")
                    .Register(registry)),
      request_bytes_(prometheus::BuildHistogram()
                         .Name("shoal_router_request_size_bytes")
                         .Help("HTTP request sizes, headers and body")
                         .Register(registry)),
      response_bytes_(prometheus::BuildHistogram()
                          .Name("shoal_router_response_size_bytes")
                          .Help("HTTP response sizes, headers and body")
                          .Register(registry)),
      model_requests_(prometheus::BuildCounter()
                          .Name("inference_model_request_total")
                          .Help("Generation requests per model (Gateway API inference "
                                "extension)")
                          .Register(registry)),
      model_errors_(prometheus::BuildCounter()
                        .Name("inference_model_request_error_total")
                        .Help("Generation requests that failed, per model and error code")
                        .Register(registry)),
      model_duration_(prometheus::BuildHistogram()
                          .Name("inference_model_request_duration_seconds")
                          .Help("Generation request durations per model")
                          .Register(registry)),
      model_input_tokens_(prometheus::BuildHistogram()
                              .Name("inference_model_input_tokens")
                              .Help("Prompt tokens per generation request")
                              .Register(registry)),
      model_output_tokens_(prometheus::BuildHistogram()
                               .Name("inference_model_output_tokens")
                               .Help("Generated tokens per generation request")
                               .Register(registry)) {}

std::string RouterMetrics::RouteLabel(const std::string& path) {
  for (std::string_view route : kRoutes) {
    if (path == route) return path;
  }
  return "other";
}

void RouterMetrics::RecordModel(const std::string& model, int status, double seconds,
                                int64_t prompt_tokens, int64_t completion_tokens) {
  const prometheus::Labels labels = {{"model_name", model}, {"target_model_name", model}};
  model_requests_.Add(labels).Increment();
  if (status >= 400) {
    prometheus::Labels error = labels;
    error["error_code"] = std::to_string(status);
    model_errors_.Add(error).Increment();
    return;
  }
  model_duration_.Add(labels, LatencyBuckets()).Observe(seconds);
  model_input_tokens_.Add(labels, TokenBuckets()).Observe(static_cast<double>(prompt_tokens));
  model_output_tokens_.Add(labels, TokenBuckets())
      .Observe(static_cast<double>(completion_tokens));
}

void RouterMetrics::RecordHttp(const ExchangeRecord& record) {
  const std::string route = RouteLabel(record.path);
  requests_
      .Add({{"protocol", "http"},
            {"route", route},
            {"code", std::to_string(record.status)},
            {"model", record.info.model}})
      .Increment();
  if (record.client_gone) disconnects_.Add({{"protocol", "http"}}).Increment();
  const prometheus::Labels labels = {{"route", route}};
  first_byte_.Add(labels, LatencyBuckets()).Observe(record.seconds_to_first_byte);
  duration_.Add(labels, LatencyBuckets()).Observe(record.seconds);
  request_bytes_.Add(labels, SizeBuckets()).Observe(static_cast<double>(record.request_bytes));
  response_bytes_.Add(labels, SizeBuckets()).Observe(static_cast<double>(record.response_bytes));
  if (!record.info.model.empty() &&
      (route == "/v1/chat/completions" || route == "/v1/completions")) {
    RecordModel(record.info.model, record.status, record.seconds, record.info.prompt_tokens,
                record.info.completion_tokens);
  }
}

void RouterMetrics::RecordGrpc(const std::string& method, const std::string& code,
                               const std::string& model, double seconds, int64_t prompt_tokens,
                               int64_t completion_tokens) {
  requests_
      .Add({{"protocol", "grpc"}, {"route", method}, {"code", code}, {"model", model}})
      .Increment();
  if (method == "Generate" && !model.empty()) {
    RecordModel(model, code == "OK" ? 200 : 500, seconds, prompt_tokens, completion_tokens);
  }
}

}  // namespace shoal::router
