#include "worker/forward/workspace.h"

#include <algorithm>

namespace shoal::worker {
namespace {

template <typename T>
void Grow(std::vector<T>& buffer, int64_t size) {
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(size);
}

}  // namespace

void Workspace::Reserve(const model::ModelConfig& c, int64_t n_tokens, int64_t n_logit_rows,
                        int n_threads) {
  const int64_t T = n_tokens;
  const int64_t ffn = std::max(c.n_ff, c.n_ff_exp);
  Grow(x, T * c.n_embd);
  Grow(h, T * c.n_embd);
  Grow(q, T * c.n_head * c.head_dim);
  Grow(k, T * c.n_head_kv * c.head_dim);
  Grow(v, T * c.n_head_kv * c.value_dim);
  Grow(attn, T * c.n_head * c.value_dim);
  Grow(block_out, T * c.n_embd);
  Grow(gate, T * ffn);
  Grow(up, T * ffn);
  Grow(token_position, T);
  Grow(token_sequence, T);
  if (c.is_moe()) {
    Grow(router, T * c.n_expert);
    Grow(expert_ids, T * c.n_expert_used);
    Grow(expert_weights, T * c.n_expert_used);
    Grow(expert_out, T * c.n_expert_used * c.n_embd);
    Grow(expert_rows, T * c.n_expert_used);
    Grow(expert_begin, c.n_expert + 1);
    Grow(expert_cursor, c.n_expert);
    active_experts.reserve(c.n_expert);
    if (static_cast<int>(moe_threads.size()) < n_threads) moe_threads.resize(n_threads);
    for (MoeThread& t : moe_threads) {
      Grow(t.route_order, c.n_expert);
      // An expert sees each token at most once: at most T rows.
      Grow(t.in, T * c.n_embd);
      Grow(t.gate, T * c.n_ff_exp);
      Grow(t.up, T * c.n_ff_exp);
      Grow(t.down, T * c.n_embd);
    }
  }
  Grow(out_hidden, n_logit_rows * c.n_embd);
  Grow(rope_angles, n_threads * c.head_dim);
  capacity_tokens = std::max(capacity_tokens, T);
}

}  // namespace shoal::worker
