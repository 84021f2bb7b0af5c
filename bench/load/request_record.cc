#include "bench/load/request_record.h"

namespace shoal::bench {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kHttpError:
      return "http_error";
    case Outcome::kGrpcError:
      return "grpc_error";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kDisconnect:
      return "disconnect";
  }
  return "unknown";
}

}  // namespace shoal::bench
