// Inputs and references for the matmul kernel tests (see matmul_test_util.h).
#include "tests/kernels/matmul/matmul_test_util.h"

#include <cmath>
#include <cstring>
#include <span>

#include "common/half.h"
#include "common/quant_blocks.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "model/quant/dequantize.h"

namespace shoal::kernels::matmul::testing {
namespace {

// Byte offsets of the half-precision scale fields in each block (quant_cases.py).
std::vector<int> HalfFields(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ8_0: return {0};
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K: return {0, 2};
    case GgmlType::kQ6_K: return {208};
    default: return {};
  }
}

// A block scale as files hold them: mostly 1e-5..0.1, either sign, 5% subnormal.
uint16_t RealisticScale(std::mt19937& rng) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const float sign = unit(rng) < 0.5f ? -1.0f : 1.0f;
  const float magnitude = unit(rng) < 0.05f ? std::exp(-16.0f + 5.0f * unit(rng))
                                            : std::exp(std::log(1e-5f) + 9.2f * unit(rng));
  return FloatToFp16(sign * magnitude);
}

float HalfAt(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return Fp16ToFloat(h);
}

}  // namespace

const std::vector<GgmlType>& MatMulTypes() {
  static const std::vector<GgmlType> types = {
      GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ4_0,
      GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0,
      GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K};
  return types;
}

uint32_t BaseSeed() {
  const int flag_seed = ::testing::UnitTest::GetInstance()->random_seed();
  return flag_seed != 0 ? static_cast<uint32_t>(flag_seed) : 20251125u;
}

std::vector<uint8_t> RandomWeights(GgmlType type, int64_t n_rows, int64_t n_cols,
                                   std::mt19937& rng) {
  const GgmlTypeTraits& traits = TraitsOf(type);
  const int64_t row_bytes = n_cols / traits.block_size * traits.type_size;
  std::vector<uint8_t> data(n_rows * row_bytes);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  if (traits.block_size == 1) {
    for (int64_t r = 0; r < n_rows; ++r) {
      const float scale = std::exp(std::log(1e-3f) + 6.9f * unit(rng));
      for (int64_t k = 0; k < n_cols; ++k) {
        const float v = normal(rng) * scale;
        uint8_t* out = data.data() + r * row_bytes + k * traits.type_size;
        if (type == GgmlType::kF32) std::memcpy(out, &v, 4);
        const uint16_t h = type == GgmlType::kF16 ? FloatToFp16(v) : FloatToBf16(v);
        if (type != GgmlType::kF32) std::memcpy(out, &h, 2);
      }
    }
    return data;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& b : data) b = static_cast<uint8_t>(byte(rng));
  for (size_t block = 0; block < data.size() / traits.type_size; ++block) {
    for (int offset : HalfFields(type)) {
      const uint16_t h = RealisticScale(rng);
      std::memcpy(data.data() + block * traits.type_size + offset, &h, 2);
    }
  }
  return data;
}

std::vector<float> RandomActivations(int64_t n_tokens, int64_t n_cols, std::mt19937& rng) {
  std::vector<float> x(n_tokens * n_cols);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float scale = std::exp(std::log(1e-2f) + 6.9f * unit(rng));
    for (int64_t k = 0; k < n_cols; ++k) {
      x[t * n_cols + k] = normal(rng) * scale * (unit(rng) < 0.01f ? 20.0f : 1.0f);
    }
  }
  if (n_cols >= 64) {  // row 0: zero first block, ±max tie in the second block
    float* row = x.data();
    std::fill(row, row + 32, 0.0f);
    float max = 0.0f;
    for (int64_t k = 32; k < n_cols; ++k) max = std::fmax(max, std::fabs(row[k]));
    row[40] = -2.0f * max;
    row[41] = 2.0f * max;
  }
  return x;
}

std::vector<float> DequantizeWeights(GgmlType type, const std::vector<uint8_t>& data,
                                     int64_t n_rows, int64_t n_cols) {
  std::vector<float> out(n_rows * n_cols);
  const absl::Status status = model::Dequantize(type, data, out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

std::vector<double> DequantizeActivationRow(const ActivationLayout& layout,
                                            const uint8_t* row) {
  const ActivationRow a = ViewActivationRow(layout, row);
  std::vector<double> out(layout.n_cols);
  const int64_t block = layout.kind == ActivationKind::kQ8_K ? 256 : 32;
  for (int64_t k = 0; k < layout.n_cols; ++k) {
    out[k] = a.values != nullptr ? a.values[k]
                                 : static_cast<double>(a.qs[k]) * a.d[k / block];
  }
  return out;
}

std::vector<double> WeightMagnitudes(GgmlType type, const std::vector<uint8_t>& data,
                                     const std::vector<float>& dequantized, int64_t n_rows,
                                     int64_t n_cols) {
  const GgmlTypeTraits& traits = TraitsOf(type);
  std::vector<double> out(dequantized.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::fabs(dequantized[i]);
  const int64_t n_blocks = n_rows * n_cols / traits.block_size;
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = data.data() + b * traits.type_size;
    double* mag = out.data() + b * traits.block_size;
    for (int64_t k = 0; k < traits.block_size; ++k) {
      const int sub = static_cast<int>(k / 32);
      double extra = 0.0;
      switch (type) {
        case GgmlType::kQ4_0: extra = 8.0 * std::fabs(HalfAt(block)); break;
        case GgmlType::kQ5_0: extra = 16.0 * std::fabs(HalfAt(block)); break;
        case GgmlType::kQ8_0: extra = 128.0 * std::fabs(HalfAt(block)); break;
        case GgmlType::kQ4_1:
        case GgmlType::kQ5_1: extra = std::fabs(HalfAt(block + 2)); break;
        case GgmlType::kQ4_K:
        case GgmlType::kQ5_K: {
          uint8_t scale, min;
          UnpackKScaleMin(sub, block + 4, scale, min);
          extra = std::fabs(HalfAt(block + 2)) * min + std::fabs(HalfAt(block)) * scale * 31;
          break;
        }
        case GgmlType::kQ6_K:
          extra = 64.0 * std::fabs(HalfAt(block + 208) *
                                   static_cast<int8_t>(block[192 + k / 16]));
          break;
        default: break;
      }
      mag[k] += extra;
    }
  }
  return out;
}

std::vector<uint8_t> QuantizeRows(const ActivationLayout& layout, const std::vector<float>& x,
                                  int64_t n_tokens) {
  std::vector<uint8_t> out(n_tokens * layout.row_bytes);
  for (int64_t t = 0; t < n_tokens; ++t) {
    QuantizeRowReference(layout, x.data() + t * layout.n_cols, out.data() + t * layout.row_bytes);
  }
  return out;
}

std::string ShapeName(GgmlType type, int64_t n_rows, int64_t n_cols, int64_t n_tokens) {
  return fmt::format("{} {}x{} tokens={}", GgmlTypeName(type), n_rows, n_cols, n_tokens);
}

}  // namespace shoal::kernels::matmul::testing
