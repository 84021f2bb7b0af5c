// FetchMetrics (metrics_scrape.h): one synchronous HTTP/1.1 GET on Boost.Beast, under
// one deadline for the whole exchange.
#include <chrono>
#include <optional>

#include "bench/load/metrics_scrape.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http.hpp"
#include "fmt/format.h"

namespace shoal::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr uint64_t kMaxBodyBytes = 64 << 20;  // vLLM's /metrics with many models stays far below

struct Exchange {
  std::string host, path;
  int port = 0;
  std::chrono::steady_clock::time_point deadline;
  std::optional<absl::StatusOr<std::string>> result;
};

absl::Status Failure(const Exchange& x, std::string_view what, const beast::error_code& ec) {
  const std::string where = fmt::format("GET http://{}:{}{}", x.host, x.port, x.path);
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(fmt::format("{}: no response in time ({})", where, what));
  }
  return absl::UnavailableError(fmt::format("{}: {}: {}", where, what, ec.message()));
}

net::awaitable<absl::StatusOr<std::string>> Get(Exchange& x) {
  auto executor = co_await net::this_coro::executor;
  net::ip::tcp::resolver resolver(executor);
  beast::tcp_stream stream(executor);
  stream.expires_at(x.deadline);
  // The resolver has no deadline of its own: the stream's timer bounds what follows,
  // and io_context::run_until in FetchMetrics bounds the lookup.
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(x.host, std::to_string(x.port), kTuple);
  if (resolve_ec) co_return Failure(x, "resolve", resolve_ec);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kTuple);
  if (connect_ec) co_return Failure(x, "connect", connect_ec);

  http::request<http::empty_body> request(http::verb::get, x.path, 11);
  request.set(http::field::host, fmt::format("{}:{}", x.host, x.port));
  request.set(http::field::user_agent, "shoal-bench");
  request.set(http::field::accept, "text/plain");
  request.set(http::field::connection, "close");
  auto [write_ec, written] = co_await http::async_write(stream, request, kTuple);
  if (write_ec) co_return Failure(x, "send", write_ec);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBodyBytes);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kTuple);
  if (read_ec) co_return Failure(x, "read", read_ec);
  beast::error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);

  http::response<http::string_body> response = parser.release();
  const int status = static_cast<int>(response.result_int());
  if (status == 200) co_return std::move(response.body());
  const std::string message = fmt::format("GET http://{}:{}{}: HTTP {} {}", x.host, x.port, x.path,
                                          status, std::string(response.reason()));
  if (status == 404) co_return absl::NotFoundError(message);
  co_return absl::UnavailableError(message);
}

}  // namespace

absl::StatusOr<std::string> FetchMetrics(const std::string& host, int port, const std::string& path,
                                         absl::Duration timeout) {
  if (port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(fmt::format("bad metrics port {}", port));
  }
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError(
        fmt::format("the metrics path must begin with '/': '{}'", path));
  }
  if (timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the metrics timeout must be > 0");
  }
  Exchange exchange{.host = host,
                    .path = path,
                    .port = port,
                    .deadline = std::chrono::steady_clock::now() +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    absl::ToChronoNanoseconds(timeout))};
  net::io_context io(1);  // destroyed first: a lookup still pending is dropped with it
  net::co_spawn(
      io, Get(exchange), [&exchange](std::exception_ptr error, absl::StatusOr<std::string> result) {
        exchange.result = error ? absl::InternalError("metrics scrape failed") : std::move(result);
      });
  // A little past the deadline: the stream's own timer answers first when it can.
  io.run_until(exchange.deadline + std::chrono::milliseconds(200));
  if (!exchange.result) {
    return absl::DeadlineExceededError(fmt::format("GET http://{}:{}{}: no response in {}", host,
                                                   port, path, absl::FormatDuration(timeout)));
  }
  return std::move(*exchange.result);
}

}  // namespace shoal::bench
