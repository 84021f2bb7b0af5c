// The checks every forward engine makes on a ForwardBatch before it touches any state:
// token ids in the vocabulary, chunks covering the tokens in order, positions within
// the context, block tables long enough and naming real blocks, a logits buffer of the
// right size. Shared so the CPU and CUDA engines refuse exactly the same batches.
#ifndef SHOAL_WORKER_FORWARD_BATCH_VALIDATION_H_
#define SHOAL_WORKER_FORWARD_BATCH_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "model/model_config.h"
#include "worker/forward/forward_batch.h"

namespace shoal::worker {

// InvalidArgument naming the first problem; Ok when `batch` may run on a cache of
// `num_kv_blocks` blocks of `kv_block_size` tokens with `logits_size` floats of logits.
absl::Status ValidateForwardBatch(const model::ModelConfig& config, const ForwardBatch& batch,
                                  int64_t kv_block_size, int64_t num_kv_blocks,
                                  int64_t logits_size);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_BATCH_VALIDATION_H_
