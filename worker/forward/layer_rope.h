// The RoPE parameters of one layer (REFERENCE.md §3): the model's style and rotated
// dimensions, the sliding layers' own base, linear position scaling on global layers
// only (Gemma, §3.4), and the frequency factors when the model has them. Shared by the
// engines so their angles agree.
#ifndef SHOAL_WORKER_FORWARD_LAYER_ROPE_H_
#define SHOAL_WORKER_FORWARD_LAYER_ROPE_H_

#include "kernels/ops/rope.h"
#include "model/model_config.h"

namespace shoal::worker {

inline kernels::RopeParams LayerRope(const model::ModelConfig& c, bool sliding,
                                     const float* freq_factors) {
  kernels::RopeParams rope;
  rope.style = c.rope_style == model::RopeStyle::kNorm ? kernels::RopeStyle::kNorm
                                                       : kernels::RopeStyle::kNeox;
  rope.n_rot = c.rope_dim;
  rope.freq_base = sliding ? c.rope_freq_base_swa : c.rope_freq_base;
  rope.freq_scale = sliding ? 1.0f : c.rope_freq_scale;
  rope.freq_factors = freq_factors;
  return rope;
}

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_LAYER_ROPE_H_
