#include "common/dequantize.h"

#include <cstring>

#include "common/half.h"
#include "common/quant_blocks.h"
#include "fmt/format.h"

namespace shoal {
namespace {

// Each DequantizeBlock writes one block's elements to `y`; the formulas follow
// REFERENCE.md §2.1 and keep ggml's order of float operations so results are exact.

void DequantizeBlock(const BlockQ4_0& b, float* y) {
  const float d = Fp16ToFloat(b.d);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = static_cast<float>((b.qs[j] & 0x0F) - 8) * d;
    y[j + kQK / 2] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
  }
}

void DequantizeBlock(const BlockQ4_1& b, float* y) {
  const float d = Fp16ToFloat(b.d);
  const float m = Fp16ToFloat(b.m);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = static_cast<float>(b.qs[j] & 0x0F) * d + m;
    y[j + kQK / 2] = static_cast<float>(b.qs[j] >> 4) * d + m;
  }
}

uint32_t LoadFifthBits(const uint8_t qh[4]) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof(bits));
  return bits;
}

void DequantizeBlock(const BlockQ5_0& b, float* y) {
  const float d = Fp16ToFloat(b.d);
  const uint32_t qh = LoadFifthBits(b.qh);
  for (int j = 0; j < kQK / 2; ++j) {
    const int high0 = static_cast<int>(((qh >> j) << 4) & 0x10);
    const int high1 = static_cast<int>((qh >> (j + 12)) & 0x10);
    y[j] = static_cast<float>(((b.qs[j] & 0x0F) | high0) - 16) * d;
    y[j + kQK / 2] = static_cast<float>(((b.qs[j] >> 4) | high1) - 16) * d;
  }
}

void DequantizeBlock(const BlockQ5_1& b, float* y) {
  const float d = Fp16ToFloat(b.d);
  const float m = Fp16ToFloat(b.m);
  const uint32_t qh = LoadFifthBits(b.qh);
  for (int j = 0; j < kQK / 2; ++j) {
    const int high0 = static_cast<int>(((qh >> j) << 4) & 0x10);
    const int high1 = static_cast<int>((qh >> (j + 12)) & 0x10);
    y[j] = static_cast<float>((b.qs[j] & 0x0F) | high0) * d + m;
    y[j + kQK / 2] = static_cast<float>((b.qs[j] >> 4) | high1) * d + m;
  }
}

void DequantizeBlock(const BlockQ8_0& b, float* y) {
  const float d = Fp16ToFloat(b.d);
  for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
}

void DequantizeBlock(const BlockQ4_K& b, float* y) {
  const float d = Fp16ToFloat(b.d);
  const float dmin = Fp16ToFloat(b.dmin);
  const uint8_t* q = b.qs;
  for (int chunk = 0; chunk < 4; ++chunk, q += 32, y += 64) {
    uint8_t scale, min;
    UnpackKScaleMin(2 * chunk, b.scales, scale, min);
    const float d1 = d * scale, m1 = dmin * min;
    UnpackKScaleMin(2 * chunk + 1, b.scales, scale, min);
    const float d2 = d * scale, m2 = dmin * min;
    for (int l = 0; l < 32; ++l) y[l] = d1 * (q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) y[l + 32] = d2 * (q[l] >> 4) - m2;
  }
}

void DequantizeBlock(const BlockQ5_K& b, float* y) {
  const float d = Fp16ToFloat(b.d);
  const float dmin = Fp16ToFloat(b.dmin);
  const uint8_t* ql = b.qs;
  uint8_t low_bit = 1, high_bit = 2;  // the fifth bits of this chunk's two halves
  for (int chunk = 0; chunk < 4; ++chunk, ql += 32, y += 64, low_bit <<= 2, high_bit <<= 2) {
    uint8_t scale, min;
    UnpackKScaleMin(2 * chunk, b.scales, scale, min);
    const float d1 = d * scale, m1 = dmin * min;
    UnpackKScaleMin(2 * chunk + 1, b.scales, scale, min);
    const float d2 = d * scale, m2 = dmin * min;
    for (int l = 0; l < 32; ++l) y[l] = d1 * ((ql[l] & 0xF) + (b.qh[l] & low_bit ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l)
      y[l + 32] = d2 * ((ql[l] >> 4) + (b.qh[l] & high_bit ? 16 : 0)) - m2;
  }
}

void DequantizeBlock(const BlockQ6_K& b, float* y) {
  const float d = Fp16ToFloat(b.d);
  const uint8_t* ql = b.ql;
  const uint8_t* qh = b.qh;
  const int8_t* sc = b.scales;
  for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, y += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = static_cast<int8_t>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = static_cast<int8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * sc[is + 0] * q1;
      y[l + 32] = d * sc[is + 2] * q2;
      y[l + 64] = d * sc[is + 4] * q3;
      y[l + 96] = d * sc[is + 6] * q4;
    }
  }
}

template <typename Block, int kElements>
void DequantizeBlocks(std::span<const uint8_t> src, std::span<float> dst) {
  const size_t n_blocks = dst.size() / kElements;
  for (size_t i = 0; i < n_blocks; ++i) {
    Block block;  // copied: blocks in files are not aligned to their struct's alignment
    std::memcpy(&block, src.data() + i * sizeof(Block), sizeof(Block));
    DequantizeBlock(block, dst.data() + i * kElements);
  }
}

}  // namespace

bool CanDequantize(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
}

absl::Status Dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst) {
  const GgmlTypeTraits& traits = TraitsOf(type);
  if (!CanDequantize(type)) {
    return absl::UnimplementedError(
        fmt::format("tensor type {} is not supported (no dequantization)", traits.name));
  }
  if (dst.size() % traits.block_size != 0) {
    return absl::InvalidArgumentError(
        fmt::format("{} elements is not a whole number of {} blocks", dst.size(), traits.name));
  }
  const size_t expected_bytes = dst.size() / traits.block_size * traits.type_size;
  if (src.size() != expected_bytes) {
    return absl::InvalidArgumentError(fmt::format("{} {} elements need {} bytes, got {}",
                                                  dst.size(), traits.name, expected_bytes,
                                                  src.size()));
  }
  if (dst.empty()) return absl::OkStatus();  // empty spans may hold null pointers
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(dst.data(), src.data(), src.size());
      break;
    case GgmlType::kF16:
    case GgmlType::kBF16:
      for (size_t i = 0; i < dst.size(); ++i) {
        uint16_t bits;
        std::memcpy(&bits, src.data() + 2 * i, 2);
        dst[i] = type == GgmlType::kF16 ? Fp16ToFloat(bits) : Bf16ToFloat(bits);
      }
      break;
    case GgmlType::kQ4_0:
      DequantizeBlocks<BlockQ4_0, kQK>(src, dst);
      break;
    case GgmlType::kQ4_1:
      DequantizeBlocks<BlockQ4_1, kQK>(src, dst);
      break;
    case GgmlType::kQ5_0:
      DequantizeBlocks<BlockQ5_0, kQK>(src, dst);
      break;
    case GgmlType::kQ5_1:
      DequantizeBlocks<BlockQ5_1, kQK>(src, dst);
      break;
    case GgmlType::kQ8_0:
      DequantizeBlocks<BlockQ8_0, kQK>(src, dst);
      break;
    case GgmlType::kQ4_K:
      DequantizeBlocks<BlockQ4_K, kQK_K>(src, dst);
      break;
    case GgmlType::kQ5_K:
      DequantizeBlocks<BlockQ5_K, kQK_K>(src, dst);
      break;
    case GgmlType::kQ6_K:
      DequantizeBlocks<BlockQ6_K, kQK_K>(src, dst);
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

}  // namespace shoal
