// What the CUDA engine works out on the host for a step before it queues a kernel: each
// token's id, position and KV slot, the block tables its attention reads, the rows
// whose logits are wanted, the RoPE angles (ggml's arithmetic, once per step for every
// layer), and how tokens are grouped into attention launches whose scores fit the
// scratch. Host code with no CUDA in it, built everywhere, so the CPU tests check the
// engine's indexing (tests/worker/cuda/step_layout_test.cc).
#ifndef SHOAL_WORKER_CUDA_STEP_LAYOUT_H_
#define SHOAL_WORKER_CUDA_STEP_LAYOUT_H_

#include <cstdint>
#include <vector>

#include "model/model_config.h"
#include "worker/forward/forward_batch.h"

namespace shoal::worker::cuda {

// Consecutive tokens attended in one launch, and the most keys any of them sees.
struct AttentionGroup {
  int64_t first = 0, n = 0, max_keys = 0;
};

struct StepLayout {
  std::vector<int32_t> tokens;
  std::vector<int64_t> positions;      // per token
  std::vector<int64_t> slots;          // per token: its KV row, block · block_size + offset
  std::vector<int32_t> tables;         // each sequence's blocks up to its last position
  std::vector<int64_t> table_offsets;  // per token: where its sequence's table starts
  std::vector<int32_t> logit_rows;     // tokens whose logits are wanted, in batch order
  // Per token the rope_dim cos/sin values of kernels::RopeAngles, for global layers and
  // (when the model has any) sliding ones.
  std::vector<float> rope_global, rope_sliding;
  std::vector<AttentionGroup> groups_global, groups_sliding;
  bool any_sliding = false;
  int64_t most_scores = 0;  // the largest group's n · n_head · max_keys
};

// Fills `layout` for a batch that passed ValidateForwardBatch, reusing its capacity.
// Groups hold as many consecutive tokens as keep n · n_head · max_keys within
// `scores_budget` (a token that alone exceeds it gets a group of its own).
void BuildStepLayout(const model::ModelConfig& config, const ForwardBatch& batch,
                     int64_t block_size, const float* rope_freq_factors, int64_t scores_budget,
                     StepLayout& layout);

}  // namespace shoal::worker::cuda

#endif  // SHOAL_WORKER_CUDA_STEP_LAYOUT_H_
