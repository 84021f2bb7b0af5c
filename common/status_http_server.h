// A small HTTP/1.1 server for a role's operational endpoints (DESIGN.md): GET /health
// (200 while the process can still serve, 503 once it cannot recover and should be
// restarted: Kubernetes' liveness probe), GET /ready (200, or 503 while the role cannot
// serve: the readiness probe),
// GET /metrics (the process's Prometheus registry, text format). One thread, one
// request per connection, a 5 s read timeout, so a stuck client cannot hold it long.
// The router serves the same paths on its API port; this is for the other roles.
#ifndef SHOAL_COMMON_STATUS_HTTP_SERVER_H_
#define SHOAL_COMMON_STATUS_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace shoal {

class StatusHttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 0;  // 0: any free port (see port())
    prometheus::Registry* registry = nullptr;  // must outlive the server
    std::function<bool()> ready;               // called per /ready request, any thread
    std::function<bool()> healthy;             // per /health request; unset: always
  };

  static absl::StatusOr<std::unique_ptr<StatusHttpServer>> Start(Options options);
  ~StatusHttpServer();  // stops accepting and joins

  int port() const { return port_; }

 private:
  explicit StatusHttpServer(Options options) : options_(std::move(options)) {}
  void Serve();
  void Handle(int fd);

  Options options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace shoal

#endif  // SHOAL_COMMON_STATUS_HTTP_SERVER_H_
