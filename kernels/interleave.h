// Load-time repacking of quantized weight matrices into row groups, the layout the
// fastest MatMul kernels read (WeightLayout::kInterleaved16).
//
// In a GGUF file each row's blocks follow each other, so a SIMD kernel that wants one
// output per vector lane must sum across lanes after every block. Interleaved, the
// blocks of 16 consecutive rows sit together, arranged so that one 64-byte load holds
// 4 quants of each of the 16 rows: an int8 dot product (vpdpbusd) against 4 activation
// bytes broadcast then leaves row i's partial sum in lane i, the 16 block scales load as
// one vector, and nothing is ever summed across lanes. Q4_0, Q5_0, Q8_0, Q4_K, Q5_K and
// Q6_K are interleaved; a matrix whose row count is not a multiple of 16 stays as it is.
// The 32-blocks and Q6_K are the same bytes, moved (the copy is as large as the
// original); Q4_K and Q5_K keep their 6-bit scales and mins one byte each, 2.8% and
// 2.3% more.
//
// Layout: group g (rows 16g..16g+15), block b (32 columns; Q4_K: a super-block of 256)
// is one record at (g · n_blocks + b) · record bytes. In a 32-block's record
// (16 · type_size bytes):
//   d[16]           fp16 scale of each row's block                          (32 bytes)
//   Q8_0: 8 vectors of 64 bytes; vector k, byte 4i+j = q(i, 4k+j) + 128 as uint8
//   Q4_0/Q5_0: 4 vectors of 64 bytes; vector c, byte 4i+j = the GGUF nibble byte
//              qs[4c+j] of row i (low nibble: element 4c+j, high: element 16+4c+j)
//   Q5_0 only: 8 little-endian 64-bit masks, mask v = 2c+h, bit 4i+j = the fifth bit
//              of element 16h+4c+j of row i
// In a Q4_K record (2368 bytes):
//   d[16], dmin[16]           fp16                                          (64 bytes)
//   scales[8][16], mins[8][16] the 6-bit values of sub-block j, row i at [j][i]  (256)
//   8 sub-blocks × 4 vectors:  vector (j, c), byte 4i+k = element 4c+k of row i's
//                              sub-block j (low nibble) | element 16+4c+k (high)  (2048)
// A Q5_K record (2880 bytes) is the Q4_K record of its low four bits, then per
// sub-block j 8 little-endian 64-bit masks: mask v = 2c+h, bit 4i+k = the fifth bit of
// element 16h+4c+k of row i's sub-block j.
// A Q6_K record (3360 bytes): d[16], scales[16][16] (int8), per 32-value chunk 4 nibble
// vectors as above, then per chunk 2 vectors of the top two bits (kernels/matmul/
// interleave_kquant.h).
#ifndef SHOAL_KERNELS_INTERLEAVE_H_
#define SHOAL_KERNELS_INTERLEAVE_H_

#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/matmul.h"

namespace shoal::kernels {

inline constexpr int64_t kInterleaveRows = 16;

// Whether `w` (in GGUF row layout) can be interleaved: Q4_0, Q5_0, Q8_0, Q4_K, Q5_K or
// Q6_K with a row count that is a positive multiple of 16.
bool CanInterleave(const WeightMatrix& w);

// Bytes of w's interleaved form (w: CanInterleave, or already interleaved).
int64_t InterleavedBytes(const WeightMatrix& w);

// Whether MatMul at `level` has a fast kernel for interleaved matrices of `type` (every
// level computes them correctly; only these are worth repacking for). False for a
// level above BestCpuLevel().
bool HasInterleavedKernel(GgmlType type, CpuLevel level = BestCpuLevel());

// Writes the interleaved form of `w` (CanInterleave) to `out`, which holds
// InterleavedBytes(w) bytes. Groups are spread over `pool` when it is not null.
void InterleaveRows(const WeightMatrix& w, uint8_t* out, ThreadPool* pool = nullptr);

// Writes row `row` of an interleaved matrix back in GGUF layout (w.row_bytes() bytes).
void DeinterleaveRow(const WeightMatrix& w, int64_t row, uint8_t* out);

// Dequantizes row `row` of `w`, in either layout, into out (w.n_cols floats).
absl::Status DequantizeMatrixRow(const WeightMatrix& w, int64_t row, std::span<float> out);

// An interleaved copy of a weight matrix; owns its 64-byte aligned bytes.
class InterleavedCopy {
 public:
  // `rows` must satisfy CanInterleave; ResourceExhausted if the memory is not there.
  static absl::StatusOr<InterleavedCopy> Create(const WeightMatrix& rows, ThreadPool* pool);

  // The copy, with layout kInterleaved16; valid while this object lives.
  const WeightMatrix& matrix() const { return matrix_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> bytes_;
  WeightMatrix matrix_;
};

}  // namespace shoal::kernels

#endif  // SHOAL_KERNELS_INTERLEAVE_H_
