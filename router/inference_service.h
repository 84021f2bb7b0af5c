// The public gRPC API, shoal.v1.Inference (proto/shoal/v1/inference.proto), with the
// same semantics, validation and errors as the OpenAI HTTP API: Generate streams one
// choice's text (and token ids, logprobs) as it is produced and ends with a Final
// message; Tokenize, Detokenize and ListModels answer at once. A refusal before any
// output is the call's status (RESOURCE_EXHAUSTED with a retry-after trailer,
// INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE); a failure after output began ends the
// stream with a Final message carrying FINISH_REASON_ABORTED or _ERROR and the message.
// A client that cancels its call cancels its request upstream.
//
// Threads: gRPC's callback threads; no call blocks one.
#ifndef SHOAL_ROUTER_INFERENCE_SERVICE_H_
#define SHOAL_ROUTER_INFERENCE_SERVICE_H_

#include "router/router_context.h"
#include "shoal/v1/inference.grpc.pb.h"

namespace shoal::router {

class InferenceService final : public v1::Inference::CallbackService {
 public:
  explicit InferenceService(RouterContext& context) : context_(context) {}

  grpc::ServerWriteReactor<v1::GenerateResponse>* Generate(
      grpc::CallbackServerContext* context, const v1::GenerateRequest* request) override;
  grpc::ServerUnaryReactor* Tokenize(grpc::CallbackServerContext* context,
                                     const v1::TokenizeRequest* request,
                                     v1::TokenizeResponse* response) override;
  grpc::ServerUnaryReactor* Detokenize(grpc::CallbackServerContext* context,
                                       const v1::DetokenizeRequest* request,
                                       v1::DetokenizeResponse* response) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;

 private:
  RouterContext& context_;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_INFERENCE_SERVICE_H_
