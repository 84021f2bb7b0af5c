// Dequantization of GGUF rows on the device, value for value what common/dequantize.cc
// computes (the block math is dequantize_block.h, shared with the CPU tests), and the
// decode mat-vec straight from quantized rows.
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/dequantize_block.h"

namespace shoal::kernels::cuda {
namespace {

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
      ggml_type, w, row_bytes, n_rows, n_cols, DeviceBlockValues(ggml_type), x, n_tokens, y);
  return cudaGetLastError();
}

bool CanDequantizeOnDevice(int ggml_type) { return DeviceBlockValues(ggml_type) != 0; }

cudaError_t LaunchDequantizeRows(int ggml_type, const uint8_t* data, int64_t row_bytes,
                                 int64_t n_cols, const int32_t* ids, int64_t n_ids, float* out,
                                 cudaStream_t stream) {
  if (!CanDequantizeOnDevice(ggml_type)) return cudaErrorInvalidValue;
  const int block_values = DeviceBlockValues(ggml_type);
  const int64_t threads = n_ids * (n_cols / block_values);
  if (threads == 0) return cudaSuccess;
  constexpr int kBlock = 128;
  DequantizeRowsKernel<<<static_cast<unsigned>((threads + kBlock - 1) / kBlock), kBlock, 0, stream>>>(
      ggml_type, data, row_bytes, n_cols, block_values, ids, n_ids, out);
  return cudaGetLastError();
}

}  // namespace shoal::kernels::cuda
