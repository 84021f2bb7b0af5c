#include "kernels/ops/rope.h"

#include <cmath>

namespace shoal::kernels {

void RopeAngles(const RopeParams& params, int64_t position, float* cos_sin) {
  const float theta_scale = std::pow(params.freq_base, -2.0f / static_cast<float>(params.n_rot));
  float theta = static_cast<float>(position);
  for (int64_t i = 0; i < params.n_rot; i += 2) {
    const float ff = params.freq_factors != nullptr ? params.freq_factors[i / 2] : 1.0f;
    const float angle = params.freq_scale * (theta / ff);
    cos_sin[i] = std::cos(angle);
    cos_sin[i + 1] = std::sin(angle);
    theta *= theta_scale;
  }
}

void RopeApply(const RopeParams& params, const float* cos_sin, int64_t n_heads, int64_t head_dim,
               float* x) {
  const int64_t half = params.n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < params.n_rot; i += 2) {
      const float c = cos_sin[i];
      const float s = cos_sin[i + 1];
      // NORM pairs neighbours; NEOX pairs element j with j + n_rot/2.
      const int64_t a = params.style == RopeStyle::kNorm ? i : i / 2;
      const int64_t b = params.style == RopeStyle::kNorm ? i + 1 : i / 2 + half;
      const float x0 = v[a];
      const float x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

}  // namespace shoal::kernels
