#include "worker/sampler/logit_math.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/check.h"

namespace shoal::worker {
namespace {

typedef float F4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));

constexpr float kInf = std::numeric_limits<float>::infinity();

F4 Splat(float v) { return F4{v, v, v, v}; }

F4 Load(const float* p) {
  F4 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Loads the n < 4 remaining values, padding with `fill`.
F4 LoadTail(const float* p, int64_t n, float fill) {
  float tmp[4] = {fill, fill, fill, fill};
  std::memcpy(tmp, p, n * sizeof(float));
  return Load(tmp);
}

float Lane(F4 v, int i) { return v[i]; }

// Cephes' expf on x <= 0: x = n ln2 + r, |r| <= ln2 / 2, e^r by a degree-6 polynomial,
// 2^n by building the exponent bits. Lanes below -87, -inf and NaN give 0.
F4 ExpNonPositive4(F4 x) {
  const F4 lo = Splat(-87.0f);
  const I4 keep = x >= lo;
  x = x < lo ? lo : x;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const F4 t = x * 1.44269504088896341f + kRound;
  const F4 n = t - kRound;
  F4 r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  const F4 r2 = r * r;
  F4 p = Splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  const I4 bits = ((I4)t - 0x4B400000 + 127) << 23;
  const F4 result = p * (F4)bits;
  return (F4)((I4)result & keep);
}

double SumLanes(F4 v) {
  return static_cast<double>(v[0]) + v[1] + v[2] + v[3];
}

// Sums exp((x - max) * scale) over one block, storing the weights when `out` is set.
double ExpBlock(const float* x, int64_t n, float max, float scale, float min_weight,
                float* out) {
  F4 acc0 = {}, acc1 = {};
  int64_t i = 0;
  const F4 floor = Splat(min_weight);
  for (; i + 8 <= n; i += 8) {
    F4 e0 = ExpNonPositive4((Load(x + i) - max) * scale);
    F4 e1 = ExpNonPositive4((Load(x + i + 4) - max) * scale);
    e0 = (F4)((I4)e0 & (e0 >= floor));
    e1 = (F4)((I4)e1 & (e1 >= floor));
    if (out != nullptr) {
      std::memcpy(out + i, &e0, sizeof(e0));
      std::memcpy(out + i + 4, &e1, sizeof(e1));
    }
    acc0 += e0;
    acc1 += e1;
  }
  for (; i < n; i += 4) {
    const int64_t m = std::min<int64_t>(4, n - i);
    F4 e = ExpNonPositive4((LoadTail(x + i, m, -kInf) - max) * scale);
    e = (F4)((I4)e & (e >= floor));
    if (out != nullptr) std::memcpy(out + i, &e, m * sizeof(float));
    acc0 += e;
  }
  return SumLanes(acc0 + acc1);
}

template <bool kStrict>
int64_t FindFirst(std::span<const float> values, int64_t start, float threshold) {
  const float* x = values.data();
  const int64_t n = static_cast<int64_t>(values.size());
  const F4 t = Splat(threshold);
  int64_t i = start;
  for (; i + 8 <= n; i += 8) {
    const F4 a = Load(x + i), b = Load(x + i + 4);
    const I4 hit = kStrict ? (a > t) | (b > t) : (a >= t) | (b >= t);
    if ((hit[0] | hit[1] | hit[2] | hit[3]) != 0) break;
  }
  for (; i < n; ++i) {
    if (kStrict ? x[i] > threshold : x[i] >= threshold) return i;
  }
  return n;
}

}  // namespace

float MaxLogit(std::span<const float> logits) {
  const float* x = logits.data();
  const int64_t n = static_cast<int64_t>(logits.size());
  F4 acc0 = Splat(-kInf), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t i = 0;
  // `v > acc ? v : acc` keeps acc when v is NaN.
  for (; i + 16 <= n; i += 16) {
    const F4 v0 = Load(x + i), v1 = Load(x + i + 4), v2 = Load(x + i + 8),
             v3 = Load(x + i + 12);
    acc0 = v0 > acc0 ? v0 : acc0;
    acc1 = v1 > acc1 ? v1 : acc1;
    acc2 = v2 > acc2 ? v2 : acc2;
    acc3 = v3 > acc3 ? v3 : acc3;
  }
  acc0 = acc1 > acc0 ? acc1 : acc0;
  acc2 = acc3 > acc2 ? acc3 : acc2;
  acc0 = acc2 > acc0 ? acc2 : acc0;
  float best = -kInf;
  for (int l = 0; l < 4; ++l) best = std::max(best, Lane(acc0, l));
  for (; i < n; ++i) {
    if (x[i] > best) best = x[i];
  }
  return best;
}

int64_t FirstIndexOf(std::span<const float> logits, float value) {
  const float* x = logits.data();
  const int64_t n = static_cast<int64_t>(logits.size());
  const F4 target = Splat(value);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const I4 hit = (Load(x + i) == target) | (Load(x + i + 4) == target);
    if ((hit[0] | hit[1] | hit[2] | hit[3]) != 0) break;
  }
  for (; i < n; ++i) {
    if (x[i] == value) return i;
  }
  return -1;
}

int64_t FindFirstAtLeast(std::span<const float> values, int64_t start, float threshold) {
  return FindFirst<false>(values, start, threshold);
}

int64_t FindFirstAbove(std::span<const float> values, int64_t start, float threshold) {
  return FindFirst<true>(values, start, threshold);
}

int64_t CountEqual(std::span<const float> logits, float value) {
  return std::count(logits.begin(), logits.end(), value);
}

float ExpNonPositive(float x) { return Lane(ExpNonPositive4(Splat(x)), 0); }

double ComputeWeights(std::span<const float> logits, float max, float inv_temperature,
                      float min_weight, std::span<float> weights, std::span<double> block_sums) {
  const int64_t n = static_cast<int64_t>(logits.size());
  SHOAL_CHECK(std::isfinite(max));
  SHOAL_CHECK(static_cast<int64_t>(weights.size()) >= n);
  SHOAL_CHECK(static_cast<int64_t>(block_sums.size()) >= NumWeightBlocks(n));
  double total = 0;
  for (int64_t b = 0; b < NumWeightBlocks(n); ++b) {
    const int64_t begin = b * kWeightBlock;
    const int64_t size = std::min(kWeightBlock, n - begin);
    block_sums[b] = ExpBlock(logits.data() + begin, size, max, inv_temperature, min_weight,
                             weights.data() + begin);
    total += block_sums[b];
  }
  return total;
}

double SumExp(std::span<const float> logits, float max) {
  const int64_t n = static_cast<int64_t>(logits.size());
  double total = 0;
  for (int64_t begin = 0; begin < n; begin += kWeightBlock) {
    const int64_t size = std::min(kWeightBlock, n - begin);
    total += ExpBlock(logits.data() + begin, size, max, 1.0f, 0.0f, nullptr);
  }
  return total;
}

}  // namespace shoal::worker
