// The HTTP target (target.h): a Boost.Beast HTTP/1.1 client on the run's io_context.
//
// Each Send is an Exchange that takes a kept-alive connection from the idle pool (or
// opens one), writes the request, reads the response head, then the body in pieces as
// they arrive (Beast decodes chunked and close-delimited bodies), feeding them to the
// SSE parser and the stream reader. `done` is posted at `data: [DONE]` (or the failure);
// the rest of the body (the chunked terminator) is still read so that the connection
// can go back to the pool. A pooled connection the server closed is noticed before use
// (a peek sees its EOF) or, when the close races the request, by a failure before any
// response byte: the request is then sent once more on a new connection.
//
// Thread: everything (the target, its exchanges, the pool) runs on the io_context's one
// thread; handlers keep their exchange alive through a shared_ptr.
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/load/openai_stream.h"
#include "bench/load/sse_parser.h"
#include "bench/load/target.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"

namespace shoal::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

constexpr size_t kReadPieceBytes = 16 << 10;
constexpr size_t kMaxErrorBodyBytes = 64 << 10;

struct Connection {
  explicit Connection(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  beast::flat_buffer buffer;  // bytes read but not yet parsed
};

class Exchange;

// What the target and its exchanges share; it outlives the target while handlers of
// its exchanges are pending.
struct TargetState {
  TargetState(asio::io_context& io, const TargetOptions& options) : io(io), options(options) {}

  asio::io_context& io;
  TargetOptions options;
  tcp::resolver::results_type endpoints;
  std::string path;         // "/v1/completions" or "/v1/chat/completions"
  std::string host_header;  // "HOST:PORT"
  std::vector<std::unique_ptr<Connection>> idle;
  std::unordered_set<Exchange*> in_flight;
  bool shut_down = false;  // the target is gone: no done, no pooling
};

// Whether a kept-alive connection can no longer carry a request: the server closed it
// (a peek reads EOF or an error) or sent bytes nobody asked for.
bool Unusable(tcp::socket& socket) {
  char byte;
  ErrorCode ec;
  socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
  return ec != asio::error::would_block;
}

std::string WithBrackets(const std::string& host) {
  return host.find(':') == std::string::npos ? host : absl::StrCat("[", host, "]");
}

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<TargetState> state, const RequestSpec& spec,
           std::function<void(RequestRecord)> done)
      : state_(std::move(state)),
        done_(std::move(done)),
        reader_(state_->options.api, &record_),
        timer_(state_->io) {
    record_.index = spec.index;
    record_.tenant = spec.tenant;
    record_.prompt_tokens = spec.prompt_tokens;
    record_.start = state_->options.clock->Now();
    request_ = BuildRequest(spec);
    state_->in_flight.insert(this);
  }
  ~Exchange() { state_->in_flight.erase(this); }

  void Start() {
    if (state_->options.request_timeout != absl::InfiniteDuration()) {
      timer_.expires_after(absl::ToChronoNanoseconds(state_->options.request_timeout));
      timer_.async_wait([self = shared_from_this()](ErrorCode ec) { self->OnTimeout(ec); });
    }
    std::vector<std::unique_ptr<Connection>>& idle = state_->idle;
    while (!idle.empty()) {
      conn_ = std::move(idle.back());
      idle.pop_back();
      if (!Unusable(conn_->socket)) {
        reused_ = true;
        Write();
        return;
      }
      ErrorCode ignored;
      conn_->socket.close(ignored);
    }
    Connect();
  }

  // Ends the request now with kDisconnect (unless it already ended) and closes its
  // connection.
  void Cancel(std::string_view why) {
    Finish(Outcome::kDisconnect, 0, std::string(why), state_->options.clock->Now());
    Close();
  }

 private:
  http::request<http::string_body> BuildRequest(const RequestSpec& spec) const {
    const TargetOptions& options = state_->options;
    http::request<http::string_body> request(http::verb::post, state_->path, 11);
    request.set(http::field::host, state_->host_header);
    request.set(http::field::user_agent, "shoal-bench");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::accept, "text/event-stream");
    if (!spec.api_key.empty()) {
      request.set(http::field::authorization, absl::StrCat("Bearer ", spec.api_key));
    }
    request.keep_alive(true);
    request.body() = StreamingRequestBody(spec, options.api, options.model);
    request.prepare_payload();
    return request;
  }

  void Connect() {
    conn_ = std::make_unique<Connection>(state_->io);
    reused_ = false;
    asio::async_connect(
        conn_->socket, state_->endpoints,
        [self = shared_from_this()](ErrorCode ec, const tcp::endpoint&) { self->OnConnect(ec); });
  }

  void OnConnect(ErrorCode ec) {
    if (ec) return Fail(absl::StrCat("connect: ", ec.message()));
    ErrorCode ignored;
    conn_->socket.set_option(tcp::no_delay(true), ignored);
    // Only Unusable's peek is synchronous; asynchronous operations ignore this mode.
    conn_->socket.non_blocking(true, ignored);
    Write();
  }

  void Write() {
    http::async_write(conn_->socket, request_,
                      [self = shared_from_this()](ErrorCode ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(ErrorCode ec) {
    if (ec) {
      if (RetryOnNewConnection()) return;
      return Fail(absl::StrCat("write: ", ec.message()));
    }
    parser_.emplace();
    parser_->body_limit(boost::none);  // a long stream is bounded by the timeout instead
    http::async_read_header(
        conn_->socket, conn_->buffer, *parser_,
        [self = shared_from_this()](ErrorCode ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(ErrorCode ec) {
    if (ec) {
      if (RetryOnNewConnection()) return;
      return Fail(absl::StrCat("read: ", ec.message()));
    }
    status_ = parser_->get().result_int();
    http_error_ = status_ < 200 || status_ > 299;
    if (parser_->is_done()) return OnBodyEnd();
    ReadBody();
  }

  void ReadBody() {
    http::buffer_body::value_type& body = parser_->get().body();
    body.data = piece_.data();
    body.size = piece_.size();
    http::async_read_some(conn_->socket, conn_->buffer, *parser_,
                          [self = shared_from_this()](ErrorCode ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(ErrorCode ec) {
    if (ec == http::error::need_buffer) ec = {};  // the piece is full: not an error
    if (!ec) {
      const size_t n = piece_.size() - parser_->get().body().size;
      if (n > 0) OnBodyBytes(std::string_view(piece_.data(), n));
      if (parser_->is_done()) return OnBodyEnd();
      return ReadBody();
    }
    if (http_error_) {
      Finish(Outcome::kHttpError, status_, ErrorMessageOf(error_body_), Now());
      return Close();
    }
    Fail(absl::StrCat("read: ", ec.message()));
  }

  void OnBodyBytes(std::string_view bytes) {
    if (http_error_) {
      error_body_.append(bytes.substr(0, kMaxErrorBodyBytes - error_body_.size()));
      return;
    }
    if (finished_) return;  // draining after [DONE] or an error event
    const double now = Now();
    events_.clear();
    sse_.Feed(bytes, events_);
    for (const SseParser::Event& event : events_) {
      switch (reader_.OnEvent(event.data, now)) {
        case StreamReader::Result::kMore:
          break;
        case StreamReader::Result::kDone:
          return Finish(Outcome::kOk, 0, "", now);
        case StreamReader::Result::kError:
          return Finish(Outcome::kHttpError, reader_.error_code(), reader_.error(), now);
      }
    }
  }

  void OnBodyEnd() {
    if (http_error_) {
      Finish(Outcome::kHttpError, status_, ErrorMessageOf(error_body_), Now());
    } else {
      // A close-delimited body ends at EOF: only [DONE] says the stream was whole.
      Finish(Outcome::kDisconnect, 0,
             reader_.saw_event() ? "the stream ended before data: [DONE]"
                                 : "the response ended without an event (not an SSE stream?)",
             Now());
    }
    // Not pooled: a connection the server will close, one with bytes nobody asked for, or
    // one cancelled while this handler was already queued.
    if (!parser_->keep_alive() || conn_->buffer.size() > 0 || !conn_->socket.is_open() ||
        state_->shut_down) {
      return Close();
    }
    timer_.cancel();
    state_->idle.push_back(std::move(conn_));
  }

  // A kept-alive connection that fails before any byte of the response arrived was
  // most likely closed by the server while idle: send once more on a new connection.
  bool RetryOnNewConnection() {
    if (!reused_ || retried_ || finished_ || (parser_ && parser_->got_some())) return false;
    retried_ = true;
    ErrorCode ignored;
    conn_->socket.close(ignored);
    parser_.reset();
    Connect();
    return true;
  }

  void Fail(std::string error) {
    Finish(Outcome::kDisconnect, 0, std::move(error), Now());
    Close();
  }

  void OnTimeout(ErrorCode ec) {
    if (ec == asio::error::operation_aborted) return;
    Finish(Outcome::kTimeout, 0,
           absl::StrCat("no complete response within ",
                        absl::FormatDuration(state_->options.request_timeout)),
           Now());
    Close();  // also bounds the drain of a response whose [DONE] came
  }

  // Runs once: the record is complete; `done` gets it through a post, never inside the
  // caller's Send or Cancel.
  void Finish(Outcome outcome, int code, std::string error, double now) {
    if (finished_) return;
    finished_ = true;
    reader_.Finish();
    record_.end = now;
    record_.outcome = outcome;
    record_.code = code;
    record_.error = std::move(error);
    if (state_->shut_down) return;
    asio::post(state_->io, [done = std::move(done_), record = std::move(record_)]() mutable {
      done(std::move(record));
    });
  }

  // Pending operations end with operation_aborted; their handlers find the request
  // finished and let the exchange go.
  void Close() {
    timer_.cancel();
    if (conn_ == nullptr) return;
    ErrorCode ignored;
    conn_->socket.close(ignored);
  }

  double Now() const { return state_->options.clock->Now(); }

  std::shared_ptr<TargetState> state_;
  std::function<void(RequestRecord)> done_;
  RequestRecord record_;
  StreamReader reader_;
  asio::steady_timer timer_;
  http::request<http::string_body> request_;
  std::unique_ptr<Connection> conn_;
  bool reused_ = false;    // conn_ came from the pool
  bool retried_ = false;   // sent a second time already
  bool finished_ = false;  // `done` was posted (or the target is gone)
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::array<char, kReadPieceBytes> piece_;
  int status_ = 0;
  bool http_error_ = false;
  std::string error_body_;
  SseParser sse_;
  std::vector<SseParser::Event> events_;
};

class HttpTarget : public Target {
 public:
  explicit HttpTarget(std::shared_ptr<TargetState> state) : state_(std::move(state)) {}

  // Drops what is in flight without running its `done` (whoever ran the requests is
  // going away too) and closes every connection.
  ~HttpTarget() override {
    state_->shut_down = true;
    CloseInFlight("");
    for (std::unique_ptr<Connection>& connection : state_->idle) {
      ErrorCode ignored;
      connection->socket.close(ignored);
    }
    state_->idle.clear();
  }

  void Send(const RequestSpec& spec, std::function<void(RequestRecord)> done) override {
    std::make_shared<Exchange>(state_, spec, std::move(done))->Start();
  }

  void CancelAll() override { CloseInFlight("cancelled by the run"); }

  std::string description() const override {
    return absl::StrCat("http://", state_->host_header, state_->path);
  }

 private:
  void CloseInFlight(std::string_view why) {
    // Cancel only closes sockets; the set changes later, in handlers. A copy anyway.
    const std::vector<Exchange*> in_flight(state_->in_flight.begin(), state_->in_flight.end());
    for (Exchange* exchange : in_flight) exchange->Cancel(why);
  }

  std::shared_ptr<TargetState> state_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Target>> MakeHttpTarget(boost::asio::io_context& io,
                                                       const TargetOptions& options) {
  if (options.clock == nullptr) return absl::InvalidArgumentError("the HTTP target needs a clock");
  if (options.host.empty()) return absl::InvalidArgumentError("the HTTP target needs a host");
  if (options.port < 1 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", options.port, " is out of range"));
  }
  if (options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the request timeout must be positive");
  }
  auto state = std::make_shared<TargetState>(io, options);
  // Resolved once, before the run, so that no request waits on a name lookup.
  tcp::resolver resolver(io);
  ErrorCode ec;
  state->endpoints = resolver.resolve(options.host, std::to_string(options.port), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve ", options.host, ": ", ec.message()));
  }
  state->path = options.api == Api::kChatCompletions ? "/v1/chat/completions" : "/v1/completions";
  state->host_header = absl::StrCat(WithBrackets(options.host), ":", options.port);
  return std::unique_ptr<Target>(new HttpTarget(std::move(state)));
}

}  // namespace shoal::bench
