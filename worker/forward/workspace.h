// Activation buffers of one forward pass, sized for the largest batch seen so far and
// reused across passes so the hot path does not allocate once warm. Owned by the
// decoder (the worker's compute thread).
#ifndef SHOAL_WORKER_FORWARD_WORKSPACE_H_
#define SHOAL_WORKER_FORWARD_WORKSPACE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "kernels/matmul.h"
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
  std::vector<float> router;            // [T, X]
  std::vector<int32_t> expert_ids;      // [T, k]
  std::vector<float> expert_weights;    // [T, k]
  std::vector<float> expert_out;        // [T, k, E]
  std::vector<int32_t> expert_rows;     // rows (t·k + j) grouped by expert [T·k]
  std::vector<int64_t> expert_begin;    // expert e's rows start at expert_begin[e] [X + 1]
  std::vector<int64_t> expert_cursor;   // [X]
  std::vector<int32_t> active_experts;  // experts with rows, most rows first
  // What one thread needs to run whole experts alone.
  struct MoeThread {
    std::vector<int32_t> route_order;  // [X]
    std::vector<float> in, gate, up, down;  // an expert's inputs [n, E], [n, Fe] x2, [n, E]
    kernels::MatMulScratch matmul;
    absl::Status status;  // the first error of its experts
  };
  std::vector<MoeThread> moe_threads;

  // Logits rows: the hidden states of the positions whose logits are wanted.
  std::vector<float> out_hidden;  // [R, E]

  std::vector<float> rope_angles;  // per thread [head_dim]

  int64_t capacity_tokens = 0;

  // Sizes every buffer for n_tokens tokens and n_threads threads (grows only).
  void Reserve(const model::ModelConfig& c, int64_t n_tokens, int64_t n_logit_rows, int n_threads);
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_WORKSPACE_H_
