// One GGUF block dequantized, as the device kernels do it (dequantize.cu): written once
// for nvcc and the host compiler, so the CPU tests can check the device's bit layouts
// and float order against common/dequantize.cc without a GPU
// (tests/kernels/cuda/dequantize_block_test.cc). Each float operation is rounded on its
// own (__fmul_rn and friends on the device, where nvcc would otherwise fuse them into
// FMAs the CPU does not use; plain operations on the host, built without contraction).
#ifndef SHOAL_KERNELS_CUDA_DEQUANTIZE_BLOCK_H_
#define SHOAL_KERNELS_CUDA_DEQUANTIZE_BLOCK_H_

#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#include <cuda_fp16.h>
#define SHOAL_HOST_DEVICE __host__ __device__
#else
#include "common/half.h"
#define SHOAL_HOST_DEVICE
#endif

namespace shoal::kernels::cuda {

// GGUF type ids (common/ggml_types.h).
constexpr int kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ5_0 = 6, kQ8_0 = 8, kQ4_K = 12, kQ6_K = 14;

// Values per block of a type the device dequantizes (0 for any other type).
SHOAL_HOST_DEVICE inline int DeviceBlockValues(int type) {
  switch (type) {
    case kF32: case kF16: return 1;
    case kQ4_0: case kQ5_0: case kQ8_0: return 32;
    case kQ4_K: case kQ6_K: return 256;
    default: return 0;
  }
}

namespace detail {

SHOAL_HOST_DEVICE inline float Mul(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
SHOAL_HOST_DEVICE inline float Sub(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
// A little-endian fp16 at p.
SHOAL_HOST_DEVICE inline float Half(const uint8_t* p) {
  const auto bits = static_cast<unsigned short>(p[0] | (p[1] << 8));
#ifdef __CUDACC__
  return __half2float(__ushort_as_half(bits));
#else
  return Fp16ToFloat(bits);
#endif
}

// Q4_K's packed 6-bit scale and min of sub-block j (0..7).
SHOAL_HOST_DEVICE inline void ScaleMinK4(int j, const uint8_t* q, int& scale, int& min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

}  // namespace detail

// Block `b` of a row of `type` into y (DeviceBlockValues(type) values).
SHOAL_HOST_DEVICE inline void DequantizeBlock(int type, const uint8_t* row, int64_t b, float* y) {
  using detail::Half;
  using detail::Mul;
  using detail::Sub;
  switch (type) {
    case kF32: memcpy(y, row + 4 * b, sizeof(float)); return;
    case kF16: y[0] = Half(row + 2 * b); return;
    case kQ4_0: {
      const uint8_t* block = row + 18 * b;
      const float d = Half(block);
      for (int j = 0; j < 16; ++j) {
        y[j] = Mul(static_cast<float>((block[2 + j] & 0x0F) - 8), d);
        y[j + 16] = Mul(static_cast<float>((block[2 + j] >> 4) - 8), d);
      }
      return;
    }
    case kQ5_0: {
      const uint8_t* block = row + 22 * b;
      const float d = Half(block);
      const uint32_t qh = block[2] | (block[3] << 8) | (block[4] << 16) | (uint32_t(block[5]) << 24);
      for (int j = 0; j < 16; ++j) {
        const int high0 = ((qh >> j) << 4) & 0x10, high1 = (qh >> (j + 12)) & 0x10;
        y[j] = Mul(static_cast<float>(((block[6 + j] & 0x0F) | high0) - 16), d);
        y[j + 16] = Mul(static_cast<float>(((block[6 + j] >> 4) | high1) - 16), d);
      }
      return;
    }
    case kQ8_0: {
      const uint8_t* block = row + 34 * b;
      const float d = Half(block);
      for (int j = 0; j < 32; ++j) y[j] = Mul(static_cast<float>(static_cast<int8_t>(block[2 + j])), d);
      return;
    }
    case kQ4_K: {
      const uint8_t* block = row + 144 * b;
      const float d = Half(block), dmin = Half(block + 2);
      const uint8_t* q = block + 16;
      for (int chunk = 0; chunk < 4; ++chunk, q += 32, y += 64) {
        int scale, min;
        detail::ScaleMinK4(2 * chunk, block + 4, scale, min);
        const float d1 = Mul(d, static_cast<float>(scale)), m1 = Mul(dmin, static_cast<float>(min));
        detail::ScaleMinK4(2 * chunk + 1, block + 4, scale, min);
        const float d2 = Mul(d, static_cast<float>(scale)), m2 = Mul(dmin, static_cast<float>(min));
        for (int l = 0; l < 32; ++l) y[l] = Sub(Mul(d1, static_cast<float>(q[l] & 0xF)), m1);
        for (int l = 0; l < 32; ++l) y[l + 32] = Sub(Mul(d2, static_cast<float>(q[l] >> 4)), m2);
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
          y[l] = Mul(Mul(d, static_cast<float>(sc[is + 0])), static_cast<float>(q1));
          y[l + 32] = Mul(Mul(d, static_cast<float>(sc[is + 2])), static_cast<float>(q2));
          y[l + 64] = Mul(Mul(d, static_cast<float>(sc[is + 4])), static_cast<float>(q3));
          y[l + 96] = Mul(Mul(d, static_cast<float>(sc[is + 6])), static_cast<float>(q4));
        }
      }
      return;
    }
  }
}

}  // namespace shoal::kernels::cuda

#endif  // SHOAL_KERNELS_CUDA_DEQUANTIZE_BLOCK_H_
