// The router's Prometheus metrics, created at start-up and held. Names follow vLLM's
// conventions for our own (`shoal_router_*`, base units, `_total` counters) and the
// Gateway API inference extension's metric set where the meaning is the same
// (`inference_model_*`: requests, errors, durations and token counts per model). The
// scheduler's `vllm:*` families live beside them in `shoal serve`'s one registry, so no
// name here repeats one of those. Labels are bounded: routes from a fixed list, model
// names from the served names, status codes.
//
// Threads: thread-safe (prometheus-cpp's metrics are).
#ifndef SHOAL_ROUTER_ROUTER_METRICS_H_
#define SHOAL_ROUTER_ROUTER_METRICS_H_

#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "router/http_server.h"

namespace shoal::router {

class RouterMetrics {
 public:
  explicit RouterMetrics(prometheus::Registry& registry);

  // One finished HTTP exchange.
  void RecordHttp(const ExchangeRecord& record);
  // One finished public gRPC call (`method`: "Generate", "Tokenize", ...).
  void RecordGrpc(const std::string& method, const std::string& code, const std::string& model,
                  double seconds, int64_t prompt_tokens, int64_t completion_tokens);
  // Streams and waiting completions in flight, both protocols.
  void AddInflight(int delta) { inflight_.Increment(delta); }

  // "/v1/chat/completions" and the other known paths as they are; anything else "other".
  static std::string RouteLabel(const std::string& path);

 private:
  void RecordModel(const std::string& model, int status, double seconds, int64_t prompt_tokens,
                   int64_t completion_tokens);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& disconnects_;
  prometheus::Gauge& inflight_;
  prometheus::Family<prometheus::Histogram>& first_byte_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Histogram>& request_bytes_;
  prometheus::Family<prometheus::Histogram>& response_bytes_;
  prometheus::Family<prometheus::Counter>& model_requests_;
  prometheus::Family<prometheus::Counter>& model_errors_;
  prometheus::Family<prometheus::Histogram>& model_duration_;
  prometheus::Family<prometheus::Histogram>& model_input_tokens_;
  prometheus::Family<prometheus::Histogram>& model_output_tokens_;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_ROUTER_METRICS_H_
