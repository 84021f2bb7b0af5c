#include "scheduler/scheduler_service.h"

#include <memory>

#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"

namespace shoal::scheduler {
namespace {

// One Generate call. Writes are started from two places, the engine's step thread (new
// data: the stream's listener) and gRPC (a write completed), so both go through
// Guard::mu. The listener holds the guard, not the reactor: OnDone clears the guard's
// pointer before the reactor is deleted, so a late listener call finds nothing.
class GenerateReactor final : public grpc::ServerWriteReactor<v1::SchedulerGenerateResponse> {
 public:
  GenerateReactor(EngineCore& engine, grpc::CallbackServerContext& context,
                  const v1::SchedulerGenerateRequest& request)
      : engine_(engine), guard_(std::make_shared<Guard>()) {
    guard_->reactor = this;
    absl::StatusOr<std::shared_ptr<RequestStream>> stream = engine.Submit(request);
    if (!stream.ok()) {  // never started: nothing of this call's to cancel
      finished_ = true;
      Finish(ToGrpcStatus(stream.status(), context));
      return;
    }
    stream_ = std::move(*stream);
    stream_->SetListener([guard = guard_] {
      absl::MutexLock lock(&guard->mu);
      if (guard->reactor != nullptr) guard->reactor->MaybeWriteLocked();
    });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&guard_->mu);
    writing_ = false;
    if (!ok) {  // the client is gone
      engine_.Cancel(stream_, v1::CANCEL_REASON_CLIENT_GONE);
      if (!finished_) {
        finished_ = true;
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the stream was closed"));
      }
      return;
    }
    MaybeWriteLocked();
  }

  // Only this call's own request: an id refused as ALREADY_EXISTS belongs to another.
  void OnCancel() override { engine_.Cancel(stream_, v1::CANCEL_REASON_CLIENT_GONE); }

  void OnDone() override {
    {
      absl::MutexLock lock(&guard_->mu);
      guard_->reactor = nullptr;
    }
    if (stream_ != nullptr) stream_->SetListener(nullptr);
    delete this;
  }

 private:
  struct Guard {
    absl::Mutex mu;
    GenerateReactor* reactor = nullptr;
  };

  // With guard_->mu held.
  void MaybeWriteLocked() {
    if (writing_ || finished_ || !stream_->TakePending(response_)) return;
    writing_ = true;
    if (response_.has_finish()) {
      finished_ = true;
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    } else {
      StartWrite(&response_);
    }
  }

  EngineCore& engine_;
  std::shared_ptr<Guard> guard_;
  std::shared_ptr<RequestStream> stream_;
  v1::SchedulerGenerateResponse response_;
  bool writing_ = false;
  bool finished_ = false;
};

}  // namespace

grpc::ServerWriteReactor<v1::SchedulerGenerateResponse>* SchedulerService::Generate(
    grpc::CallbackServerContext* context, const v1::SchedulerGenerateRequest* request) {
  return new GenerateReactor(engine_, *context, *request);
}

grpc::ServerUnaryReactor* SchedulerService::Cancel(grpc::CallbackServerContext* context,
                                                   const v1::CancelRequest* request,
                                                   v1::CancelResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(engine_.Cancel(request->request_id(), request->reason())));
  return reactor;
}

grpc::ServerUnaryReactor* SchedulerService::Stats(grpc::CallbackServerContext* context,
                                                  const v1::StatsRequest* request,
                                                  v1::StatsResponse* response) {
  *response = engine_.Stats();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* SchedulerService::AttachWorker(grpc::CallbackServerContext* context,
                                                         const v1::AttachWorkerRequest* request,
                                                         v1::AttachWorkerResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                               "this scheduler runs its worker in-process (--world 1); workers "
                               "in their own processes are not supported yet"));
  return reactor;
}

}  // namespace shoal::scheduler
