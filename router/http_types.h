// What the HTTP server (http_server.h) and the routes that answer it exchange: a parsed
// request, a complete response, or a response produced over time (an SSE stream, or a
// completion the client waits for), which the server pulls from when it can write.
#ifndef SHOAL_ROUTER_HTTP_TYPES_H_
#define SHOAL_ROUTER_HTTP_TYPES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace shoal::router {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query string
  std::string body;
  std::string authorization;  // the Authorization header, if any
  std::string x_api_key;      // the x-api-key header (Anthropic's), if any
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (Retry-After)
};

// What the request log line and the metrics say about an exchange beyond its status.
struct ExchangeInfo {
  std::string request_id;
  std::string model;  // the served name; empty when the route has none
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// One step of a deferred response.
struct ResponsePiece {
  enum class Kind {
    kPending,     // nothing to send now: wait for the next wake-up
    kComplete,    // `response` is the whole response
    kStreamData,  // `data` is the next part of an event stream (200, text/event-stream)
    kStreamEnd,   // `data` (may be empty) is the stream's last part
  };
  Kind kind = Kind::kPending;
  HttpResponse response;
  std::string data;
};

// A response produced over time. Owned by the connection's session and used only on
// its thread; destroyed early when the client goes away (and then must cancel whatever
// it started upstream).
class DeferredResponse {
 public:
  virtual ~DeferredResponse() = default;
  // Called once. `wake` may be called from any thread, any number of times, to have
  // Poll called again soon on the session's thread.
  virtual void Start(std::function<void()> wake) = 0;
  // Called when no write is in flight: the next piece to send.
  virtual ResponsePiece Poll() = 0;
  // Called when nothing was sent for a while (keep-alive interval). A stream returns a
  // comment to keep idle proxies and clients from timing out (kStreamData), and the
  // stream's head goes out with it if it had not yet; kPending otherwise.
  virtual ResponsePiece Heartbeat() { return {}; }
  virtual ExchangeInfo info() const { return {}; }
};

// The application behind the server: a complete response, or a deferred one (then
// `response` is ignored). Called on a session's thread; must not block for long.
struct HandlerResult {
  HttpResponse response;
  std::unique_ptr<DeferredResponse> deferred;
  ExchangeInfo info;
};
using HttpHandler = std::function<HandlerResult(const HttpRequest&)>;

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_HTTP_TYPES_H_
