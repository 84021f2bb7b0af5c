// The attention tile kernel at the scalar level: the same template as the SIMD levels
// over one-lane vectors, the portable fallback.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/half.h"
#include "kernels/attention/attention_tile.h"

namespace shoal::kernels::attention {
namespace {

#include "kernels/attention/simd/constants.inc"
#include "kernels/attention/simd/vec_scalar.inc"
#include "kernels/attention/simd/attention_tile.inc"

}  // namespace

void RunTileScalar(const AttentionArgs& args, const AttentionTile& tile, TileScratch& scratch,
         const PartialView& partial) {
  RunTileImpl(args, tile, scratch, partial);
}

}  // namespace shoal::kernels::attention
