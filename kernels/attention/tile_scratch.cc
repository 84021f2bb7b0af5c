#include <cstdlib>
#include <new>

#include "kernels/attention/attention_tile.h"

namespace shoal::kernels::attention {

void TileScratch::Grow(Buffer& buffer, int64_t& capacity, int64_t floats) {
  if (floats <= capacity) return;
  // 64-byte aligned and a multiple of 64 bytes, as aligned_alloc requires.
  const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
  buffer.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
  if (buffer == nullptr) throw std::bad_alloc();
  capacity = floats;
}

void TileScratch::Reserve(int64_t n_queries, int64_t head_dim, int64_t value_dim) {
  const int64_t dk = PaddedDim(head_dim), dv = PaddedDim(value_dim);
  Grow(q_, q_cap_, n_queries * dk);
  Grow(k_, k_cap_, kKeyChunk * dk);
  Grow(v_, v_cap_, kKeyChunk * dv);
  Grow(p_, p_cap_, n_queries * kKeyChunk);
  Grow(acc_, acc_cap_, n_queries * dv);
  Grow(m_, m_cap_, n_queries);
  Grow(l_, l_cap_, n_queries);
}

}  // namespace shoal::kernels::attention
