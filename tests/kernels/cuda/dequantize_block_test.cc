// The device's block dequantization (kernels/cuda/dequantize_block.h, the code the CUDA
// kernels run) built for the host: every type the device knows gives, bit for bit, the
// values of the reference dequantization ggml's files are checked against
// (common/dequantize.cc). Needs no GPU, so CI checks the device's bit layouts.
#include "kernels/cuda/dequantize_block.h"

#include <cstring>
#include <random>
#include <vector>

#include "common/dequantize.h"
#include "common/ggml_types.h"
#include "common/half.h"
#include "gtest/gtest.h"

namespace shoal::kernels::cuda {
namespace {

// Where each type keeps its fp16 scales (they must be finite: random bits could be NaN).
std::vector<int> ScaleOffsets(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0: case GgmlType::kQ5_0: case GgmlType::kQ8_0: return {0};
    case GgmlType::kQ4_K: return {0, 2};
    case GgmlType::kQ6_K: return {208};
    default: return {};
  }
}

// `blocks` random blocks of `type`: random quants and packed scales, finite fp16 scales.
std::vector<uint8_t> RandomBlocks(GgmlType type, int64_t blocks, std::mt19937& rng) {
  const GgmlTypeTraits& t = TraitsOf(type);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  std::vector<uint8_t> data(blocks * t.type_size);
  for (uint8_t& b : data) b = static_cast<uint8_t>(byte(rng));
  const auto put_half = [&](uint8_t* p, float x) {
    const uint16_t h = FloatToFp16(x);
    p[0] = static_cast<uint8_t>(h & 0xFF);
    p[1] = static_cast<uint8_t>(h >> 8);
  };
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t* block = data.data() + b * t.type_size;
    if (type == GgmlType::kF32) {
      const float x = value(rng);
      std::memcpy(block, &x, sizeof(x));
    } else if (type == GgmlType::kF16) {
      put_half(block, value(rng));
    }
    for (int offset : ScaleOffsets(type)) put_half(block + offset, value(rng) * 0.01f);
  }
  return data;
}

class DeviceDequantizeBlock : public ::testing::TestWithParam<GgmlType> {};

TEST_P(DeviceDequantizeBlock, GivesTheReferenceValuesBitForBit) {
  const GgmlType type = GetParam();
  const GgmlTypeTraits& t = TraitsOf(type);
  ASSERT_EQ(DeviceBlockValues(static_cast<int>(type)), t.block_size);
  std::mt19937 rng(static_cast<uint32_t>(type) * 7919 + 1);
  constexpr int64_t kBlocks = 64;
  const std::vector<uint8_t> row = RandomBlocks(type, kBlocks, rng);
  std::vector<float> expected(kBlocks * t.block_size);
  ASSERT_TRUE(Dequantize(type, row, expected).ok());
  std::vector<float> actual(expected.size(), -12345.0f);
  for (int64_t b = 0; b < kBlocks; ++b) {
    DequantizeBlock(static_cast<int>(type), row.data(), b, actual.data() + b * t.block_size);
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(std::memcmp(&actual[i], &expected[i], sizeof(float)), 0)
        << "element " << i << " (block " << i / t.block_size << "): " << actual[i] << " vs "
        << expected[i];
  }
}

INSTANTIATE_TEST_SUITE_P(DeviceTypes, DeviceDequantizeBlock,
                         ::testing::Values(GgmlType::kF32, GgmlType::kF16, GgmlType::kQ4_0,
                                           GgmlType::kQ5_0, GgmlType::kQ8_0, GgmlType::kQ4_K,
                                           GgmlType::kQ6_K),
                         [](const auto& info) { return std::string(GgmlTypeName(info.param)); });

TEST(DeviceBlockValues, OtherTypesAreNotDeviceTypes) {
  for (GgmlType type : {GgmlType::kBF16, GgmlType::kQ4_1, GgmlType::kQ5_1, GgmlType::kQ5_K}) {
    EXPECT_EQ(DeviceBlockValues(static_cast<int>(type)), 0) << GgmlTypeName(type);
  }
}

}  // namespace
}  // namespace shoal::kernels::cuda
