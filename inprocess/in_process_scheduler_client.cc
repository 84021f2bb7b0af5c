#include "inprocess/in_process_scheduler_client.h"

#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "scheduler/request_stream.h"

namespace shoal::inprocess {
namespace {

// One request. The stream's listener (step thread) reaches on_ready through Guard, not
// through the call: the destructor clears Guard::on_ready under Guard::mu, so a listener
// that is running finishes before the destructor returns and a later one finds nothing
// (as scheduler_service.cc's GenerateReactor does).
class InProcessGenerateCall final : public router::GenerateCall {
 public:
  InProcessGenerateCall(scheduler::EngineCore& engine, std::function<void()> on_ready)
      : engine_(engine), guard_(std::make_shared<Guard>()) {
    guard_->on_ready = std::move(on_ready);
  }

  // Submits the request: its data will reach on_ready, or its refusal becomes error()
  // and on_ready runs once, here.
  void Start(const v1::SchedulerGenerateRequest& request) {
    absl::StatusOr<std::shared_ptr<scheduler::RequestStream>> stream = engine_.Submit(request);
    if (!stream.ok()) {
      error_ = stream.status();
      absl::MutexLock lock(&guard_->mu);
      if (guard_->on_ready) guard_->on_ready();
      return;
    }
    stream_ = std::move(*stream);
    // Calls the listener at once when data is pending already.
    stream_->SetListener([guard = guard_] {
      absl::MutexLock lock(&guard->mu);
      if (guard->on_ready) guard->on_ready();
    });
  }

  ~InProcessGenerateCall() override {
    if (stream_ == nullptr) return;  // refused: nothing of ours to cancel
    stream_->SetListener(nullptr);
    {
      // Waits for a listener call in progress on the step thread.
      absl::MutexLock lock(&guard_->mu);
      guard_->on_ready = nullptr;
    }
    // Only this call's own request (an id in use by another call is not ours).
    if (!stream_->finished()) engine_.Cancel(stream_, v1::CANCEL_REASON_CLIENT_GONE);
  }

  bool Take(v1::SchedulerGenerateResponse& out) override {
    if (stream_ == nullptr) {
      out.Clear();
      return false;
    }
    return stream_->TakePending(out);
  }

  bool ended() const override { return stream_ == nullptr || stream_->finished(); }

  absl::Status error() const override { return error_; }

  void Cancel(v1::CancelReason reason) override {
    if (stream_ != nullptr) engine_.Cancel(stream_, reason);
  }

 private:
  struct Guard {
    absl::Mutex mu;
    std::function<void()> on_ready ABSL_GUARDED_BY(mu);
  };

  scheduler::EngineCore& engine_;
  const std::shared_ptr<Guard> guard_;
  // Both set in Start, before the call is handed out, and constant afterwards.
  std::shared_ptr<scheduler::RequestStream> stream_;  // null when the engine refused
  absl::Status error_;
};

}  // namespace

std::unique_ptr<router::GenerateCall> InProcessSchedulerClient::Generate(
    const v1::SchedulerGenerateRequest& request, std::function<void()> on_ready) {
  auto call = std::make_unique<InProcessGenerateCall>(engine_, std::move(on_ready));
  call->Start(request);
  return call;
}

absl::StatusOr<v1::StatsResponse> InProcessSchedulerClient::Stats(absl::Duration timeout) {
  return engine_.Stats();
}

}  // namespace shoal::inprocess
