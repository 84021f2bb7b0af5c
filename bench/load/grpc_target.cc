// The gRPC target: shoal.v1.Inference/Generate with the callback API. Messages arrive on
// gRPC's threads, are time-stamped there, and are handed to the run's io_context thread,
// where the record is kept and `done` runs.
#include <memory>
#include <set>

#include "absl/synchronization/mutex.h"
#include "boost/asio/post.hpp"
#include "fmt/format.h"
#include "grpcpp/grpcpp.h"
#include "shoal/v1/inference.grpc.pb.h"
#include "bench/load/target.h"

namespace shoal::bench {
namespace {

namespace net = boost::asio;

class GrpcTarget;

class GenerateCall final : public grpc::ClientReadReactor<v1::GenerateResponse> {
 public:
  GenerateCall(GrpcTarget& target, const RequestSpec& spec,
               std::function<void(RequestRecord)> done);
  void Start(v1::Inference::Stub& stub);
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  GrpcTarget& target_;
  grpc::ClientContext context_;
  v1::GenerateRequest request_;
  v1::GenerateResponse response_;
  // Touched on gRPC's threads only until OnDone hands it to the io_context.
  RequestRecord record_;
  std::function<void(RequestRecord)> done_;
};

class GrpcTarget final : public Target {
 public:
  GrpcTarget(net::io_context& io, const TargetOptions& options)
      : io_(io),
        options_(options),
        address_(fmt::format("{}:{}", options.host, options.port)),
        channel_(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials())),
        stub_(v1::Inference::NewStub(channel_)) {}

  // Waits until every call has let go of its context: the channel must not lose its
  // last reference on one of gRPC's callback threads (gRPC 1.51 aborts).
  ~GrpcTarget() override {
    absl::MutexLock lock(&mu_);
    auto all_ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outstanding_ == 0; };
    mu_.Await(absl::Condition(&all_ended));
  }

  void Send(const RequestSpec& spec, std::function<void(RequestRecord)> done) override {
    auto* call = new GenerateCall(*this, spec, std::move(done));  // deletes itself
    {
      absl::MutexLock lock(&mu_);
      live_.insert(call);
      ++outstanding_;
    }
    call->Start(*stub_);
  }

  void CancelAll() override {
    absl::MutexLock lock(&mu_);
    for (GenerateCall* call : live_) call->Cancel();
  }

  std::string description() const override { return "grpc://" + address_; }

  const TargetOptions& options() const { return options_; }
  net::io_context& io() { return io_; }
  void Forget(GenerateCall* call) {
    absl::MutexLock lock(&mu_);
    live_.erase(call);
  }
  // After a call was deleted (its context gone).
  void CallEnded() {
    absl::MutexLock lock(&mu_);
    --outstanding_;
  }

 private:
  net::io_context& io_;
  const TargetOptions options_;
  const std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Inference::Stub> stub_;
  absl::Mutex mu_;
  std::set<GenerateCall*> live_ ABSL_GUARDED_BY(mu_);
  int64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;  // calls not yet deleted
};

GenerateCall::GenerateCall(GrpcTarget& target, const RequestSpec& spec,
                           std::function<void(RequestRecord)> done)
    : target_(target), done_(std::move(done)) {
  const TargetOptions& options = target.options();
  request_.set_model(options.model);
  if (options.api == Api::kChatCompletions && !spec.messages.empty()) {
    for (const auto& [role, content] : spec.messages) {
      v1::ChatMessage* message = request_.mutable_chat()->add_messages();
      message->set_role(role);
      message->set_content(content);
    }
  } else if (!spec.prompt_token_ids.empty()) {
    request_.mutable_prompt_token_ids()->mutable_ids()->Assign(spec.prompt_token_ids.begin(),
                                                               spec.prompt_token_ids.end());
  } else {
    request_.set_prompt(spec.prompt_text);
  }
  v1::SamplingParams* sampling = request_.mutable_sampling();
  sampling->set_temperature(0);
  sampling->set_max_tokens(spec.max_tokens);
  sampling->set_ignore_eos(spec.ignore_eos);
  sampling->set_min_tokens(spec.min_tokens);
  request_.set_return_token_ids(true);
  if (!spec.api_key.empty()) context_.AddMetadata("authorization", "Bearer " + spec.api_key);
  context_.set_deadline(absl::ToChronoTime(absl::Now() + options.request_timeout));
  record_.index = spec.index;
  record_.tenant = spec.tenant;
  record_.prompt_tokens = spec.prompt_tokens;
}

void GenerateCall::Start(v1::Inference::Stub& stub) {
  record_.start = target_.options().clock->Now();
  stub.async()->Generate(&context_, &request_, this);
  StartRead(&response_);
  StartCall();
}

void GenerateCall::OnReadDone(bool ok) {
  if (!ok) return;  // the status comes to OnDone
  const double now = target_.options().clock->Now();
  if (response_.has_chunk() && response_.chunk().token_ids_size() > 0) {
    if (record_.first_token < 0) record_.first_token = now;
    record_.token_times.push_back(now);
    record_.output_tokens += response_.chunk().token_ids_size();
  }
  if (response_.has_final()) {
    const v1::Usage& usage = response_.final().usage();
    record_.prompt_tokens = usage.prompt_tokens();
    record_.output_tokens = usage.completion_tokens();
    record_.cached_prompt_tokens = usage.cached_prompt_tokens();
    const v1::FinishReason reason = response_.final().finish_reason();
    if (reason == v1::FINISH_REASON_ERROR || reason == v1::FINISH_REASON_ABORTED) {
      record_.outcome = Outcome::kGrpcError;
      record_.code = static_cast<int>(grpc::StatusCode::ABORTED);
      record_.error = response_.final().error_message();
    }
  }
  StartRead(&response_);
}

void GenerateCall::OnDone(const grpc::Status& status) {
  record_.end = target_.options().clock->Now();
  if (!status.ok() && record_.outcome == Outcome::kOk) {
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      record_.outcome = Outcome::kTimeout;
    } else if (status.error_code() == grpc::StatusCode::CANCELLED) {
      record_.outcome = Outcome::kDisconnect;
    } else {
      record_.outcome = Outcome::kGrpcError;
    }
    record_.code = static_cast<int>(status.error_code());
    record_.error = status.error_message();
  }
  target_.Forget(this);
  net::post(target_.io(), [done = std::move(done_), record = std::move(record_)]() mutable {
    done(std::move(record));
  });
  GrpcTarget& target = target_;
  delete this;
  target.CallEnded();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Target>> MakeGrpcTarget(net::io_context& io,
                                                       const TargetOptions& options) {
  if (options.clock == nullptr) return absl::InvalidArgumentError("the target needs a clock");
  return std::make_unique<GrpcTarget>(io, options);
}

}  // namespace shoal::bench
