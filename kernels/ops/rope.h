// Rotary position embeddings (RoPE) as ggml computes them (REFERENCE.md §3):
// theta_i = pos · base^(−2i/n_rot) / ff[i] · freq_scale, with the powers built by
// repeated float multiplication like ggml's rope cache, so angles match llama.cpp's.
#ifndef SHOAL_KERNELS_OPS_ROPE_H_
#define SHOAL_KERNELS_OPS_ROPE_H_

#include <cstdint>
#include <vector>

namespace shoal::kernels {

enum class RopeStyle {
  kNorm,  // rotate adjacent pairs (x[2i], x[2i+1]) — llama
  kNeox,  // rotate (x[i], x[i + n_rot/2]) — qwen3, gemma3
};

struct RopeParams {
  RopeStyle style = RopeStyle::kNorm;
  int64_t n_rot = 0;  // leading dimensions of each head that rotate (even)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
  const float* freq_factors = nullptr;  // n_rot/2 divisors of theta, or null
};

// cos/sin of every rotated pair for one position: n_rot floats, (cos, sin) interleaved.
void RopeAngles(const RopeParams& params, int64_t position, float* cos_sin);

// Rotates n_heads vectors of head_dim floats (contiguous) in place with the angles of
// RopeAngles for their position.
void RopeApply(const RopeParams& params, const float* cos_sin, int64_t n_heads, int64_t head_dim,
               float* x);

}  // namespace shoal::kernels

#endif  // SHOAL_KERNELS_OPS_ROPE_H_
