// Load-time repacking of quantized weight matrices into row groups, the layout the
// fastest MatMul kernels read (WeightLayout::kInterleaved16).
//
// In a GGUF file each row's blocks follow each other, so a SIMD kernel that wants one
// output per vector lane must sum across lanes after every block. Interleaved, the
// blocks of 16 consecutive rows sit together, arranged so that one 64-byte load holds
// 4 quants of each of the 16 rows: an int8 dot product (vpdpbusd) against 4 activation
// bytes broadcast then leaves row i's partial sum in lane i, the 16 block scales load as
// one vector, and nothing is ever summed across lanes. The same bytes, moved: the copy
// is exactly as large as the original. Types with 32-value blocks whose scale is a
// single fp16 (Q4_0, Q5_0, Q8_0) are interleaved; a matrix whose row count is not a
// multiple of 16 stays as it is.
//
// Layout: group g (rows 16g..16g+15), block b (columns 32b..32b+31) is one record of
// 16 · type_size bytes at (g · n_blocks + b) · 16 · type_size:
//   d[16]           fp16 scale of each row's block                          (32 bytes)
//   Q8_0: 8 vectors of 64 bytes; vector k, byte 4i+j = q(i, 4k+j) + 128 as uint8
//   Q4_0/Q5_0: 4 vectors of 64 bytes; vector c, byte 4i+j = the GGUF nibble byte
//              qs[4c+j] of row i (low nibble: element 4c+j, high: element 16+4c+j)
//   Q5_0 only: 8 little-endian 64-bit masks, mask v = 2c+h, bit 4i+j = the fifth bit
//              of element 16h+4c+j of row i
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

// Whether `w` (in GGUF row layout) can be interleaved: Q4_0, Q5_0 or Q8_0 with a row
// count that is a positive multiple of 16.
bool CanInterleave(const WeightMatrix& w);

// Whether MatMul at `level` has a fast kernel for interleaved matrices of `type` (every
// level computes them correctly; only these are worth repacking for).
bool HasInterleavedKernel(GgmlType type, CpuLevel level = BestCpuLevel());

// Writes the interleaved form of `w` (CanInterleave) to `out`, which holds
// w.n_rows · w.row_bytes() bytes. Groups are spread over `pool` when it is not null.
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
