// A scripted HTTP/1.1 server for the HTTP target's tests: it accepts connections on
// 127.0.0.1 (a port the system picks), reads each request whole, and answers with the
// exact bytes its script gives, each piece written at a set time after the request
// arrived. So a test controls the framing byte for byte (chunk boundaries, a line split
// across TCP writes, comments) and the timing of every token, and counts connections.
//
// Threads: the server runs its own io_context on one thread; the script function is
// called there. requests() and accepts() may be read from any thread.
#ifndef SHOAL_TESTS_BENCH_FAKE_SSE_SERVER_H_
#define SHOAL_TESTS_BENCH_FAKE_SSE_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"
#include "nlohmann/json.hpp"

namespace shoal::bench::fake {

struct ReceivedRequest {
  int connection = 0;     // 1 for the first connection accepted, 2 for the next, ...
  int on_connection = 0;  // 1 for the first request on its connection, ...
  std::string target;
  std::string authorization;
  nlohmann::json body;
};

struct Script {
  struct Write {
    int at_ms = 0;  // after the request arrived
    std::string bytes;
  };
  enum class After {
    kKeepAlive,  // read the next request on the connection
    kClose,      // close the connection
    kHold,       // keep the connection open, silent, until the client closes it
  };
  std::vector<Write> writes;
  After after = After::kKeepAlive;
};

// The head of a 200 event stream with a chunked body, and its pieces.
inline std::string ChunkedSseHead() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
         "Transfer-Encoding: chunked\r\n\r\n";
}
inline std::string HttpChunk(std::string_view payload) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", payload.size());
  return std::string(size) + std::string(payload) + "\r\n";
}
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

class FakeSseServer {
 public:
  explicit FakeSseServer(std::function<Script(const ReceivedRequest&)> script)
      : script_(std::move(script)),
        acceptor_(io_,
                  boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    boost::asio::co_spawn(io_, Accept(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeSseServer() {
    io_.stop();
    thread_.join();
  }

  int port() const { return acceptor_.local_endpoint().port(); }
  int accepts() const { return accepts_.load(); }
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // When each write of the `request`-th request's script (in arrival order) began.
  std::vector<std::chrono::steady_clock::time_point> write_times(size_t request) const {
    std::lock_guard<std::mutex> lock(mu_);
    return request < write_times_.size() ? write_times_[request]
                                         : std::vector<std::chrono::steady_clock::time_point>();
  }

 private:
  using Socket = boost::asio::ip::tcp::socket;
  static constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

  boost::asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
      if (ec) co_return;
      const int connection = ++accepts_;
      boost::asio::co_spawn(io_, Serve(std::move(socket), connection), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> Serve(Socket socket, int connection) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    boost::asio::steady_timer timer(io_);
    for (int on_connection = 1;; ++on_connection) {
      http::request<http::string_body> request;
      auto [ec, n] = co_await http::async_read(socket, buffer, request, kTuple);
      if (ec) co_return;
      const auto arrived = std::chrono::steady_clock::now();
      ReceivedRequest received{.connection = connection,
                               .on_connection = on_connection,
                               .target = std::string(request.target()),
                               .authorization = std::string(request[http::field::authorization]),
                               .body = nlohmann::json::parse(request.body(), nullptr, false)};
      size_t index;
      {
        std::lock_guard<std::mutex> lock(mu_);
        index = requests_.size();
        requests_.push_back(received);
        write_times_.emplace_back();
      }
      const Script script = script_(received);
      for (const Script::Write& write : script.writes) {
        timer.expires_at(arrived + std::chrono::milliseconds(write.at_ms));
        co_await timer.async_wait(kTuple);
        {
          // Taken before the write: the client cannot see the bytes any earlier.
          std::lock_guard<std::mutex> lock(mu_);
          write_times_[index].push_back(std::chrono::steady_clock::now());
        }
        auto [write_ec, written] =
            co_await boost::asio::async_write(socket, boost::asio::buffer(write.bytes), kTuple);
        if (write_ec) co_return;
      }
      if (script.after == Script::After::kClose) {
        boost::system::error_code ignored;
        socket.shutdown(Socket::shutdown_both, ignored);
        co_return;
      }
      if (script.after == Script::After::kHold) {
        char byte;
        co_await socket.async_read_some(boost::asio::buffer(&byte, 1), kTuple);
        co_return;
      }
    }
  }

  std::function<Script(const ReceivedRequest&)> script_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<int> accepts_{0};
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;
  std::vector<std::vector<std::chrono::steady_clock::time_point>> write_times_;
  std::thread thread_;
};

}  // namespace shoal::bench::fake

#endif  // SHOAL_TESTS_BENCH_FAKE_SSE_SERVER_H_
