// The router's HTTP/1.1 server on Boost.Beast: asynchronous (a few I/O threads serve
// thousands of connections, none of them holding a thread), keep-alive, bounded
// header and body sizes, deadlines for slow clients (a request must arrive whole within
// request_timeout; every write must complete within write_timeout, so a client that
// never reads its stream is dropped), a cap on open connections, and a client that
// closes its connection detected at once, even while its response is still being
// computed (its DeferredResponse is destroyed, which cancels the work upstream).
//
// Threads: `io_threads` threads run the I/O; each connection's work runs on its own
// strand, so a session's state is touched by one thread at a time.
#ifndef SHOAL_ROUTER_HTTP_SERVER_H_
#define SHOAL_ROUTER_HTTP_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "router/http_types.h"

namespace shoal::router {

// One finished exchange, for metrics and the request log.
struct ExchangeRecord {
  std::string method;
  std::string path;
  int status = 0;
  int64_t request_bytes = 0;
  int64_t response_bytes = 0;
  double seconds_to_first_byte = 0;
  double seconds = 0;
  bool client_gone = false;  // the client left before the response was complete
  ExchangeInfo info;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  int io_threads = 1;
  int max_connections = 4096;
  int64_t max_header_bytes = 16 << 10;
  int64_t max_body_bytes = 16 << 20;
  absl::Duration request_timeout = absl::Seconds(30);  // headers and body, and keep-alive idle
  absl::Duration write_timeout = absl::Seconds(60);
  absl::Duration keepalive_interval = absl::Seconds(15);  // Heartbeat() of deferred responses
  absl::Status Validate() const;
};

class HttpServer {
 public:
  // Listens and starts the I/O threads. `handler` and `on_exchange` are called on I/O
  // threads and must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, HttpHandler handler,
      std::function<void(const ExchangeRecord&)> on_exchange);
  ~HttpServer();  // Stop()

  int port() const { return port_; }
  int open_connections() const;

  // Stops accepting connections; open ones finish their current response, then close
  // (no further keep-alive requests).
  void StopAccepting();
  // Closes every connection (their deferred responses are destroyed) and joins.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_HTTP_SERVER_H_
