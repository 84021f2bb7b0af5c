// The one mapping from absl::Status to gRPC's status (CONVENTIONS.md "Errors"): same
// code, same message, plus the retry-after trailer. Every gRPC service answers through
// it.
#ifndef SHOAL_COMMON_GRPC_STATUS_H_
#define SHOAL_COMMON_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "common/status_util.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace shoal {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// The same, for a call that can carry trailers: a status with a retry-after payload
// (status_util.h) also sets the "retry-after" trailer, in whole seconds.
inline grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContextBase& context) {
  if (const int seconds = RetryAfterSeconds(status); seconds > 0) {
    context.AddTrailingMetadata("retry-after", std::to_string(seconds));
  }
  return ToGrpcStatus(status);
}

}  // namespace shoal

#endif  // SHOAL_COMMON_GRPC_STATUS_H_
