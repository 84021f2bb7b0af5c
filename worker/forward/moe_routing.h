// How a mixture-of-experts layer picks each token's experts (REFERENCE.md §3.3), in
// llama.cpp's arithmetic: softmax over the router logits, the top k by probability
// (the lower expert id first on ties), optionally renormalised. Host code shared by the
// CPU decoder and the CUDA engine (which routes on the host to size its expert GEMMs),
// so both pick the same experts with the same weights.
#ifndef SHOAL_WORKER_FORWARD_MOE_ROUTING_H_
#define SHOAL_WORKER_FORWARD_MOE_ROUTING_H_

#include <cstdint>

#include "model/model_config.h"

namespace shoal::worker {

// Routes one token: router_row (n_expert logits) is overwritten with the
// probabilities; ids and weights receive n_expert_used entries; `order` is scratch of
// n_expert.
void RouteToken(const model::ModelConfig& config, float* router_row, int32_t* ids,
                float* weights, int32_t* order);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_MOE_ROUTING_H_
