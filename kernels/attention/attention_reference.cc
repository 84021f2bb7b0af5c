// The plain reference attention (paged_attention.h): KV writes and one head at a time,
// exactly as llama.cpp's CPU graph orders the arithmetic.
#include "kernels/attention/paged_attention.h"

#include <cmath>
#include <limits>

#include "common/half.h"

namespace shoal::kernels {
namespace {

// Element offset of (slot, kv head) in a layer's K or V array with rows of `dim`.
inline int64_t RowOffset(const KvLayer& layer, int64_t slot, int64_t kv_head, int64_t dim) {
  return (slot * layer.n_kv_heads + kv_head) * dim;
}

inline int64_t SlotOf(const KvLayer& layer, std::span<const int32_t> block_table,
                      int64_t position) {
  return static_cast<int64_t>(block_table[position / layer.block_size]) * layer.block_size +
         position % layer.block_size;
}

float Dot(const KvLayer& layer, const void* base, int64_t offset, const float* q, int64_t n) {
  float sum = 0.0f;
  if (layer.type == KvType::kF32) {
    const float* k = static_cast<const float*>(base) + offset;
    for (int64_t i = 0; i < n; ++i) sum += k[i] * q[i];
  } else {
    const uint16_t* k = static_cast<const uint16_t*>(base) + offset;
    for (int64_t i = 0; i < n; ++i) sum += Fp16ToFloat(k[i]) * q[i];
  }
  return sum;
}

void AddScaled(const KvLayer& layer, const void* base, int64_t offset, float p, int64_t n,
               float* out) {
  if (layer.type == KvType::kF32) {
    const float* v = static_cast<const float*>(base) + offset;
    for (int64_t i = 0; i < n; ++i) out[i] += p * v[i];
  } else {
    const uint16_t* v = static_cast<const uint16_t*>(base) + offset;
    for (int64_t i = 0; i < n; ++i) out[i] += p * Fp16ToFloat(v[i]);
  }
}

void Store(const KvLayer& layer, void* base, int64_t offset, const float* x, int64_t n) {
  if (layer.type == KvType::kF32) {
    float* dst = static_cast<float*>(base) + offset;
    for (int64_t i = 0; i < n; ++i) dst[i] = x[i];
  } else {
    uint16_t* dst = static_cast<uint16_t*>(base) + offset;
    for (int64_t i = 0; i < n; ++i) dst[i] = FloatToFp16(x[i]);
  }
}

}  // namespace

void WriteKv(const KvLayer& layer, int64_t slot, const float* k, const float* v) {
  Store(layer, layer.k, RowOffset(layer, slot, 0, layer.head_dim), k,
        layer.n_kv_heads * layer.head_dim);
  Store(layer, layer.v, RowOffset(layer, slot, 0, layer.value_dim), v,
        layer.n_kv_heads * layer.value_dim);
}

void AttendOneHead(const AttentionShape& shape, const KvLayer& layer,
                   std::span<const int32_t> block_table, int64_t position, int64_t head,
                   const float* q, float* scores, float* out) {
  const int64_t kv_head = head / (shape.n_heads / shape.n_kv_heads);
  const int64_t first = FirstVisiblePosition(shape, position);
  float max_score = -std::numeric_limits<float>::infinity();
  for (int64_t p = first; p <= position; ++p) {
    const int64_t slot = SlotOf(layer, block_table, p);
    const float s =
        Dot(layer, layer.k, RowOffset(layer, slot, kv_head, shape.head_dim), q, shape.head_dim) *
        shape.scale;
    scores[p - first] = s;
    if (s > max_score) max_score = s;
  }
  const int64_t n_keys = position - first + 1;
  double sum = 0.0;
  for (int64_t j = 0; j < n_keys; ++j) {
    const float e = std::exp(scores[j] - max_score);
    scores[j] = e;
    sum += e;
  }
  const float inv_sum = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < shape.value_dim; ++i) out[i] = 0.0f;
  for (int64_t j = 0; j < n_keys; ++j) {
    const int64_t slot = SlotOf(layer, block_table, first + j);
    AddScaled(layer, layer.v, RowOffset(layer, slot, kv_head, shape.value_dim), scores[j] * inv_sum,
              shape.value_dim, out);
  }
}

}  // namespace shoal::kernels
