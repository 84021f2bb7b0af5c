// Collectives among the workers of one model replica: what tensor parallelism (an
// all-reduce after each attention and FFN block) and expert parallelism (all-to-all of
// routed tokens) need. One interface, three implementations: a single worker (world 1,
// no peers), NCCL between CUDA workers, and Gloo between CPU workers (with the
// distributed cluster). Every call has a timeout, so a dead peer is an error, not a hang.
//
// Buffers are in the memory the implementation works on: host memory for the single
// and Gloo communicators, the communicator's CUDA device for NCCL. Counts are elements.
#ifndef SHOAL_WORKER_COMM_COMMUNICATOR_H_
#define SHOAL_WORKER_COMM_COMMUNICATOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shoal::worker {

enum class CommDataType { kF32, kF16, kBF16, kI32 };
enum class ReduceOp { kSum, kMax };

int64_t ElementBytes(CommDataType type);

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual std::string name() const = 0;  // "single", "nccl (cuda:0)"

  // In place: every rank's `buffer` becomes the element-wise reduction over ranks.
  virtual absl::Status AllReduce(void* buffer, int64_t count, CommDataType type, ReduceOp op,
                                 absl::Duration timeout) = 0;
  // recv (world_size · count elements) gets every rank's `send` in rank order.
  virtual absl::Status AllGather(const void* send, void* recv, int64_t count, CommDataType type,
                                 absl::Duration timeout) = 0;
  // send and recv hold world_size blocks of count elements; block r of this rank's send
  // becomes block `rank()` of rank r's recv.
  virtual absl::Status AllToAll(const void* send, void* recv, int64_t count, CommDataType type,
                                absl::Duration timeout) = 0;
  // In place: every rank's `buffer` becomes root's.
  virtual absl::Status Broadcast(void* buffer, int64_t count, CommDataType type, int root,
                                 absl::Duration timeout) = 0;
};

// World size 1, host memory: the reductions and broadcasts leave the buffer as it is,
// the gathers copy. Still checks its arguments like the others.
std::unique_ptr<Communicator> MakeSingleCommunicator();

// NCCL's unique id, made by rank 0 and handed to every rank out of band (the scheduler
// will carry it in RegisterResponse).
struct NcclId {
  std::string bytes;  // NCCL_UNIQUE_ID_BYTES
};
absl::StatusOr<NcclId> MakeNcclId();

// A NCCL communicator on CUDA device `device` as `rank` of `world_size`. Unimplemented
// in builds without CUDA; Unavailable without a device; DeadlineExceeded when the other
// ranks do not join within `timeout`.
absl::StatusOr<std::unique_ptr<Communicator>> MakeNcclCommunicator(const NcclId& id, int rank,
                                                                   int world_size, int device,
                                                                   absl::Duration timeout);

// The self-test's NCCL check at world size 1 on `device`: each collective on device
// buffers of a few awkward sizes and types, results compared with what world size 1
// must give. Unimplemented without NCCL, Unavailable without a device.
absl::Status CheckNcclWorldOne(int device, absl::Duration timeout);

// Argument checks shared by the implementations.
absl::Status CheckCollective(const Communicator& comm, const void* a, const void* b,
                             int64_t count, const char* op);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_COMM_COMMUNICATOR_H_
