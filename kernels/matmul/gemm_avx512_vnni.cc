// The AVX-512 with VNNI (vpdpbusd / vpdpwssd) kernel table. This file is compiled with that level's
// instruction set (sources.cmake) and only runs where BestCpuLevel() allows it. The
// kernels themselves are the level-independent templates in simd/*.inc over this
// level's Isa; they sit in an anonymous namespace so no symbol compiled for this level
// can be picked by the linker for another, and they call no inline function of a shared
// header that does floating-point work for the same reason.
#include <immintrin.h>

#include <cstdint>
#include <type_traits>
#include <utility>

#include "kernels/matmul/activations.h"
#include "kernels/matmul/interleave_kquant.h"
#include "kernels/matmul/kernel_table.h"

// GCC 12's own intrinsic headers trip -Wuninitialized with their `__Y = __Y` idiom.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace shoal::kernels::matmul {
namespace {

#include "kernels/matmul/simd/isa_avx512.inc"
#include "kernels/matmul/simd/gemm_legacy.inc"
#include "kernels/matmul/simd/gemm_kquant.inc"
#include "kernels/matmul/simd/gemm_float.inc"
#include "kernels/matmul/simd/quantize.inc"
#include "kernels/matmul/simd/level_table.inc"
#include "kernels/matmul/simd/gemm_interleaved.inc"

}  // namespace

const LevelKernels& Avx512VnniKernels() {
  static const LevelKernels kernels = [] {
    LevelKernels k = MakeLevelKernels();
    AddInterleavedKernels(k);
    return k;
  }();
  return kernels;
}

}  // namespace shoal::kernels::matmul
