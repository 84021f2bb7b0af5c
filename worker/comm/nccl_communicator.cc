// The NCCL communicator: one rank on one CUDA device, its collectives on its own stream.
// The communicator is created non-blocking so that every wait can be bounded: joining
// and each collective poll NCCL's async error and the stream until they finish or the
// timeout passes, and on timeout the communicator is aborted (a dead peer would
// otherwise hang the step forever) and every later call fails.
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "worker/comm/communicator.h"

namespace shoal::worker {
namespace {

absl::Status NcclStatus(ncclResult_t result, const char* what) {
  if (result == ncclSuccess || result == ncclInProgress) return absl::OkStatus();
  return absl::InternalError(fmt::format("{}: {}", what, ncclGetErrorString(result)));
}

absl::Status CudaCall(cudaError_t error, const char* what) {
  if (error == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(fmt::format("{}: {}", what, cudaGetErrorString(error)));
}

ncclDataType_t NcclType(CommDataType type) {
  switch (type) {
    case CommDataType::kF32: return ncclFloat32;
    case CommDataType::kF16: return ncclFloat16;
    case CommDataType::kBF16: return ncclBfloat16;
    case CommDataType::kI32: return ncclInt32;
  }
  return ncclFloat32;
}

// Polls until NCCL has no operation in progress on `comm` and, with a stream, the
// stream has drained; aborts `comm` if that takes longer than `timeout`.
absl::Status WaitFor(ncclComm_t comm, cudaStream_t stream, absl::Duration timeout,
                     const char* what, bool& aborted) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    ncclResult_t state = ncclSuccess;
    if (absl::Status s = NcclStatus(ncclCommGetAsyncError(comm, &state), what); !s.ok()) return s;
    if (state != ncclSuccess && state != ncclInProgress) return NcclStatus(state, what);
    if (state == ncclSuccess) {
      if (stream == nullptr) return absl::OkStatus();
      const cudaError_t q = cudaStreamQuery(stream);
      if (q == cudaSuccess) return absl::OkStatus();
      if (q != cudaErrorNotReady) return CudaCall(q, what);
    }
    if (absl::Now() > deadline) {
      ncclCommAbort(comm);
      aborted = true;
      return absl::DeadlineExceededError(
          fmt::format("{}: not finished after {}; the communicator is aborted", what,
                      absl::FormatDuration(timeout)));
    }
    std::this_thread::yield();
  }
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(ncclComm_t comm, cudaStream_t stream, int rank, int world, int device)
      : comm_(comm), stream_(stream), rank_(rank), world_(world), device_(device) {}
  ~NcclCommunicator() override {
    if (!aborted_) ncclCommDestroy(comm_);
    cudaStreamDestroy(stream_);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string name() const override { return fmt::format("nccl (cuda:{})", device_); }

  absl::Status AllReduce(void* buffer, int64_t count, CommDataType type, ReduceOp op,
                         absl::Duration timeout) override {
    return Run("all_reduce", buffer, buffer, count, timeout, [&] {
      return ncclAllReduce(buffer, buffer, count, NcclType(type),
                           op == ReduceOp::kSum ? ncclSum : ncclMax, comm_, stream_);
    });
  }
  absl::Status AllGather(const void* send, void* recv, int64_t count, CommDataType type,
                         absl::Duration timeout) override {
    return Run("all_gather", send, recv, count, timeout, [&] {
      return ncclAllGather(send, recv, count, NcclType(type), comm_, stream_);
    });
  }
  absl::Status AllToAll(const void* send, void* recv, int64_t count, CommDataType type,
                        absl::Duration timeout) override {
    const int64_t block = count * ElementBytes(type);
    return Run("all_to_all", send, recv, count, timeout, [&] {
      ncclGroupStart();
      for (int r = 0; r < world_; ++r) {
        ncclSend(static_cast<const char*>(send) + r * block, count, NcclType(type), r, comm_, stream_);
        ncclRecv(static_cast<char*>(recv) + r * block, count, NcclType(type), r, comm_, stream_);
      }
      return ncclGroupEnd();
    });
  }
  absl::Status Broadcast(void* buffer, int64_t count, CommDataType type, int root,
                         absl::Duration timeout) override {
    if (root < 0 || root >= world_) {
      return absl::InvalidArgumentError(fmt::format("broadcast: root {} is not a rank of {}", root, world_));
    }
    return Run("broadcast", buffer, buffer, count, timeout, [&] {
      return ncclBroadcast(buffer, buffer, count, NcclType(type), root, comm_, stream_);
    });
  }

 private:
  template <class Launch>
  absl::Status Run(const char* op, const void* a, const void* b, int64_t count,
                   absl::Duration timeout, Launch launch) {
    if (aborted_) return absl::FailedPreconditionError(fmt::format("{}: the communicator was aborted", op));
    if (absl::Status s = CheckCollective(*this, a, b, count, op); !s.ok()) return s;
    if (count == 0) return absl::OkStatus();
    if (absl::Status s = CudaCall(cudaSetDevice(device_), op); !s.ok()) return s;
    if (absl::Status s = NcclStatus(launch(), op); !s.ok()) return s;
    return WaitFor(comm_, stream_, timeout, op, aborted_);
  }

  ncclComm_t comm_;
  cudaStream_t stream_;
  int rank_, world_, device_;
  bool aborted_ = false;
};

}  // namespace

absl::StatusOr<NcclId> MakeNcclId() {
  ncclUniqueId id;
  if (absl::Status s = NcclStatus(ncclGetUniqueId(&id), "ncclGetUniqueId"); !s.ok()) return s;
  return NcclId{std::string(id.internal, sizeof(id.internal))};
}

absl::StatusOr<std::unique_ptr<Communicator>> MakeNcclCommunicator(const NcclId& id, int rank,
                                                                   int world_size, int device,
                                                                   absl::Duration timeout) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    return absl::InvalidArgumentError(fmt::format("rank {} of world size {}", rank, world_size));
  }
  if (id.bytes.size() != sizeof(ncclUniqueId::internal)) {
    return absl::InvalidArgumentError("a NCCL id is NCCL_UNIQUE_ID_BYTES long");
  }
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || device < 0 || device >= count) {
    return absl::UnavailableError(fmt::format("no CUDA device {} for NCCL", device));
  }
  if (absl::Status s = CudaCall(cudaSetDevice(device), "cudaSetDevice"); !s.ok()) return s;
  ncclUniqueId unique;
  std::memcpy(unique.internal, id.bytes.data(), sizeof(unique.internal));
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  ncclComm_t comm = nullptr;
  if (absl::Status s = NcclStatus(ncclCommInitRankConfig(&comm, world_size, unique, rank, &config),
                                  "ncclCommInitRankConfig");
      !s.ok()) {
    return s;
  }
  bool aborted = false;
  if (absl::Status s = WaitFor(comm, nullptr, timeout, "joining the NCCL communicator", aborted);
      !s.ok()) {
    if (!aborted) ncclCommAbort(comm);
    return s;
  }
  cudaStream_t stream = nullptr;
  if (absl::Status s = CudaCall(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking),
                                "cudaStreamCreate");
      !s.ok()) {
    ncclCommDestroy(comm);
    return s;
  }
  return std::make_unique<NcclCommunicator>(comm, stream, rank, world_size, device);
}

absl::Status CheckNcclWorldOne(int device, absl::Duration timeout) {
  absl::StatusOr<NcclId> id = MakeNcclId();
  if (!id.ok()) return id.status();
  absl::StatusOr<std::unique_ptr<Communicator>> comm = MakeNcclCommunicator(*id, 0, 1, device, timeout);
  if (!comm.ok()) return comm.status();
  for (int64_t count : {int64_t{1}, int64_t{1000}, int64_t{1} << 20}) {
    std::vector<int32_t> host(count);
    for (int64_t i = 0; i < count; ++i) host[i] = static_cast<int32_t>(i * 7919 % 100003);
    const size_t bytes = count * sizeof(int32_t);
    void* a = nullptr;
    void* b = nullptr;
    if (absl::Status s = CudaCall(cudaMalloc(&a, bytes), "cudaMalloc"); !s.ok()) return s;
    if (absl::Status s = CudaCall(cudaMalloc(&b, bytes), "cudaMalloc"); !s.ok()) {
      cudaFree(a);
      return s;
    }
    auto check = [&](const char* op, const void* device_result) -> absl::Status {
      std::vector<int32_t> back(count);
      if (absl::Status s = CudaCall(cudaMemcpy(back.data(), device_result, bytes, cudaMemcpyDeviceToHost), op);
          !s.ok()) {
        return s;
      }
      if (back != host) return absl::InternalError(fmt::format("{} of {} values changed them", op, count));
      return absl::OkStatus();
    };
    absl::Status status = CudaCall(cudaMemcpy(a, host.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
    if (status.ok()) status = (*comm)->AllReduce(a, count, CommDataType::kI32, ReduceOp::kSum, timeout);
    if (status.ok()) status = check("all_reduce", a);
    if (status.ok()) status = (*comm)->Broadcast(a, count, CommDataType::kI32, 0, timeout);
    if (status.ok()) status = check("broadcast", a);
    if (status.ok()) status = (*comm)->AllGather(a, b, count, CommDataType::kI32, timeout);
    if (status.ok()) status = check("all_gather", b);
    if (status.ok()) status = CudaCall(cudaMemset(b, 0, bytes), "cudaMemset");
    if (status.ok()) status = (*comm)->AllToAll(a, b, count, CommDataType::kI32, timeout);
    if (status.ok()) status = check("all_to_all", b);
    cudaFree(a);
    cudaFree(b);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace shoal::worker
