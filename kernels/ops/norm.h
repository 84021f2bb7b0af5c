// RMS normalisation, as ggml computes it (squares summed in double, then
// scale = 1 / sqrtf(mean + eps) in float), fused with the weight multiply.
#ifndef SHOAL_KERNELS_OPS_NORM_H_
#define SHOAL_KERNELS_OPS_NORM_H_

#include <cstdint>

namespace shoal::kernels {

// y[i] = x[i] / sqrt(mean(x²) + eps) * w[i] for one row of n. y may alias x. With
// w == nullptr, no weight is applied.
void RmsNorm(const float* x, const float* w, float eps, int64_t n, float* y);

// RmsNorm of each of n_rows contiguous rows of n (per-head q/k norms, per-token norms).
inline void RmsNormRows(const float* x, const float* w, float eps, int64_t n, int64_t n_rows,
                        float* y) {
  for (int64_t r = 0; r < n_rows; ++r) RmsNorm(x + r * n, w, eps, n, y + r * n);
}

}  // namespace shoal::kernels

#endif  // SHOAL_KERNELS_OPS_NORM_H_
