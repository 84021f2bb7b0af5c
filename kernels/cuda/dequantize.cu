// Dequantization of GGUF rows on the device, value for value what common/dequantize.cc
// computes: the same float operations in the same order, each rounded on its own
// (__fmul_rn and friends keep nvcc from fusing them into FMAs the CPU does not use).
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_kernels.h"

namespace shoal::kernels::cuda {
namespace {

// GGUF type ids (common/ggml_types.h).
constexpr int kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ5_0 = 6, kQ8_0 = 8, kQ4_K = 12, kQ6_K = 14;

__device__ float Half(const uint8_t* p) {
  const unsigned short bits = static_cast<unsigned short>(p[0] | (p[1] << 8));
  return __half2float(__ushort_as_half(bits));
}

__device__ void ScaleMinK4(int j, const uint8_t* q, int& scale, int& min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Block `b` of a row into y (its values of the block only).
__device__ void DequantizeBlock(int type, const uint8_t* row, int64_t b, float* y) {
  switch (type) {
    case kF32: y[0] = reinterpret_cast<const float*>(row)[b]; return;
    case kF16: y[0] = Half(row + 2 * b); return;
    case kQ4_0: {
      const uint8_t* block = row + 18 * b;
      const float d = Half(block);
      for (int j = 0; j < 16; ++j) {
        y[j] = __fmul_rn(static_cast<float>((block[2 + j] & 0x0F) - 8), d);
        y[j + 16] = __fmul_rn(static_cast<float>((block[2 + j] >> 4) - 8), d);
      }
      return;
    }
    case kQ5_0: {
      const uint8_t* block = row + 22 * b;
      const float d = Half(block);
      const uint32_t qh = block[2] | (block[3] << 8) | (block[4] << 16) | (uint32_t(block[5]) << 24);
      for (int j = 0; j < 16; ++j) {
        const int high0 = ((qh >> j) << 4) & 0x10, high1 = (qh >> (j + 12)) & 0x10;
        y[j] = __fmul_rn(static_cast<float>(((block[6 + j] & 0x0F) | high0) - 16), d);
        y[j + 16] = __fmul_rn(static_cast<float>(((block[6 + j] >> 4) | high1) - 16), d);
      }
      return;
    }
    case kQ8_0: {
      const uint8_t* block = row + 34 * b;
      const float d = Half(block);
      for (int j = 0; j < 32; ++j) y[j] = __fmul_rn(static_cast<float>(static_cast<int8_t>(block[2 + j])), d);
      return;
    }
    case kQ4_K: {
      const uint8_t* block = row + 144 * b;
      const float d = Half(block), dmin = Half(block + 2);
      const uint8_t* q = block + 16;
      for (int chunk = 0; chunk < 4; ++chunk, q += 32, y += 64) {
        int scale, min;
        ScaleMinK4(2 * chunk, block + 4, scale, min);
        const float d1 = __fmul_rn(d, static_cast<float>(scale)), m1 = __fmul_rn(dmin, static_cast<float>(min));
        ScaleMinK4(2 * chunk + 1, block + 4, scale, min);
        const float d2 = __fmul_rn(d, static_cast<float>(scale)), m2 = __fmul_rn(dmin, static_cast<float>(min));
        for (int l = 0; l < 32; ++l) y[l] = __fsub_rn(__fmul_rn(d1, static_cast<float>(q[l] & 0xF)), m1);
        for (int l = 0; l < 32; ++l) y[l + 32] = __fsub_rn(__fmul_rn(d2, static_cast<float>(q[l] >> 4)), m2);
      }
      return;
    }
    case kQ6_K: {
      const uint8_t* block = row + 210 * b;
      const float d = Half(block + 208);
      const uint8_t* ql = block;
      const uint8_t* qh = block + 128;
      const int8_t* sc = reinterpret_cast<const int8_t*>(block + 192);
      for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, y += 128) {
        for (int l = 0; l < 32; ++l) {
          const int is = l / 16;
          const int q1 = static_cast<int8_t>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
          const int q2 = static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
          const int q3 = static_cast<int8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
          const int q4 = static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
          y[l] = __fmul_rn(__fmul_rn(d, static_cast<float>(sc[is + 0])), static_cast<float>(q1));
          y[l + 32] = __fmul_rn(__fmul_rn(d, static_cast<float>(sc[is + 2])), static_cast<float>(q2));
          y[l + 64] = __fmul_rn(__fmul_rn(d, static_cast<float>(sc[is + 4])), static_cast<float>(q3));
          y[l + 96] = __fmul_rn(__fmul_rn(d, static_cast<float>(sc[is + 6])), static_cast<float>(q4));
        }
      }
      return;
    }
  }
}

int BlockValues(int type) {
  switch (type) {
    case kF32:
    case kF16: return 1;
    case kQ4_K:
    case kQ6_K: return 256;
    default: return 32;
  }
}

// One thread per (output row, block).
__global__ void DequantizeRowsKernel(int type, const uint8_t* data, int64_t row_bytes,
                                     int64_t n_cols, int block_values, const int32_t* ids,
                                     int64_t n_ids, float* out) {
  const int64_t blocks_per_row = n_cols / block_values;
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= n_ids * blocks_per_row) return;
  const int64_t i = index / blocks_per_row, b = index % blocks_per_row;
  const int64_t row = ids != nullptr ? ids[i] : i;
  DequantizeBlock(type, data + row * row_bytes, b, out + i * n_cols + b * block_values);
}

// y[t][r] = Σ_k x[t][k]·W[r][k] for t < n_tokens ≤ kMaxMatVecTokens, straight from the
// quantized rows: one warp per row, each lane dequantizing whole blocks into registers
// (local memory for the 256-value k-quants) and dotting them with every token, then a
// warp sum. The decode path: W is read once, never expanded in memory.
constexpr int kMaxMatVecTokens = 8;
constexpr int kWarpsPerBlock = 4;

__global__ void QuantizedMatVecKernel(int type, const uint8_t* w, int64_t row_bytes, int64_t n_rows,
                                      int64_t n_cols, int block_values, const float* x,
                                      int64_t n_tokens, float* y) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= n_rows) return;  // whole warps leave together
  float sums[kMaxMatVecTokens] = {};
  float values[256];
  const uint8_t* wr = w + row * row_bytes;
  const int64_t n_blocks = n_cols / block_values;
  for (int64_t b = lane; b < n_blocks; b += 32) {
    DequantizeBlock(type, wr, b, values);
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float* xt = x + t * n_cols + b * block_values;
      float s = 0.0f;
      for (int j = 0; j < block_values; ++j) s = fmaf(values[j], xt[j], s);
      sums[t] += s;
    }
  }
  for (int64_t t = 0; t < n_tokens; ++t) {
    float s = sums[t];
    for (int offset = 16; offset > 0; offset /= 2) s += __shfl_down_sync(0xffffffffu, s, offset);
    if (lane == 0) y[t * n_rows + row] = s;
  }
}

}  // namespace

cudaError_t LaunchQuantizedMatVec(int ggml_type, const uint8_t* w, int64_t row_bytes,
                                  int64_t n_rows, int64_t n_cols, const float* x,
                                  int64_t n_tokens, float* y, cudaStream_t stream) {
  if (!CanDequantizeOnDevice(ggml_type) || n_tokens > kMaxMatVecTokens) return cudaErrorInvalidValue;
  if (n_rows == 0 || n_tokens == 0) return cudaSuccess;
  const unsigned blocks = static_cast<unsigned>((n_rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
  QuantizedMatVecKernel<<<blocks, 32 * kWarpsPerBlock, 0, stream>>>(
      ggml_type, w, row_bytes, n_rows, n_cols, BlockValues(ggml_type), x, n_tokens, y);
  return cudaGetLastError();
}

bool CanDequantizeOnDevice(int ggml_type) {
  switch (ggml_type) {
    case kF32: case kF16: case kQ4_0: case kQ5_0: case kQ8_0: case kQ4_K: case kQ6_K: return true;
    default: return false;
  }
}

cudaError_t LaunchDequantizeRows(int ggml_type, const uint8_t* data, int64_t row_bytes,
                                 int64_t n_cols, const int32_t* ids, int64_t n_ids, float* out,
                                 cudaStream_t stream) {
  if (!CanDequantizeOnDevice(ggml_type)) return cudaErrorInvalidValue;
  const int block_values = BlockValues(ggml_type);
  const int64_t threads = n_ids * (n_cols / block_values);
  if (threads == 0) return cudaSuccess;
  constexpr int kBlock = 128;
  DequantizeRowsKernel<<<static_cast<unsigned>((threads + kBlock - 1) / kBlock), kBlock, 0, stream>>>(
      ggml_type, data, row_bytes, n_cols, block_values, ids, n_ids, out);
  return cudaGetLastError();
}

}  // namespace shoal::kernels::cuda
