// Gated activations of the feed-forward blocks, as ggml's CPU backend computes them.
#ifndef SHOAL_KERNELS_OPS_ACTIVATIONS_H_
#define SHOAL_KERNELS_OPS_ACTIVATIONS_H_

#include <cstdint>

namespace shoal::kernels {

// SwiGLU: out[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + e^-x). out may alias gate.
void SwiGlu(const float* gate, const float* up, int64_t n, float* out);

// GeGLU with the tanh approximation of GELU (Gemma): out[i] = gelu(gate[i]) * up[i].
// Like ggml (GGML_GELU_FP16), gelu is looked up in a table indexed by the input rounded
// to half precision, holding gelu of that half rounded to half; inputs <= -10 give 0
// and inputs >= 10 pass through.
void GeGluTanh(const float* gate, const float* up, int64_t n, float* out);

// The tanh-approximated GELU in float: 0.5x(1 + tanh(√(2/π)·x·(1 + 0.044715x²))).
float GeluTanh(float x);

}  // namespace shoal::kernels

#endif  // SHOAL_KERNELS_OPS_ACTIVATIONS_H_
