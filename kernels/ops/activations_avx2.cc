// AVX2 (+FMA, F16C) versions of the gated activations (activations.h), chosen at run
// time by activations.cc. Compiled with that instruction set (sources.cmake); only
// intrinsics here, no shared inline code, so nothing compiled for AVX2 can be picked by
// the linker for the portable path.
#include <immintrin.h>

#include <cstdint>

#include "kernels/ops/activations_simd.h"

namespace shoal::kernels::simd {
namespace {

// exp(x) for the SiLU: Cody-Waite range reduction and Cephes expf's polynomial (about
// 1 ulp); +inf above Cephes' limit 88.376 (so the SiLU of very negative x is -0, as with
// libm's overflow), and inputs below -88 are taken as -88 (the SiLU's x / (1 + e^-x) is
// then x itself to float precision).
__m256 Exp(__m256 x) {
  const __m256 overflow = _mm256_cmp_ps(x, _mm256_set1_ps(88.3762626647949f), _CMP_GT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.0f)), _mm256_set1_ps(88.3762626647949f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i pow2 =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_blendv_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(pow2)),
                          _mm256_set1_ps(__builtin_inff()), overflow);
}

}  // namespace

int64_t SwiGluAvx2(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(gate + i);
    const __m256 e = Exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
    const __m256 silu = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
  }
  return i;
}

int64_t GeGluTanhAvx2(const float* gate, const float* up, int64_t n, const uint16_t* table,
                      float* out) {
  const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(gate + i);
    const __m128i half = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // 32-bit gathers at byte offset 2·h read the entry and the next; keep the entry.
    const __m256i words = _mm256_and_si256(
        _mm256_i32gather_epi32(reinterpret_cast<const int*>(table), _mm256_cvtepu16_epi32(half), 2),
        _mm256_set1_epi32(0xFFFF));
    const __m128i gelu_half = _mm_packus_epi32(_mm256_castsi256_si128(words),
                                               _mm256_extracti128_si256(words, 1));
    __m256 gelu = _mm256_cvtph_ps(gelu_half);
    gelu = _mm256_blendv_ps(gelu, x, _mm256_cmp_ps(x, hi, _CMP_GE_OQ));
    // x <= -10 gives +0 whatever up is, as ggml writes it.
    const __m256 product = _mm256_mul_ps(gelu, _mm256_loadu_ps(up + i));
    _mm256_storeu_ps(out + i, _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LE_OQ), product));
  }
  return i;
}

}  // namespace shoal::kernels::simd
