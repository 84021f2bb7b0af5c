// The router's SchedulerClient over gRPC, to a `shoal.v1.Scheduler` service
// (`shoal router --scheduler HOST:PORT`), with the same semantics as the in-process one
// (inprocess/in_process_scheduler_client.h). A Generate call is a ClientReadReactor: no
// thread per call.
//
// Flow control: a call holds at most one received message; it reads the next only
// after the consumer took it, so a consumer that stops taking stops the stream at the
// gRPC window and the scheduler's bound on unread tokens then aborts the request
// (ABORTED, RESOURCE_EXHAUSTED). Cancel sends the Cancel RPC and the stream still ends
// with its Finish; destroying an unfinished call cancels the stream itself (the
// scheduler then cancels the request as CANCEL_REASON_CLIENT_GONE). A stream that fails
// without a Finish gives its status as error(), with the scheduler's `retry-after`
// trailer as the status's retry-after payload (common/status_util.h).
//
// Threads: thread-safe. on_ready runs on gRPC's callback threads.
#ifndef SHOAL_ROUTER_GRPC_SCHEDULER_CLIENT_H_
#define SHOAL_ROUTER_GRPC_SCHEDULER_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "router/scheduler_client.h"
#include "shoal/v1/scheduler.grpc.pb.h"

namespace shoal::router {

class GrpcSchedulerClient final : public SchedulerClient {
 public:
  // A channel to `address` ("host:port", or any gRPC target): connects lazily, keeps
  // the connection checked with keepalive pings while calls run. InvalidArgument for an
  // empty address.
  static absl::StatusOr<std::unique_ptr<GrpcSchedulerClient>> Create(std::string address);

  // Cancels the calls still running (they end with error() Cancelled; a client should
  // outlive its calls) and waits until gRPC has let go of them: briefly, but do not
  // destroy a client on a gRPC callback thread.
  ~GrpcSchedulerClient() override;

  std::unique_ptr<GenerateCall> Generate(const v1::SchedulerGenerateRequest& request,
                                         std::function<void()> on_ready) override;
  // A blocking unary call with `timeout` as its deadline; Unavailable when the
  // scheduler cannot be reached (or does not answer) in time.
  absl::StatusOr<v1::StatsResponse> Stats(absl::Duration timeout) override;
  std::string address() const override { return address_; }

  class Connection;  // shared with the calls (grpc_scheduler_client.cc)

 private:
  GrpcSchedulerClient(std::string address, std::shared_ptr<grpc::Channel> channel);

  const std::string address_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::Scheduler::Stub> stub_;
  const std::shared_ptr<Connection> connection_;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_GRPC_SCHEDULER_CLIENT_H_
