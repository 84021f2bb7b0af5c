// The HTTP server against raw sockets on 127.0.0.1: keep-alive, the size limits (413,
// 431), a slow client cut off, SSE streaming with chunked encoding, a client that
// leaves while its response is pending (the deferred response is destroyed at once),
// a client that never reads (dropped after the write timeout), the connection cap.
#include "router/http_server.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "boost/asio.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shoal::router {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A stream whose events the test pushes; records its destruction.
class TestStream final : public DeferredResponse {
 public:
  struct Shared {
    absl::Mutex mu;
    std::vector<std::string> events;
    bool end = false;
    std::function<void()> wake;
    std::atomic<bool> destroyed{false};
    void Push(std::string event, bool last = false) {
      std::function<void()> wake_now;
      {
        absl::MutexLock lock(&mu);
        events.push_back(std::move(event));
        end = last;
        wake_now = wake;
      }
      if (wake_now) wake_now();
    }
  };
  explicit TestStream(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  ~TestStream() override { shared_->destroyed = true; }
  void Start(std::function<void()> wake) override {
    absl::MutexLock lock(&shared_->mu);
    shared_->wake = std::move(wake);
  }
  ResponsePiece Poll() override {
    absl::MutexLock lock(&shared_->mu);
    if (shared_->events.empty() && !shared_->end) return {};
    ResponsePiece piece;
    for (const std::string& e : shared_->events) piece.data += e;
    shared_->events.clear();
    piece.kind = shared_->end ? ResponsePiece::Kind::kStreamEnd : ResponsePiece::Kind::kStreamData;
    if (shared_->end) shared_->end = false, done_ = true;
    return piece;
  }
  ResponsePiece Heartbeat() override {
    return {.kind = ResponsePiece::Kind::kStreamData, .data = ": keep-alive\n\n"};
  }

 private:
  std::shared_ptr<Shared> shared_;
  bool done_ = false;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}) {
    auto server = HttpServer::Start(
        options,
        [this](const HttpRequest& request) {
          HandlerResult result;
          if (request.path == "/stream") {
            result.deferred = std::make_unique<TestStream>(stream_);
          } else {
            result.response.body = request.method + " " + request.path + " " +
                                   std::to_string(request.body.size());
          }
          return result;
        },
        [this](const ExchangeRecord& record) {
          absl::MutexLock lock(&mu_);
          records_.push_back(record);
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  tcp::socket Connect() {
    tcp::socket socket(io_);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    return socket;
  }

  // Reads until `needle` appears or the peer closes; at most 5 s.
  static std::string ReadUntil(tcp::socket& socket, const std::string& needle) {
    std::string got;
    socket.non_blocking(true);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    char buffer[65536];
    while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      boost::system::error_code ec;
      const size_t n = socket.read_some(net::buffer(buffer), ec);
      if (ec == net::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      if (ec) break;
      got.append(buffer, n);
    }
    return got;
  }

  // True when the peer closed the connection within `within`.
  static bool ClosedWithin(tcp::socket& socket, std::chrono::milliseconds within) {
    socket.non_blocking(true);
    const auto deadline = std::chrono::steady_clock::now() + within;
    char buffer[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      boost::system::error_code ec;
      socket.read_some(net::buffer(buffer), ec);
      if (ec == net::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      if (ec) return true;
    }
    return false;
  }

  net::io_context io_;
  std::shared_ptr<TestStream::Shared> stream_ = std::make_shared<TestStream::Shared>();
  std::unique_ptr<HttpServer> server_;
  absl::Mutex mu_;
  std::vector<ExchangeRecord> records_;
};

TEST_F(HttpServerTest, ServesSeveralRequestsOnOneKeepAliveConnection) {
  StartServer();
  tcp::socket socket = Connect();
  for (int i = 0; i < 3; ++i) {
    net::write(socket, net::buffer(std::string("POST /echo HTTP/1.1\r\nHost: x\r\n"
                                               "Content-Length: 5\r\n\r\nhello")));
    const std::string response = ReadUntil(socket, "POST /echo 5");
    EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK"));
    EXPECT_THAT(response, HasSubstr("POST /echo 5"));
  }
  absl::MutexLock lock(&mu_);
  ASSERT_EQ(records_.size(), 3u);
  EXPECT_EQ(records_[0].status, 200);
  EXPECT_EQ(records_[0].path, "/echo");
}

TEST_F(HttpServerTest, ExpectContinueGetsTheGoAheadBeforeTheBody) {
  StartServer();
  tcp::socket socket = Connect();
  net::write(socket, net::buffer(std::string("POST /echo HTTP/1.1\r\nHost: x\r\n"
                                             "Expect: 100-continue\r\nContent-Length: 3\r\n\r\n")));
  EXPECT_THAT(ReadUntil(socket, "\r\n\r\n"), StartsWith("HTTP/1.1 100 Continue\r\n\r\n"));
  net::write(socket, net::buffer(std::string("abc")));
  EXPECT_THAT(ReadUntil(socket, "POST /echo 3"), HasSubstr("POST /echo 3"));
}

TEST_F(HttpServerTest, TooLargeBodyGets413BeforeTheBodyIsSent) {
  StartServer({.max_body_bytes = 4096});
  tcp::socket socket = Connect();
  // Announces 100 MB and sends none of it: the answer comes from the header alone.
  net::write(socket, net::buffer(std::string("POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
                                             "Content-Length: 104857600\r\n\r\n")));
  const std::string response = ReadUntil(socket, "}}");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(response, HasSubstr("\"type\":\"RequestTooLargeError\""));
}

TEST_F(HttpServerTest, HeaderFloodGets431) {
  StartServer({.max_header_bytes = 4096});
  tcp::socket socket = Connect();
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 400; ++i) request += "X-Flood-" + std::to_string(i) + ": yes\r\n";
  request += "\r\n";
  boost::system::error_code ec;
  net::write(socket, net::buffer(request), ec);
  EXPECT_THAT(ReadUntil(socket, "}}"), StartsWith("HTTP/1.1 431"));
}

TEST_F(HttpServerTest, SlowClientIsCutOffAfterTheRequestTimeout) {
  StartServer({.request_timeout = absl::Milliseconds(300)});
  tcp::socket socket = Connect();
  net::write(socket, net::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n")));  // never ends
  EXPECT_TRUE(ClosedWithin(socket, std::chrono::milliseconds(3000)));
  // The server still answers others.
  tcp::socket other = Connect();
  net::write(other, net::buffer(std::string("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")));
  EXPECT_THAT(ReadUntil(other, "GET /ok 0"), StartsWith("HTTP/1.1 200"));
}

TEST_F(HttpServerTest, StreamsEventsChunkedAndEndsTheStream) {
  StartServer();
  tcp::socket socket = Connect();
  net::write(socket, net::buffer(std::string("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")));
  stream_->Push("data: one\n\n");
  std::string got = ReadUntil(socket, "data: one");
  EXPECT_THAT(got, StartsWith("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream"));
  EXPECT_THAT(got, HasSubstr("Transfer-Encoding: chunked"));
  EXPECT_THAT(got, HasSubstr("b\r\ndata: one\n\n\r\n"));  // 11 bytes, as one chunk
  stream_->Push("data: [DONE]\n\n", /*last=*/true);
  got = ReadUntil(socket, "0\r\n\r\n");
  EXPECT_THAT(got, HasSubstr("data: [DONE]\n\n\r\n0\r\n\r\n"));
  // The connection stays open for the next request.
  net::write(socket, net::buffer(std::string("GET /after HTTP/1.1\r\nHost: x\r\n\r\n")));
  EXPECT_THAT(ReadUntil(socket, "GET /after 0"), HasSubstr("GET /after 0"));
}

TEST_F(HttpServerTest, ClientThatLeavesWhileWaitingDestroysItsResponseAtOnce) {
  StartServer();
  {
    tcp::socket socket = Connect();
    net::write(socket, net::buffer(std::string("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(stream_->destroyed.load());
  }  // closed without reading anything, before any event
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!stream_->destroyed.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(stream_->destroyed.load());
}

TEST_F(HttpServerTest, ClientThatNeverReadsIsDroppedAfterTheWriteTimeout) {
  StartServer({.write_timeout = absl::Milliseconds(500)});
  tcp::socket socket = Connect();
  socket.set_option(net::socket_base::receive_buffer_size(4096));
  net::write(socket, net::buffer(std::string("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")));
  const std::string event = "data: " + std::string(60000, 'x') + "\n\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!stream_->destroyed.load() && std::chrono::steady_clock::now() < deadline) {
    stream_->Push(event);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(stream_->destroyed.load()) << "a stream nobody reads must be dropped";
}

TEST_F(HttpServerTest, ConnectionsBeyondTheCapGet503) {
  StartServer({.max_connections = 2});
  tcp::socket a = Connect(), b = Connect();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  tcp::socket c = Connect();
  net::write(c, net::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
  EXPECT_THAT(ReadUntil(c, "}}"), StartsWith("HTTP/1.1 503"));
}

TEST_F(HttpServerTest, MalformedRequestLineGets400) {
  StartServer();
  tcp::socket socket = Connect();
  net::write(socket, net::buffer(std::string("THIS IS NOT HTTP\r\n\r\n")));
  EXPECT_THAT(ReadUntil(socket, "}}"), StartsWith("HTTP/1.1 400"));
}

}  // namespace
}  // namespace shoal::router
