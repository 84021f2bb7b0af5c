// The NCCL entry points in builds without CUDA or NCCL.
#include "worker/comm/communicator.h"

namespace shoal::worker {

absl::StatusOr<NcclId> MakeNcclId() {
  return absl::UnimplementedError("this shoal was built without NCCL");
}

absl::StatusOr<std::unique_ptr<Communicator>> MakeNcclCommunicator(const NcclId&, int, int, int,
                                                                   absl::Duration) {
  return absl::UnimplementedError("this shoal was built without NCCL");
}

absl::Status CheckNcclWorldOne(int, absl::Duration) {
  return absl::UnimplementedError("this shoal was built without NCCL");
}

}  // namespace shoal::worker
