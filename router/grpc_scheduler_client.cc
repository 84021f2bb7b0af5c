#include "router/grpc_scheduler_client.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/memory/memory.h"
#include "absl/synchronization/mutex.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "grpcpp/grpcpp.h"

namespace shoal::router {
namespace {

// Keepalive pings while calls run, to notice a scheduler that vanished without closing
// its connection. gRPC's default server policy (a ping at most every 5 minutes without
// data) strikes faster pings, but the client sends at most two without data of its own
// (GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA), which stays under its strike limit.
constexpr int kKeepaliveTimeMs = 30'000;
constexpr int kKeepaliveTimeoutMs = 10'000;
// A restarted scheduler is found again within this (gRPC's default backs off to 120 s).
constexpr int kMaxReconnectBackoffMs = 10'000;
constexpr absl::Duration kCancelDeadline = absl::Seconds(2);

// The retry-after trailer ToGrpcStatus (common/grpc_status.h) sets, in whole seconds.
int RetryAfterTrailer(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("retry-after");
  if (it == trailers.end() || it->second.size() == 0 || it->second.size() > 6) return 0;
  int seconds = 0;
  for (char c : std::string(it->second.data(), it->second.size())) {
    if (c < '0' || c > '9') return 0;
    seconds = seconds * 10 + (c - '0');
  }
  return seconds;
}

// The inverse of ToGrpcStatus for a finished call: same code and message, and the
// retry-after trailer as the status's retry-after payload.
absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context) {
  if (status.ok()) return absl::OkStatus();
  // absl and gRPC share the canonical code numbering.
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  if (const int seconds = RetryAfterTrailer(context); seconds > 0) {
    result = WithRetryAfter(std::move(result), seconds);
  }
  return result;
}

class GenerateReactor;

}  // namespace

// What a client shares with its calls and their gRPC operations (streams, Cancel RPCs).
// Every grpc::ClientContext holds a reference to its channel, and gRPC 1.51 frees a
// completion queue twice when a channel's last reference goes on one of its own
// callback threads; so only the client owns the channel, and Close (its destructor)
// cancels the streams still running and waits until every operation has destroyed its
// context. Operations start only while the client lives (Begin).
class GrpcSchedulerClient::Connection {
 public:
  explicit Connection(v1::Scheduler::Stub* stub) : stub_(stub) {}

  // Counts an operation in flight and gives the stub to start it with; null once the
  // client is closed. Every non-null Begin is matched by one End, after the operation's
  // context is destroyed.
  v1::Scheduler::Stub* Begin(GenerateReactor* stream = nullptr) {
    absl::MutexLock lock(&mu_);
    if (stub_ == nullptr) return nullptr;
    ++in_flight_;
    if (stream != nullptr) streams_.insert(stream);
    return stub_;
  }
  // A stream's OnDone, before it deletes itself: Close no longer reaches it.
  void Forget(GenerateReactor* stream) {
    absl::MutexLock lock(&mu_);
    streams_.erase(stream);
  }
  void End() {
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }
  void Close();

 private:
  absl::Mutex mu_;
  v1::Scheduler::Stub* stub_ ABSL_GUARDED_BY(mu_);
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_set<GenerateReactor*> streams_ ABSL_GUARDED_BY(mu_);
};

namespace {

using Connection = GrpcSchedulerClient::Connection;

// What a call and its reactor share; it outlives both. `mu` orders everything: the
// consumer's Take/Cancel/destructor and gRPC's callbacks. (Lock order: a Connection's
// mutex before this one.) on_ready runs under `callback_mu` alone, never under `mu`:
// a consumer typically holds its own lock while it calls Take, and takes that same lock
// in on_ready, so calling on_ready under `mu` would invert the two.
struct CallState {
  absl::Mutex callback_mu ABSL_ACQUIRED_BEFORE(mu);
  std::function<void()> on_ready ABSL_GUARDED_BY(callback_mu);  // cleared by the call's destructor
  absl::Mutex mu;
  GenerateReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;     // null once its OnDone ran
  v1::SchedulerGenerateResponse pending ABSL_GUARDED_BY(mu);  // received, not taken
  bool has_pending ABSL_GUARDED_BY(mu) = false;
  bool finish_received ABSL_GUARDED_BY(mu) = false;
  bool failed ABSL_GUARDED_BY(mu) = false;  // ended without a Finish: see error
  absl::Status error ABSL_GUARDED_BY(mu);
  bool cancel_sent ABSL_GUARDED_BY(mu) = false;
  v1::CancelReason cancel_reason ABSL_GUARDED_BY(mu) = v1::CANCEL_REASON_UNSPECIFIED;
  // The Cancel RPC found no such request (it may have raced ahead of the Generate):
  // send it again when the consumer takes a message, which shows the request is live.
  bool resend_cancel ABSL_GUARDED_BY(mu) = false;

  void Notify() ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&callback_mu);
    if (on_ready) on_ready();
  }
};

// Sends the Cancel RPC without waiting for it (nothing once the client is closed).
void SendCancel(const std::shared_ptr<Connection>& connection,
                const std::shared_ptr<CallState>& state, const std::string& request_id,
                v1::CancelReason reason) {
  v1::Scheduler::Stub* stub = connection->Begin();
  if (stub == nullptr) return;
  struct Rpc {
    grpc::ClientContext context;
    v1::CancelRequest request;
    v1::CancelResponse response;
  };
  auto* rpc = new Rpc;
  rpc->context.set_deadline(absl::ToChronoTime(absl::Now() + kCancelDeadline));
  rpc->request.set_request_id(request_id);
  rpc->request.set_reason(reason);
  stub->async()->Cancel(&rpc->context, &rpc->request, &rpc->response,
                        [rpc, connection, state](grpc::Status status) {
                          if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
                            absl::MutexLock lock(&state->mu);
                            if (!state->finish_received && !state->failed) {
                              state->resend_cancel = true;
                            }
                          }
                          delete rpc;
                          connection->End();
                        });
}

// The gRPC side of one call; deletes itself in OnDone. It holds a hold (AddHold) while
// the consumer may still start reads, so OnDone never races a StartRead from Take.
class GenerateReactor final : public grpc::ClientReadReactor<v1::SchedulerGenerateResponse> {
 public:
  GenerateReactor(std::shared_ptr<Connection> connection, std::shared_ptr<CallState> state,
                  const v1::SchedulerGenerateRequest& request, const std::string& address)
      : connection_(std::move(connection)),
        state_(std::move(state)),
        request_(request),
        address_(address) {}

  // `stub` from connection_->Begin(this).
  void Start(v1::Scheduler::Stub& stub) {
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = this;
      reading_ = true;
      holding_ = true;
    }
    stub.async()->Generate(&context_, &request_, this);
    AddHold();
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    {
      absl::MutexLock lock(&state_->mu);
      reading_ = false;
      if (!ok) {  // the stream is over; its status comes to OnDone
        ReleaseHoldLocked();
        return;
      }
      state_->pending.Swap(&response_);  // empty: reads start only once it was taken
      state_->has_pending = true;
      if (state_->pending.has_finish()) {
        state_->finish_received = true;
        ReleaseHoldLocked();
      }
    }
    state_->Notify();  // gRPC runs OnDone only after this reaction returns
  }

  void OnDone(const grpc::Status& status) override {
    bool notify = false;
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = nullptr;
      if (!state_->finish_received) {
        state_->failed = true;
        state_->error = status.ok() ? absl::UnavailableError(fmt::format(
                                          "the stream of request '{}' from scheduler {} ended "
                                          "without a final message",
                                          request_.request_id(), address_))
                                    : FromGrpcStatus(status, context_);
        notify = true;
      }
    }
    if (notify) state_->Notify();
    std::shared_ptr<Connection> connection = connection_;
    connection->Forget(this);
    delete this;  // the context's channel reference goes before End lets the client go
    connection->End();
  }

  // The consumer took what arrived: read the next message.
  void ReadNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (reading_ || !holding_ || state_->has_pending || state_->finish_received) return;
    reading_ = true;
    StartRead(&response_);
  }

  // The consumer or the client is gone: stop the stream (the scheduler cancels the
  // request as CANCEL_REASON_CLIENT_GONE).
  void CancelLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (!state_->finish_received) context_.TryCancel();
    ReleaseHoldLocked();
  }
  void Cancel() {
    absl::MutexLock lock(&state_->mu);
    CancelLocked();
  }

 private:
  void ReleaseHoldLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (!holding_) return;
    holding_ = false;
    RemoveHold();  // OnDone, if due, is scheduled on another thread
  }

  const std::shared_ptr<Connection> connection_;
  const std::shared_ptr<CallState> state_;
  grpc::ClientContext context_;
  const v1::SchedulerGenerateRequest request_;
  const std::string address_;  // for messages
  v1::SchedulerGenerateResponse response_;
  bool reading_ = false;  // under state_->mu: a StartRead is outstanding
  bool holding_ = false;  // under state_->mu: the hold is held
};

class GrpcGenerateCall final : public GenerateCall {
 public:
  GrpcGenerateCall(std::shared_ptr<Connection> connection, std::shared_ptr<CallState> state,
                   std::string request_id)
      : connection_(std::move(connection)),
        state_(std::move(state)),
        request_id_(std::move(request_id)) {}

  // After this returns on_ready is never called: callbacks call it under
  // state_->callback_mu (this waits for one in progress). Otherwise never waits: the
  // stream ends on gRPC's threads.
  ~GrpcGenerateCall() override {
    {
      absl::MutexLock lock(&state_->callback_mu);
      state_->on_ready = nullptr;
    }
    absl::MutexLock lock(&state_->mu);
    if (state_->reactor != nullptr) state_->reactor->CancelLocked();
  }

  bool Take(v1::SchedulerGenerateResponse& out) override {
    std::optional<v1::CancelReason> resend;
    {
      absl::MutexLock lock(&state_->mu);
      out.Clear();
      if (!state_->has_pending) return false;
      out.Swap(&state_->pending);
      state_->has_pending = false;
      if (state_->reactor != nullptr) state_->reactor->ReadNextLocked();
      // This message shows the request is live: a Cancel that found none may now.
      if (state_->resend_cancel && !state_->finish_received) resend = state_->cancel_reason;
      state_->resend_cancel = false;
    }
    if (resend.has_value()) SendCancel(connection_, state_, request_id_, *resend);
    return true;
  }

  bool ended() const override {
    absl::MutexLock lock(&state_->mu);
    return state_->finish_received || state_->failed;
  }

  absl::Status error() const override {
    absl::MutexLock lock(&state_->mu);
    return state_->failed ? state_->error : absl::OkStatus();
  }

  void Cancel(v1::CancelReason reason) override {
    {
      absl::MutexLock lock(&state_->mu);
      if (state_->cancel_sent || state_->finish_received || state_->failed) return;
      state_->cancel_sent = true;
      state_->cancel_reason = reason;
    }
    SendCancel(connection_, state_, request_id_, reason);
  }

 private:
  const std::shared_ptr<Connection> connection_;
  const std::shared_ptr<CallState> state_;
  const std::string request_id_;
};

}  // namespace

void GrpcSchedulerClient::Connection::Close() {
  absl::MutexLock lock(&mu_);
  stub_ = nullptr;
  // A stream leaves streams_ (Forget) before it is deleted, so each one here is alive.
  for (GenerateReactor* stream : streams_) stream->Cancel();
  mu_.Await(absl::Condition(
      +[](int64_t* in_flight) { return *in_flight == 0; }, &in_flight_));
}

absl::StatusOr<std::unique_ptr<GrpcSchedulerClient>> GrpcSchedulerClient::Create(
    std::string address) {
  if (address.empty()) return absl::InvalidArgumentError("the scheduler address is empty");
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  // A fixed 64 KiB window per stream: what a consumer that stopped taking leaves
  // buffered (BDP probing would grow it, by hundreds of KiB on a fast link).
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  return absl::WrapUnique(new GrpcSchedulerClient(std::move(address), std::move(channel)));
}

GrpcSchedulerClient::GrpcSchedulerClient(std::string address,
                                         std::shared_ptr<grpc::Channel> channel)
    : address_(std::move(address)),
      channel_(std::move(channel)),
      stub_(v1::Scheduler::NewStub(channel_)),
      connection_(std::make_shared<Connection>(stub_.get())) {}

GrpcSchedulerClient::~GrpcSchedulerClient() { connection_->Close(); }

std::unique_ptr<GenerateCall> GrpcSchedulerClient::Generate(
    const v1::SchedulerGenerateRequest& request, std::function<void()> on_ready) {
  auto state = std::make_shared<CallState>();
  {
    absl::MutexLock lock(&state->callback_mu);
    state->on_ready = std::move(on_ready);
  }
  auto call = std::make_unique<GrpcGenerateCall>(connection_, state, request.request_id());
  auto* reactor = new GenerateReactor(connection_, state, request, address_);  // deleted in OnDone
  reactor->Start(*connection_->Begin(reactor));  // not null: this client is open
  return call;
}

absl::StatusOr<v1::StatsResponse> GrpcSchedulerClient::Stats(absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::StatsResponse response;
  const grpc::Status status = stub_->Stats(&context, v1::StatsRequest(), &response);
  if (status.ok()) return response;
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(fmt::format("scheduler {} did not answer Stats within {}",
                                              address_, absl::FormatDuration(timeout)));
  }
  return Annotate(FromGrpcStatus(status, context), fmt::format("scheduler {}", address_));
}

}  // namespace shoal::router
