// The router's HTTP API (the HttpHandler behind the HttpServer): the OpenAI endpoints
// (POST /v1/chat/completions, /v1/completions; GET /v1/models), vLLM's /tokenize and
// /detokenize, and the operational GET /health, /ready, /metrics. Errors in the OpenAI
// shape through the one mapping (openai_error.h).
//
// Threads: Handle runs on HTTP I/O threads, any number at once.
#ifndef SHOAL_ROUTER_OPENAI_ROUTES_H_
#define SHOAL_ROUTER_OPENAI_ROUTES_H_

#include "router/http_types.h"
#include "router/openai_request.h"
#include "router/router_context.h"
#include "router/tenant_gate.h"

namespace shoal::router {

class OpenAiRoutes {
 public:
  explicit OpenAiRoutes(RouterContext& context) : context_(context) {}

  HandlerResult Handle(const HttpRequest& request);

 private:
  HandlerResult Completion(const HttpRequest& request, OpenAiEndpoint endpoint, TenantRef tenant);
  HandlerResult Models();
  HandlerResult Tokenize(const HttpRequest& request);
  HandlerResult Detokenize(const HttpRequest& request);
  HandlerResult Metrics();

  RouterContext& context_;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_OPENAI_ROUTES_H_
