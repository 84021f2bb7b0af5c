// Q4_K and Q6_K super-blocks to and from their interleaved records.
//
// In both records a 32-value chunk of 16 rows is 4 nibble vectors in the 32-block
// arrangement: vector c, byte 4i+k holds element 4c+k of the chunk in its low nibble and
// element 16+4c+k in its high one. Vector v = 2c+h of the kernels' eight is the low
// (h = 0) or high (h = 1) nibbles of vector c.
#include "kernels/matmul/interleave_kquant.h"

#include <cstring>

#include "common/quant_blocks.h"

namespace shoal::kernels::matmul {
namespace {

constexpr int kVector = 64;

// Byte 4i+k of nibble vector c of a chunk, from the chunk's 32 values (< 16 each).
uint8_t NibbleByte(const uint8_t* chunk_values, int c, int k) {
  return static_cast<uint8_t>((chunk_values[4 * c + k] & 15) | (chunk_values[16 + 4 * c + k] & 15) << 4);
}
// Element e (0..31) of a chunk back from its nibble vectors.
uint8_t ChunkNibble(const uint8_t* vectors, int64_t i, int e) {
  const uint8_t byte = vectors[(e % 16) / 4 * kVector + 4 * i + e % 4];
  return e < 16 ? byte & 15 : byte >> 4;
}

// The inverse of UnpackKScaleMin (common/quant_blocks.h): ggml's 12-byte packing of a
// Q4_K super-block's eight 6-bit scales and mins.
void PackScalesMins(const uint8_t* scales, const uint8_t* mins, uint8_t* q) {
  for (int j = 0; j < 4; ++j) {
    q[j] = static_cast<uint8_t>(scales[j] | ((scales[j + 4] >> 4) << 6));
    q[j + 4] = static_cast<uint8_t>(mins[j] | ((mins[j + 4] >> 4) << 6));
    q[j + 8] = static_cast<uint8_t>((scales[j + 4] & 15) | ((mins[j + 4] & 15) << 4));
  }
}

// Q4_K GGUF block: d, dmin, 12 scale bytes, qs[128] with element l of sub-block 2n in
// the low nibble of qs[32n + l] and of sub-block 2n+1 in the high one.
constexpr int kQ4KBlockQs = 16;
// Q5_K GGUF block: d, dmin, 12 scale bytes, qh[32], qs[128] (as Q4_K's).
constexpr int kQ5KBlockQh = 16, kQ5KBlockQs = 48;

// Q6_K GGUF block: ql[128], qh[64], scales[16] (int8), d. Element e (half n = e/128,
// quarter q = e%128/32, l = e%32) is the nibble q/2 of ql[64n + 32(q%2) + l] with bits
// 2q, 2q+1 of qh[32n + l] above it; stored as u = value + 32, 0..63.
constexpr int kQ6KBlockQh = 128, kQ6KBlockScales = 192, kQ6KBlockD = 208;

struct Q6KPlace {
  int ql, ql_shift, qh, qh_shift;
};
Q6KPlace Q6KPlaceOf(int e) {
  const int n = e / 128, q = e % 128 / 32, l = e % 32;
  return {64 * n + 32 * (q % 2) + l, 4 * (q / 2), kQ6KBlockQh + 32 * n + l, 2 * q};
}

// Q4_K's and Q5_K's shared part: d, dmin, 12 scale bytes, then the nibbles at `qs`.
void ScalesAndNibblesToRecord(int64_t i, const uint8_t* block, const uint8_t* qs, uint8_t* record) {
  std::memcpy(record + 2 * i, block, 2);
  std::memcpy(record + 32 + 2 * i, block + 2, 2);
  for (int j = 0; j < 8; ++j) {
    UnpackKScaleMin(j, block + 4, record[kQ4KScales + 16 * j + i], record[kQ4KMins + 16 * j + i]);
    uint8_t values[32];
    for (int e = 0; e < 32; ++e) {
      const uint8_t byte = qs[32 * (j / 2) + e];
      values[e] = j % 2 == 0 ? byte & 15 : byte >> 4;
    }
    uint8_t* vectors = record + kQ4KQuants + 4 * kVector * j;
    for (int c = 0; c < 4; ++c) {
      for (int k = 0; k < 4; ++k) vectors[c * kVector + 4 * i + k] = NibbleByte(values, c, k);
    }
  }
}

void ScalesAndNibblesFromRecord(int64_t i, const uint8_t* record, uint8_t* block, uint8_t* qs) {
  std::memcpy(block, record + 2 * i, 2);
  std::memcpy(block + 2, record + 32 + 2 * i, 2);
  uint8_t scales[8], mins[8];
  for (int j = 0; j < 8; ++j) {
    scales[j] = record[kQ4KScales + 16 * j + i];
    mins[j] = record[kQ4KMins + 16 * j + i];
  }
  PackScalesMins(scales, mins, block + 4);
  for (int j = 0; j < 8; ++j) {
    const uint8_t* vectors = record + kQ4KQuants + 4 * kVector * j;
    for (int e = 0; e < 32; ++e) {
      const uint8_t nibble = ChunkNibble(vectors, i, e);
      qs[32 * (j / 2) + e] |= static_cast<uint8_t>(j % 2 == 0 ? nibble : nibble << 4);
    }
  }
}

}  // namespace

void Q4KToRecord(int64_t i, const uint8_t* block, uint8_t* record) {
  ScalesAndNibblesToRecord(i, block, block + kQ4KBlockQs, record);
}
void Q4KFromRecord(int64_t i, const uint8_t* record, uint8_t* block) {
  ScalesAndNibblesFromRecord(i, record, block, block + kQ4KBlockQs);
}

// Q5_K: the fifth bit of element e of sub-block j is bit j of qh[e].
void Q5KToRecord(int64_t i, const uint8_t* block, uint8_t* record) {
  ScalesAndNibblesToRecord(i, block, block + kQ5KBlockQs, record);
  const uint8_t* qh = block + kQ5KBlockQh;
  for (int j = 0; j < 8; ++j) {
    for (int v = 0; v < 8; ++v) {
      uint8_t* mask = record + kQ5KMasks + 64 * j + 8 * v;
      const int c = v / 2, h = v % 2;
      for (int k = 0; k < 4; ++k) {
        const int bit = 4 * static_cast<int>(i) + k;
        const uint8_t fifth = (qh[16 * h + 4 * c + k] >> j) & 1;
        mask[bit / 8] = static_cast<uint8_t>((mask[bit / 8] & ~(1 << (bit % 8))) | fifth << (bit % 8));
      }
    }
  }
}
void Q5KFromRecord(int64_t i, const uint8_t* record, uint8_t* block) {
  ScalesAndNibblesFromRecord(i, record, block, block + kQ5KBlockQs);
  uint8_t* qh = block + kQ5KBlockQh;
  for (int j = 0; j < 8; ++j) {
    for (int v = 0; v < 8; ++v) {
      const uint8_t* mask = record + kQ5KMasks + 64 * j + 8 * v;
      const int c = v / 2, h = v % 2;
      for (int k = 0; k < 4; ++k) {
        const int bit = 4 * static_cast<int>(i) + k;
        qh[16 * h + 4 * c + k] |= static_cast<uint8_t>(((mask[bit / 8] >> (bit % 8)) & 1) << j);
      }
    }
  }
}

// Q6_K's high bits: chunk m has two vectors; byte 4i+k of vector p holds, in bits 2q and
// 2q+1, the top two bits of the value kernel vector v = 4p+q covers at lane 4i+k.
void Q6KToRecord(int64_t i, const uint8_t* block, uint8_t* record) {
  std::memcpy(record + 2 * i, block + kQ6KBlockD, 2);
  for (int s = 0; s < 16; ++s) record[kQ6KScales + 16 * s + i] = block[kQ6KBlockScales + s];
  for (int m = 0; m < 8; ++m) {
    uint8_t values[32];
    for (int e = 0; e < 32; ++e) {
      const Q6KPlace p = Q6KPlaceOf(32 * m + e);
      values[e] = static_cast<uint8_t>((block[p.ql] >> p.ql_shift & 15) |
                                       (block[p.qh] >> p.qh_shift & 3) << 4);
    }
    uint8_t* low = record + kQ6KLow + 4 * kVector * m;
    uint8_t* high = record + kQ6KHigh + 2 * kVector * m;
    for (int c = 0; c < 4; ++c) {
      for (int k = 0; k < 4; ++k) {
        low[c * kVector + 4 * i + k] = NibbleByte(values, c, k);
        for (int h = 0; h < 2; ++h) {
          const int v = 2 * c + h, vp = v / 4, q = v % 4;
          high[vp * kVector + 4 * i + k] |=
              static_cast<uint8_t>((values[16 * h + 4 * c + k] >> 4) << (2 * q));
        }
      }
    }
  }
}

void Q6KFromRecord(int64_t i, const uint8_t* record, uint8_t* block) {
  std::memcpy(block + kQ6KBlockD, record + 2 * i, 2);
  for (int s = 0; s < 16; ++s) block[kQ6KBlockScales + s] = record[kQ6KScales + 16 * s + i];
  for (int m = 0; m < 8; ++m) {
    const uint8_t* low = record + kQ6KLow + 4 * kVector * m;
    const uint8_t* high = record + kQ6KHigh + 2 * kVector * m;
    for (int e = 0; e < 32; ++e) {
      const int h = e / 16, c = e % 16 / 4, k = e % 4, v = 2 * c + h;
      const int top = high[v / 4 * kVector + 4 * i + k] >> (2 * (v % 4)) & 3;
      const Q6KPlace p = Q6KPlaceOf(32 * m + e);
      block[p.ql] |= static_cast<uint8_t>(ChunkNibble(low, i, e) << p.ql_shift);
      block[p.qh] |= static_cast<uint8_t>(top << p.qh_shift);
    }
  }
}

}  // namespace shoal::kernels::matmul
