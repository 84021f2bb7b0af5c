// The attention tile kernel at the avx512 level (AVX-512 F/BW/VL/DQ).
// This file is compiled with that level's instruction set (sources.cmake) and runs only
// where BestCpuLevel() allows it; the kernel sits in an anonymous namespace so no symbol
// compiled for this level can be picked by the linker for another.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/half.h"
#include "kernels/attention/attention_tile.h"

// GCC 12's own intrinsic headers trip -Wuninitialized with their `__Y = __Y` idiom.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace shoal::kernels::attention {
namespace {

#include "kernels/attention/simd/constants.inc"
#include "kernels/attention/simd/vec_avx512.inc"
#include "kernels/attention/simd/attention_tile.inc"

}  // namespace

void RunTileAvx512(const AttentionArgs& args, const AttentionTile& tile, TileScratch& scratch,
         const PartialView& partial) {
  RunTileImpl(args, tile, scratch, partial);
}

}  // namespace shoal::kernels::attention
