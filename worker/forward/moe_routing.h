// How a mixture-of-experts layer picks each token's experts (REFERENCE.md §3.3), in
// llama.cpp's arithmetic: softmax over the router logits, the top k by probability
// (the lower expert id first on ties), optionally renormalised; and how the routed rows
// are grouped by expert for the expert GEMMs. Host code shared by the CPU decoder and
// the CUDA engine (which routes on the host to size its expert GEMMs), so both pick
// the same experts with the same weights and run them over the same rows.
#ifndef SHOAL_WORKER_FORWARD_MOE_ROUTING_H_
#define SHOAL_WORKER_FORWARD_MOE_ROUTING_H_

#include <cstdint>
#include <span>

#include "model/model_config.h"

namespace shoal::worker {

// Routes one token: router_row (n_expert logits) is overwritten with the
// probabilities; ids and weights receive n_expert_used entries; `order` is scratch of
// n_expert.
void RouteToken(const model::ModelConfig& config, float* router_row, int32_t* ids,
                float* weights, int32_t* order);

// Counting sort of routed rows by expert: row r (token r / k's slot r % k) went to
// expert_ids[r]. Afterwards expert e's rows are rows[begin[e] .. begin[e + 1]), in
// increasing order. `begin` holds n_expert + 1 entries, `cursor` n_expert (scratch),
// `rows` as many as expert_ids; nothing is allocated.
void GroupRowsByExpert(std::span<const int32_t> expert_ids, std::span<int64_t> begin,
                       std::span<int64_t> cursor, std::span<int32_t> rows);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_MOE_ROUTING_H_
