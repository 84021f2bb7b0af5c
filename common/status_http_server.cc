#include "common/status_http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/memory/memory.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "fmt/format.h"
#include "prometheus/text_serializer.h"

namespace shoal {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

constexpr int kPollMillis = 200;
constexpr int kReadTimeoutSeconds = 5;

absl::StatusOr<int> Listen(const std::string& host, int port, int* bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return absl::InvalidArgumentError(
        fmt::format("cannot resolve '{}' to listen on: {}", host, gai_strerror(rc)));
  }
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 64) != 0) {
    const std::string error = std::strerror(errno);
    freeaddrinfo(found);
    if (fd >= 0) close(fd);
    return absl::UnavailableError(fmt::format("cannot listen on {}:{}: {}", host, port, error));
  }
  freeaddrinfo(found);
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound_port = ntohs(addr.ss_family == AF_INET6
                          ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                          : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StatusHttpServer>> StatusHttpServer::Start(Options options) {
  if (options.registry == nullptr) return absl::InvalidArgumentError("no metrics registry");
  auto server = absl::WrapUnique(new StatusHttpServer(std::move(options)));
  auto fd = Listen(server->options_.host, server->options_.port, &server->port_);
  if (!fd.ok()) return fd.status();
  server->listen_fd_ = *fd;
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

StatusHttpServer::~StatusHttpServer() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
}

void StatusHttpServer::Serve() {
  while (!stop_.load()) {
    pollfd p{.fd = listen_fd_, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, kPollMillis) <= 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval timeout{.tv_sec = kReadTimeoutSeconds, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    Handle(fd);
  }
}

void StatusHttpServer::Handle(int fd) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.assign(asio::ip::tcp::v6(), fd, ec);  // the family only matters for new sockets
  if (ec) {
    close(fd);
    return;
  }
  boost::beast::flat_buffer buffer(16 * 1024);  // request heads are small; bigger is an error
  http::request<http::empty_body> request;
  http::read(socket, buffer, request, ec);
  if (ec) return;  // the socket closes with `socket`
  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(false);
  response.set(http::field::server, "shoal");
  const std::string_view target(request.target().data(), request.target().size());
  if (request.method() != http::verb::get) {
    response.result(http::status::method_not_allowed);
    response.body() = "only GET is served here\n";
  } else if (target == "/health") {
    const bool healthy = options_.healthy ? options_.healthy() : true;
    response.result(healthy ? http::status::ok : http::status::service_unavailable);
    response.body() = healthy ? "ok\n" : "unhealthy: restart this process\n";
  } else if (target == "/ready") {
    const bool ready = options_.ready ? options_.ready() : true;
    response.result(ready ? http::status::ok : http::status::service_unavailable);
    response.body() = ready ? "ready\n" : "not ready\n";
  } else if (target == "/metrics") {
    response.result(http::status::ok);
    response.set(http::field::content_type, "text/plain; version=0.0.4");
    response.body() = prometheus::TextSerializer().Serialize(options_.registry->Collect());
  } else {
    response.result(http::status::not_found);
    response.body() = "not found: try /health, /ready or /metrics\n";
  }
  if (response.result() != http::status::ok || target != "/metrics") {
    response.set(http::field::content_type, "text/plain");
  }
  response.prepare_payload();
  http::write(socket, response, ec);
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

}  // namespace shoal
