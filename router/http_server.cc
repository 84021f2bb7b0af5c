#include "router/http_server.h"

#include <sys/socket.h>

#include <chrono>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "fmt/format.h"
#include "router/openai_error.h"

namespace shoal::router {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

std::string ChunkOf(std::string_view data) {
  return fmt::format("{:x}\r\n{}\r\n", data.size(), data);
}

class Session;

}  // namespace

struct HttpServer::Impl {
  Impl(const HttpServerOptions& options, HttpHandler handler,
       std::function<void(const ExchangeRecord&)> on_exchange)
      : options(options),
        handler(std::move(handler)),
        on_exchange(std::move(on_exchange)),
        ioc(options.io_threads),
        acceptor(ioc) {}

  void Accept();
  void Register(uint64_t id, std::weak_ptr<Session> session) {
    absl::MutexLock lock(&mu);
    sessions.emplace(id, std::move(session));
  }
  void Unregister(uint64_t id) {
    absl::MutexLock lock(&mu);
    sessions.erase(id);
  }
  std::vector<std::shared_ptr<Session>> LiveSessions() {
    absl::MutexLock lock(&mu);
    std::vector<std::shared_ptr<Session>> out;
    for (auto& [id, weak] : sessions) {
      if (auto session = weak.lock()) out.push_back(std::move(session));
    }
    return out;
  }

  const HttpServerOptions options;
  const HttpHandler handler;
  const std::function<void(const ExchangeRecord&)> on_exchange;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<int> connections{0};
  std::atomic<bool> closing{false};  // no more keep-alive
  std::atomic<uint64_t> next_id{1};
  absl::Mutex mu;
  absl::flat_hash_map<uint64_t, std::weak_ptr<Session>> sessions ABSL_GUARDED_BY(mu);
};

namespace {

// One connection. Every member is touched on the connection's strand only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl& server, bool reject)
      : stream_(std::move(socket)),
        server_(server),
        heartbeat_(stream_.get_executor()),
        reject_(reject),
        id_(server.next_id++) {
    ++server_.connections;
  }
  ~Session() {
    server_.Unregister(id_);
    --server_.connections;
  }

  void Run() {
    server_.Register(id_, weak_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reject_) {
        self->WriteError(MakeOpenAiError(503, "the server has too many open connections"));
      } else {
        self->DoRead();
      }
    });
  }

  // Any thread.
  void PostClose(bool only_if_idle) {
    net::post(stream_.get_executor(), [self = shared_from_this(), only_if_idle] {
      if (!only_if_idle || !self->busy_) self->Close();
    });
  }

 private:
  void DoRead() {
    busy_ = false;
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(static_cast<uint64_t>(server_.options.max_body_bytes));
    stream_.expires_after(ToChrono(server_.options.request_timeout));
    reading_ = true;
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                              self->OnHeader(ec, bytes);
                            });
  }

  // curl (and others) send `Expect: 100-continue` with a larger body and wait up to a
  // second for the go-ahead before sending it.
  void OnHeader(beast::error_code ec, size_t header_bytes) {
    if (ec) return OnRead(ec, header_bytes);
    const auto& message = parser_->get();
    auto read_body = [self = shared_from_this(), header_bytes] {
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self, header_bytes](beast::error_code ec, size_t bytes) {
                         self->OnRead(ec, header_bytes + bytes);
                       });
    };
    if (const auto it = message.find(http::field::expect);
        it != message.end() && beast::iequals(it->value(), "100-continue") && !parser_->is_done()) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue, sizeof(kContinue) - 1),
                       [self = shared_from_this(), read_body](beast::error_code ec, size_t) {
                         if (ec) return self->OnRead(ec, 0);
                         read_body();
                       });
      return;
    }
    read_body();
  }

  void OnRead(beast::error_code ec, size_t bytes) {
    reading_ = false;
    stream_.expires_never();
    if (ec == http::error::body_limit) {
      return WriteError(MakeOpenAiError(413, fmt::format("the request body is larger than {} bytes",
                                                         server_.options.max_body_bytes)),
                        static_cast<int64_t>(bytes));
    }
    if (ec == http::error::header_limit) {
      return WriteError(
          MakeOpenAiError(431, fmt::format("the request headers are larger than {} bytes",
                                           server_.options.max_header_bytes)),
          static_cast<int64_t>(bytes));
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset) {
      return Close();  // gone, idle too long, or too slow to send its request
    }
    if (ec) {
      return WriteError(MakeOpenAiError(400, "malformed HTTP request: " + ec.message()),
                        static_cast<int64_t>(bytes));
    }

    busy_ = true;
    const auto& message = parser_->get();
    started_ = SteadyClock::now();
    first_byte_.reset();
    record_ = ExchangeRecord{};
    record_.method = std::string(message.method_string());
    const std::string_view target(message.target().data(), message.target().size());
    record_.path = std::string(target.substr(0, target.find('?')));
    record_.request_bytes = static_cast<int64_t>(bytes);
    keep_alive_ = message.keep_alive();
    HttpRequest request{.method = record_.method, .path = record_.path, .body = message.body()};
    if (auto it = message.find(http::field::authorization); it != message.end()) {
      request.authorization = std::string(it->value());
    }
    if (auto it = message.find("x-api-key"); it != message.end()) {
      request.x_api_key = std::string(it->value());
    }
    HandlerResult result = server_.handler(request);
    record_.info = std::move(result.info);
    if (result.deferred == nullptr) return WriteResponse(std::move(result.response));
    deferred_ = std::move(result.deferred);
    WatchClient();
    ArmHeartbeat(std::min(server_.options.keepalive_interval, absl::Milliseconds(500)));
    deferred_->Start([weak = weak_from_this(), executor = stream_.get_executor()] {
      net::post(executor, [weak] {
        if (auto self = weak.lock()) self->Pump();
      });
    });
    Pump();
  }

  bool KeepAlive() const { return keep_alive_ && !server_.closing.load(); }

  void WriteResponse(HttpResponse response) {
    record_.status = response.status;
    response_.emplace(static_cast<http::status>(response.status), 11);
    response_->set(http::field::content_type, response.content_type);
    response_->set(http::field::server, "shoal");
    for (const auto& [name, value] : response.headers) response_->set(name, value);
    response_->body() = std::move(response.body);
    response_->keep_alive(KeepAlive());
    response_->prepare_payload();
    MarkFirstByte();
    stream_.expires_after(ToChrono(server_.options.write_timeout));
    http::async_write(
        stream_, *response_,
        [self = shared_from_this(), exchange = exchange_](beast::error_code ec, size_t bytes) {
          // The exchange may have ended meanwhile (the client left).
          if (exchange != self->exchange_) return;
          self->stream_.expires_never();
          self->record_.response_bytes += static_cast<int64_t>(bytes);
          if (ec) {
            self->record_.client_gone = true;
            return self->EndExchange(false);
          }
          self->EndExchange(self->response_->keep_alive());
        });
  }

  // A protocol error: answer, then close without reading further requests (lingering
  // briefly so that the client sees the answer rather than a reset).
  void WriteError(const OpenAiError& error, int64_t request_bytes = 0) {
    busy_ = true;
    keep_alive_ = false;
    // No request was parsed: the exchange is the answer alone.
    started_ = SteadyClock::now();
    first_byte_.reset();
    record_ = ExchangeRecord{.method = "-", .path = "-", .request_bytes = request_bytes};
    HttpResponse response{.status = error.http_status, .body = error.body};
    WriteResponse(std::move(response));
  }

  void Pump() {
    if (deferred_ == nullptr || writing_ || closed_) return;
    Send(deferred_->Poll());
  }

  void Send(ResponsePiece piece) {
    switch (piece.kind) {
      case ResponsePiece::Kind::kPending:
        return;
      case ResponsePiece::Kind::kComplete:
        heartbeat_.cancel();
        return WriteResponse(std::move(piece.response));
      case ResponsePiece::Kind::kStreamData:
      case ResponsePiece::Kind::kStreamEnd: {
        const bool last = piece.kind == ResponsePiece::Kind::kStreamEnd;
        out_.clear();
        if (!head_sent_) {
          head_sent_ = true;
          record_.status = 200;
          out_ =
              "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
              "X-Accel-Buffering: no\r\nServer: shoal\r\nTransfer-Encoding: chunked\r\n";
          stream_keep_alive_ = KeepAlive();
          if (!stream_keep_alive_) out_ += "Connection: close\r\n";
          out_ += "\r\n";
        }
        if (!piece.data.empty()) out_ += ChunkOf(piece.data);
        if (last) out_ += "0\r\n\r\n";
        if (out_.empty()) return;
        WriteRaw(last);
        return;
      }
    }
  }

  void WriteRaw(bool last) {
    writing_ = true;
    MarkFirstByte();
    stream_.expires_after(ToChrono(server_.options.write_timeout));
    net::async_write(stream_, net::buffer(out_),
                     [self = shared_from_this(), last, exchange = exchange_](beast::error_code ec,
                                                                             size_t bytes) {
                       self->writing_ = false;
                       // The exchange may have ended meanwhile (the client left).
                       if (exchange != self->exchange_) return;
                       self->stream_.expires_never();
                       self->record_.response_bytes += static_cast<int64_t>(bytes);
                       if (ec) {  // gone, or too slow to read (write_timeout)
                         self->record_.client_gone = true;
                         return self->EndExchange(false);
                       }
                       if (last) {
                         self->head_sent_ = false;
                         return self->EndExchange(self->stream_keep_alive_);
                       }
                       self->Pump();
                     });
  }

  void ArmHeartbeat(absl::Duration after) {
    heartbeat_.expires_after(ToChrono(after));
    heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->deferred_ == nullptr || self->closed_) return;
      if (!self->writing_) self->Send(self->deferred_->Heartbeat());
      self->ArmHeartbeat(self->server_.options.keepalive_interval);
    });
  }

  // Notices a client that closes its connection while its response is being computed
  // (nothing is written then, so no write would fail): the socket turns readable with
  // end-of-file. Readable with data (a pipelined request) is left for the next read.
  // The wait holds the session alive while its response is computed.
  void WatchClient() {
    const uint64_t exchange = ++exchange_;
    stream_.socket().async_wait(
        tcp::socket::wait_read, [self = shared_from_this(), exchange](beast::error_code ec) {
          if (self->closed_ || exchange != self->exchange_ || self->deferred_ == nullptr) {
            return;
          }
          char byte;
          const ssize_t n =
              ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
          if (ec || n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            self->record_.client_gone = true;
            self->EndExchange(false);
          } else if (n < 0) {
            self->WatchClient();  // spurious wake-up
          }
        });
  }

  void MarkFirstByte() {
    if (!first_byte_) first_byte_ = SteadyClock::now();
  }

  void EndExchange(bool keep_alive) {
    ++exchange_;
    heartbeat_.cancel();
    if (deferred_ != nullptr) {
      const ExchangeInfo info = deferred_->info();
      if (!info.request_id.empty() || !info.model.empty()) record_.info = info;
      deferred_.reset();  // cancels what it started upstream, if it had not ended
    }
    if (record_.status == 0) record_.status = 499;  // the client left before any answer
    const auto now = SteadyClock::now();
    record_.seconds = std::chrono::duration<double>(now - started_).count();
    record_.seconds_to_first_byte =
        first_byte_ ? std::chrono::duration<double>(*first_byte_ - started_).count() : 0;
    if (server_.on_exchange) server_.on_exchange(record_);
    record_ = ExchangeRecord{};
    if (keep_alive) return DoRead();
    Close();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    heartbeat_.cancel();
    deferred_.reset();
    beast::error_code ignored;
    if (reading_) return stream_.close();  // an idle keep-alive connection: nothing to say
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    // Drain what the client still sends for a moment, so that closing with unread
    // input does not reset the connection before it read our answer.
    stream_.expires_after(std::chrono::seconds(1));
    auto discard = std::make_shared<std::array<char, 16384>>();
    Linger(discard, 0);
  }

  void Linger(std::shared_ptr<std::array<char, 16384>> discard, int64_t total) {
    if (total > (64 << 20)) return stream_.close();
    stream_.async_read_some(net::buffer(*discard), [self = shared_from_this(), discard, total](
                                                       beast::error_code ec, size_t n) {
      if (ec) return self->stream_.close();
      self->Linger(discard, total + static_cast<int64_t>(n));
    });
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  net::steady_timer heartbeat_;
  const bool reject_;
  const uint64_t id_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::unique_ptr<DeferredResponse> deferred_;
  std::string out_;
  ExchangeRecord record_;
  SteadyClock::time_point started_;
  std::optional<SteadyClock::time_point> first_byte_;
  uint64_t exchange_ = 0;
  bool keep_alive_ = false;
  bool stream_keep_alive_ = false;
  bool head_sent_ = false;
  bool writing_ = false;
  bool reading_ = false;
  bool busy_ = false;
  bool closed_ = false;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      const bool reject = connections.load() >= options.max_connections;
      std::make_shared<Session>(std::move(socket), *this, reject)->Run();
    }
    Accept();
  });
}

absl::Status HttpServerOptions::Validate() const {
  if (port < 0 || port > 65535) return absl::InvalidArgumentError("port must be in [0, 65535]");
  if (io_threads < 1 || io_threads > 256) {
    return absl::InvalidArgumentError("io_threads must be in [1, 256]");
  }
  if (max_connections < 1) return absl::InvalidArgumentError("max_connections must be >= 1");
  if (max_header_bytes < 1024 || max_body_bytes < 1024) {
    return absl::InvalidArgumentError("header and body limits must be at least 1 KiB");
  }
  if (request_timeout <= absl::ZeroDuration() || write_timeout <= absl::ZeroDuration() ||
      keepalive_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("HTTP timeouts must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, HttpHandler handler,
    std::function<void(const ExchangeRecord&)> on_exchange) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  auto impl = std::make_unique<Impl>(options, std::move(handler), std::move(on_exchange));
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(options.host, ec);
  if (ec)
    return absl::InvalidArgumentError(fmt::format("bad host '{}': {}", options.host, ec.message()));
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(options.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(fmt::format("cannot listen for HTTP on {}:{}: {}", options.host,
                                              options.port, ec.message()));
  }
  auto server = absl::WrapUnique(new HttpServer(std::move(impl)));
  server->port_ = server->impl_->acceptor.local_endpoint().port();
  server->impl_->Accept();
  for (int i = 0; i < options.io_threads; ++i) {
    server->impl_->threads.emplace_back([impl = server->impl_.get()] { impl->ioc.run(); });
  }
  return server;
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::open_connections() const { return impl_->connections.load(); }

void HttpServer::StopAccepting() {
  impl_->closing = true;
  net::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  for (auto& session : impl_->LiveSessions()) session->PostClose(/*only_if_idle=*/true);
}

void HttpServer::Stop() {
  if (impl_->threads.empty()) return;
  StopAccepting();
  for (auto& session : impl_->LiveSessions()) session->PostClose(/*only_if_idle=*/false);
  // With the acceptor closed and every session closing, run() returns once their last
  // handlers (the lingering reads, bounded by 1 s) completed.
  for (std::thread& thread : impl_->threads) thread.join();
  impl_->threads.clear();
}

}  // namespace shoal::router
