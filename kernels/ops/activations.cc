#include "kernels/ops/activations.h"

#include <array>
#include <cmath>
#include <cstring>

#include "common/half.h"
#include "kernels/cpu_features.h"
#include "kernels/ops/activations_simd.h"

namespace shoal::kernels {
namespace {

// ggml_gelu_f32's constants.
constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
constexpr float kGeluCoef = 0.044715f;

// gelu of every half, as a half; one spare entry for the SIMD gathers' 32-bit reads.
const std::array<uint16_t, 65537>& GeluTable() {
  static const auto* table = [] {
    auto* t = new std::array<uint16_t, 65537>();
    for (uint32_t h = 0; h < 65536; ++h) {
      (*t)[h] = FloatToFp16(GeluTanh(Fp16ToFloat(static_cast<uint16_t>(h))));
    }
    return t;
  }();
  return *table;
}

bool HaveAvx2() { return static_cast<int>(BestCpuLevel()) >= static_cast<int>(CpuLevel::kAvx2); }

}  // namespace

float GeluTanh(float x) {
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kGeluCoef * x * x)));
}

void SwiGlu(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = HaveAvx2() ? simd::SwiGluAvx2(gate, up, n, out) : 0; i < n; ++i) {
    const float x = gate[i];
    out[i] = x / (1.0f + std::exp(-x)) * up[i];
  }
}

void GeGluTanh(const float* gate, const float* up, int64_t n, float* out) {
  const std::array<uint16_t, 65537>& table = GeluTable();
  for (int64_t i = HaveAvx2() ? simd::GeGluTanhAvx2(gate, up, n, table.data(), out) : 0; i < n;
       ++i) {
    const float x = gate[i];
    if (x <= -10.0f) {
      out[i] = 0.0f;
    } else if (x >= 10.0f) {
      out[i] = x * up[i];
    } else {
      out[i] = Fp16ToFloat(table[FloatToFp16(x)]) * up[i];
    }
  }
}

}  // namespace shoal::kernels
