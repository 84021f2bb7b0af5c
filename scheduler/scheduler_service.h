// The Scheduler gRPC service (scheduler.proto) over an EngineCore, with gRPC's callback
// API: a Generate call is a reactor that writes whatever its request's stream holds each
// time the previous write completes, so no handler thread ever waits on the engine; a
// client that disconnects or cancels cancels its request.
#ifndef SHOAL_SCHEDULER_SCHEDULER_SERVICE_H_
#define SHOAL_SCHEDULER_SCHEDULER_SERVICE_H_

#include "scheduler/engine_core.h"
#include "shoal/v1/scheduler.grpc.pb.h"

namespace shoal::scheduler {

class SchedulerService final : public v1::Scheduler::CallbackService {
 public:
  // `engine` must outlive the service.
  explicit SchedulerService(EngineCore& engine) : engine_(engine) {}

  grpc::ServerWriteReactor<v1::SchedulerGenerateResponse>* Generate(
      grpc::CallbackServerContext* context, const v1::SchedulerGenerateRequest* request) override;
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* context,
                                   const v1::CancelRequest* request,
                                   v1::CancelResponse* response) override;
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* context,
                                  const v1::StatsRequest* request,
                                  v1::StatsResponse* response) override;
  grpc::ServerUnaryReactor* AttachWorker(grpc::CallbackServerContext* context,
                                         const v1::AttachWorkerRequest* request,
                                         v1::AttachWorkerResponse* response) override;

 private:
  EngineCore& engine_;
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_SCHEDULER_SERVICE_H_
