// The one mapping from absl::Status to gRPC's status (CONVENTIONS.md "Errors"): same
// code, same message. Every gRPC service answers through it.
#ifndef SHOAL_COMMON_GRPC_STATUS_H_
#define SHOAL_COMMON_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace shoal {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace shoal

#endif  // SHOAL_COMMON_GRPC_STATUS_H_
