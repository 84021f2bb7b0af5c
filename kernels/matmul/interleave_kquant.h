// The interleaved records of the k-quants (layouts in kernels/interleave.h): where row i
// of a 16-row group puts its super-block of 256, and how it comes back. Byte moves for
// load time and the reference paths; the SIMD kernels read the records directly.
#ifndef SHOAL_KERNELS_MATMUL_INTERLEAVE_KQUANT_H_
#define SHOAL_KERNELS_MATMUL_INTERLEAVE_KQUANT_H_

#include <cstdint>

namespace shoal::kernels::matmul {

// Q4_K: d[16], dmin[16], scales[8][16], mins[8][16], then 8 sub-blocks × 4 nibble
// vectors of 64 bytes.
inline constexpr int kQ4KScales = 64, kQ4KMins = 192, kQ4KQuants = 320;
inline constexpr int kQ4KRecordBytes = kQ4KQuants + 8 * 4 * 64;  // 2368

// Q5_K: the Q4_K record, then per sub-block j the fifth bits as 8 little-endian 64-bit
// masks: mask v = 2c+h, bit 4i+k = the fifth bit of element 16h+4c+k of row i.
inline constexpr int kQ5KMasks = kQ4KRecordBytes;
inline constexpr int kQ5KRecordBytes = kQ5KMasks + 8 * 8 * 8;  // 2880

// Q6_K: d[16], scales[16][16] (int8), 8 chunks × 4 low-nibble vectors, 8 chunks × 2
// high-bit vectors: 16 · 210 bytes, the GGUF size.
inline constexpr int kQ6KScales = 32, kQ6KLow = 288, kQ6KHigh = kQ6KLow + 8 * 4 * 64;
inline constexpr int kQ6KRecordBytes = kQ6KHigh + 8 * 2 * 64;  // 3360

// `block` is row i's GGUF super-block; the record's other rows are left alone. The
// From functions expect `block` zeroed.
void Q4KToRecord(int64_t i, const uint8_t* block, uint8_t* record);
void Q4KFromRecord(int64_t i, const uint8_t* record, uint8_t* block);
void Q5KToRecord(int64_t i, const uint8_t* block, uint8_t* record);
void Q5KFromRecord(int64_t i, const uint8_t* record, uint8_t* block);
void Q6KToRecord(int64_t i, const uint8_t* block, uint8_t* record);
void Q6KFromRecord(int64_t i, const uint8_t* record, uint8_t* block);

}  // namespace shoal::kernels::matmul

#endif  // SHOAL_KERNELS_MATMUL_INTERLEAVE_KQUANT_H_
