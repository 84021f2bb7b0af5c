// Activation buffers of one forward pass, sized for the largest batch seen so far and
// reused across passes so the hot path does not allocate once warm. Owned by the
// decoder (the worker's compute thread).
#ifndef SHOAL_WORKER_FORWARD_WORKSPACE_H_
#define SHOAL_WORKER_FORWARD_WORKSPACE_H_

#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace shoal::worker {

struct Workspace {
  // Per token of the batch.
  std::vector<float> x;                 // residual stream [T, E]
  std::vector<float> h;                 // normalised input of a block [T, E]
  std::vector<float> q;                 // [T, Hq·D]
  std::vector<float> k;                 // [T, Hkv·D]
  std::vector<float> v;                 // [T, Hkv·Dv]
  std::vector<float> attn;              // attention output [T, Hq·Dv]
  std::vector<float> block_out;         // a block's output before the residual add [T, E]
  std::vector<float> gate;              // FFN gate [T, F]
  std::vector<float> up;                // FFN up [T, F]
  std::vector<int64_t> token_position;  // position of each token
  std::vector<int32_t> token_sequence;  // index of each token's SequenceChunk

  // MoE.
  std::vector<float> router;          // [T, X]
  std::vector<int32_t> expert_ids;    // [T, k]
  std::vector<float> expert_weights;  // [T, k]
  std::vector<float> expert_out;      // [T, k, E]
  std::vector<int32_t> expert_rows;   // rows (t·k + j) routed to the expert being run
  std::vector<float> expert_in;       // gathered inputs of one expert [n, E]
  std::vector<float> expert_down;     // its outputs [n, E]

  // Logits rows: the hidden states of the positions whose logits are wanted.
  std::vector<float> out_hidden;  // [R, E]

  std::vector<float> rope_angles;  // per thread [head_dim]

  int64_t capacity_tokens = 0;

  // Sizes every buffer for n_tokens tokens and n_threads threads (grows only).
  void Reserve(const model::ModelConfig& c, int64_t n_tokens, int64_t n_logit_rows, int n_threads);
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_WORKSPACE_H_
