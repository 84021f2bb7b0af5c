// The single-worker communicator and the argument checks every implementation shares.
#include "worker/comm/communicator.h"

#include <cstring>

#include "fmt/format.h"

namespace shoal::worker {

int64_t ElementBytes(CommDataType type) {
  switch (type) {
    case CommDataType::kF32:
    case CommDataType::kI32: return 4;
    case CommDataType::kF16:
    case CommDataType::kBF16: return 2;
  }
  return 0;
}

absl::Status CheckCollective(const Communicator& comm, const void* a, const void* b,
                             int64_t count, const char* op) {
  if (count < 0) return absl::InvalidArgumentError(fmt::format("{}: count {} < 0", op, count));
  if (count > 0 && (a == nullptr || b == nullptr)) {
    return absl::InvalidArgumentError(fmt::format("{}: null buffer", op));
  }
  if (count > (int64_t{1} << 40) / comm.world_size()) {
    return absl::InvalidArgumentError(fmt::format("{}: count {} is too large", op, count));
  }
  return absl::OkStatus();
}

namespace {

class SingleCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string name() const override { return "single"; }

  absl::Status AllReduce(void* buffer, int64_t count, CommDataType, ReduceOp,
                         absl::Duration) override {
    return CheckCollective(*this, buffer, buffer, count, "all_reduce");
  }
  absl::Status AllGather(const void* send, void* recv, int64_t count, CommDataType type,
                         absl::Duration) override {
    return Copy(send, recv, count, type, "all_gather");
  }
  absl::Status AllToAll(const void* send, void* recv, int64_t count, CommDataType type,
                        absl::Duration) override {
    return Copy(send, recv, count, type, "all_to_all");
  }
  absl::Status Broadcast(void* buffer, int64_t count, CommDataType, int root,
                         absl::Duration) override {
    if (root != 0) {
      return absl::InvalidArgumentError(fmt::format("broadcast: root {} is not a rank of 1", root));
    }
    return CheckCollective(*this, buffer, buffer, count, "broadcast");
  }

 private:
  absl::Status Copy(const void* send, void* recv, int64_t count, CommDataType type,
                    const char* op) {
    if (absl::Status s = CheckCollective(*this, send, recv, count, op); !s.ok()) return s;
    if (count > 0 && send != recv) std::memmove(recv, send, count * ElementBytes(type));
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<Communicator> MakeSingleCommunicator() {
  return std::make_unique<SingleCommunicator>();
}

}  // namespace shoal::worker
