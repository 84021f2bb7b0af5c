// The interleaved weight layout (kernels/interleave.h): the bytes sit where the header
// says, rows come back unchanged, MatMul on an interleaved copy gives the GGUF-layout
// results for every thread count and level, and what cannot be interleaved is refused.
#include "kernels/interleave.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "common/dequantize.h"
#include "common/half.h"
#include "common/quant_blocks.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/matmul/activations.h"
#include "tests/kernels/matmul/matmul_test_util.h"
#include "tests/support/status_matchers.h"

namespace shoal::kernels {
namespace {

using matmul::testing::BaseSeed;
using ::shoal::testing::IsOk;
using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

constexpr GgmlType kBlockTypes[] = {GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ8_0};
constexpr GgmlType kTypes[] = {GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ8_0,
                               GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K};

int64_t ColumnsFor(GgmlType type) { return TraitsOf(type).block_size == 256 ? 768 : 640; }

struct Matrix {
  std::vector<uint8_t> data;
  WeightMatrix view;
};

Matrix RandomMatrix(GgmlType type, int64_t n_rows, int64_t n_cols, uint32_t seed) {
  std::mt19937 rng(seed);
  Matrix m{matmul::testing::RandomWeights(type, n_rows, n_cols, rng), {}};
  m.view = {.type = type, .n_rows = n_rows, .n_cols = n_cols, .data = m.data.data()};
  return m;
}

// The quant of element e of row r's block b as a small unsigned integer (Q4_0 0..15,
// Q5_0 0..31, Q8_0 q + 128), read from the GGUF bytes by the format's definition.
int GgufQuant(const Matrix& m, int64_t r, int64_t b, int e) {
  const int64_t type_size = TraitsOf(m.view.type).type_size;
  const uint8_t* block = m.data.data() + r * m.view.row_bytes() + b * type_size;
  switch (m.view.type) {
    case GgmlType::kQ8_0:
      return static_cast<int8_t>(block[2 + e]) + 128;
    case GgmlType::kQ4_0:
      return e < 16 ? block[2 + e] & 15 : block[2 + e - 16] >> 4;
    default: {
      uint32_t qh;
      std::memcpy(&qh, block + 2, 4);
      const int low = e < 16 ? block[6 + e] & 15 : block[6 + e - 16] >> 4;
      return low | static_cast<int>((qh >> e) & 1) << 4;
    }
  }
}

// The same quant read from the interleaved record, by the header's description.
int RecordQuant(GgmlType type, const uint8_t* record, int i, int e) {
  const uint8_t* vectors = record + 32;
  if (type == GgmlType::kQ8_0) return vectors[64 * (e / 4) + 4 * i + e % 4];
  const int h = e / 16, c = (e % 16) / 4, j = e % 4;
  const uint8_t byte = vectors[64 * c + 4 * i + j];
  int q = h == 0 ? byte & 15 : byte >> 4;
  if (type == GgmlType::kQ5_0) {
    uint64_t mask;
    std::memcpy(&mask, vectors + 4 * 64 + 8 * (2 * c + h), 8);
    q |= static_cast<int>((mask >> (4 * i + j)) & 1) << 4;
  }
  return q;
}

TEST(InterleaveRows, PutsEveryQuantAndScaleWhereTheLayoutSays) {
  for (GgmlType type : kBlockTypes) {
    SCOPED_TRACE(GgmlTypeName(type));
    const Matrix m = RandomMatrix(type, 32, 96, BaseSeed() + static_cast<uint32_t>(type));
    std::vector<uint8_t> out(m.data.size());
    InterleaveRows(m.view, out.data());
    const int64_t n_blocks = 3, record_bytes = 16 * TraitsOf(type).type_size;
    for (int64_t g = 0; g < 2; ++g) {
      for (int64_t b = 0; b < n_blocks; ++b) {
        const uint8_t* record = out.data() + (g * n_blocks + b) * record_bytes;
        for (int i = 0; i < 16; ++i) {
          const int64_t r = 16 * g + i;
          ASSERT_EQ(
              std::memcmp(record + 2 * i,
                          m.data.data() + r * m.view.row_bytes() + b * TraitsOf(type).type_size, 2),
              0);
          for (int e = 0; e < 32; ++e) {
            ASSERT_EQ(RecordQuant(type, record, i, e), GgufQuant(m, r, b, e))
                << "row " << r << " block " << b << " element " << e;
          }
        }
      }
    }
  }
}

TEST(InterleaveRows, PutsQ4KScalesMinsAndQuantsWhereTheLayoutSays) {
  const Matrix m = RandomMatrix(GgmlType::kQ4_K, 32, 512, BaseSeed() + 99);
  std::vector<uint8_t> out(InterleavedBytes(m.view));
  ASSERT_EQ(out.size(), 2u * 2u * 2368u);
  InterleaveRows(m.view, out.data());
  for (int64_t g = 0; g < 2; ++g) {
    for (int64_t sb = 0; sb < 2; ++sb) {
      const uint8_t* record = out.data() + (g * 2 + sb) * 2368;
      for (int i = 0; i < 16; ++i) {
        const uint8_t* block = m.data.data() + (16 * g + i) * m.view.row_bytes() + sb * 144;
        ASSERT_EQ(std::memcmp(record + 2 * i, block, 2), 0);           // d
        ASSERT_EQ(std::memcmp(record + 32 + 2 * i, block + 2, 2), 0);  // dmin
        for (int j = 0; j < 8; ++j) {
          uint8_t scale, min;  // ggml's get_scale_min_k4
          UnpackKScaleMin(j, block + 4, scale, min);
          ASSERT_EQ(record[64 + 16 * j + i], scale) << "row " << i << " sub-block " << j;
          ASSERT_EQ(record[192 + 16 * j + i], min) << "row " << i << " sub-block " << j;
          for (int e = 0; e < 32; ++e) {
            // GGUF: qs[32n + l] holds element l of sub-block 2n (low), 2n+1 (high).
            const uint8_t q = block[16 + 32 * (j / 2) + e];
            const int expected = j % 2 == 0 ? q & 15 : q >> 4;
            const uint8_t byte = record[320 + (4 * j + (e % 16) / 4) * 64 + 4 * i + e % 4];
            ASSERT_EQ(e < 16 ? byte & 15 : byte >> 4, expected)
                << "row " << i << " sub-block " << j << " element " << e;
          }
        }
      }
    }
  }
}

// Q6_K: element e's six bits by ggml's dequantize_row_q6_K (plus 32), and where the
// header puts them: chunk m = e/32, kernel vector v = 2c+h for e%32 = 16h+4c+k.
int Q6KValue(const uint8_t* block, int e) {
  const int n = e / 128, l = e % 32, quarter = e % 128 / 32;
  const uint8_t ql = block[64 * n + l + (quarter % 2 == 1 ? 32 : 0)];
  const int low = quarter < 2 ? ql & 15 : ql >> 4;
  return low | ((block[128 + 32 * n + l] >> (2 * quarter)) & 3) << 4;
}

TEST(InterleaveRows, PutsQ6KScalesAndSixBitValuesWhereTheLayoutSays) {
  const Matrix m = RandomMatrix(GgmlType::kQ6_K, 16, 512, BaseSeed() + 7);
  std::vector<uint8_t> out(InterleavedBytes(m.view));
  ASSERT_EQ(out.size(), m.data.size());  // the GGUF size
  InterleaveRows(m.view, out.data());
  for (int64_t sb = 0; sb < 2; ++sb) {
    const uint8_t* record = out.data() + sb * 3360;
    for (int i = 0; i < 16; ++i) {
      const uint8_t* block = m.data.data() + i * m.view.row_bytes() + sb * 210;
      ASSERT_EQ(std::memcmp(record + 2 * i, block + 208, 2), 0);  // d
      for (int s = 0; s < 16; ++s) ASSERT_EQ(record[32 + 16 * s + i], block[192 + s]);
      for (int e = 0; e < 256; ++e) {
        const int chunk = e / 32, h = e % 32 / 16, c = e % 16 / 4, k = e % 4, v = 2 * c + h;
        const uint8_t low = record[288 + (4 * chunk + c) * 64 + 4 * i + k];
        const uint8_t high = record[288 + 2048 + (2 * chunk + v / 4) * 64 + 4 * i + k];
        const int value = (h == 0 ? low & 15 : low >> 4) | ((high >> (2 * (v % 4))) & 3) << 4;
        ASSERT_EQ(value, Q6KValue(block, e)) << "row " << i << " element " << e;
      }
    }
  }
}

// Q5_K: the fifth bit of element e of sub-block j is bit j of qh[e] (ggml's
// dequantize_row_q5_K); the record keeps it in mask (j, v = 2c+h) at bit 4i+k.
TEST(InterleaveRows, PutsQ5KFifthBitsWhereTheLayoutSays) {
  const Matrix m = RandomMatrix(GgmlType::kQ5_K, 16, 256, BaseSeed() + 11);
  std::vector<uint8_t> out(InterleavedBytes(m.view));
  ASSERT_EQ(out.size(), 2880u);
  InterleaveRows(m.view, out.data());
  for (int i = 0; i < 16; ++i) {
    const uint8_t* block = m.data.data() + i * m.view.row_bytes();
    for (int j = 0; j < 8; ++j) {
      for (int e = 0; e < 32; ++e) {
        const int h = e / 16, c = e % 16 / 4, k = e % 4, v = 2 * c + h;
        uint64_t mask;
        std::memcpy(&mask, out.data() + 2368 + 64 * j + 8 * v, 8);
        const int fifth = static_cast<int>((mask >> (4 * i + k)) & 1);
        ASSERT_EQ(fifth, (block[16 + e] >> j) & 1) << "row " << i << " sub-block " << j << " element " << e;
        const uint8_t q = block[48 + 32 * (j / 2) + e];  // the low four bits, as Q4_K's
        const uint8_t byte = out[320 + (4 * j + c) * 64 + 4 * i + k];
        ASSERT_EQ(h == 0 ? byte & 15 : byte >> 4, j % 2 == 0 ? q & 15 : q >> 4);
      }
    }
  }
}

TEST(InterleaveRows, RowsComeBackUnchangedAndDequantizeTheSame) {
  for (GgmlType type : kTypes) {
    SCOPED_TRACE(GgmlTypeName(type));
    const int64_t n_cols = ColumnsFor(type);
    const Matrix m = RandomMatrix(type, 48, n_cols, BaseSeed() + 17 * static_cast<uint32_t>(type));
    ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(2));
    auto copy = InterleavedCopy::Create(m.view, pool.get());
    ASSERT_THAT(copy.status(), IsOk());
    const WeightMatrix& w = copy->matrix();
    EXPECT_EQ(w.layout, WeightLayout::kInterleaved16);
    const int64_t row_bytes = m.view.row_bytes();
    std::vector<uint8_t> row(row_bytes);
    std::vector<float> expected(n_cols), actual(n_cols);
    for (int64_t r = 0; r < 48; ++r) {
      DeinterleaveRow(w, r, row.data());
      ASSERT_EQ(std::memcmp(row.data(), m.data.data() + r * row_bytes, row_bytes), 0) << r;
      ASSERT_THAT(DequantizeMatrixRow(m.view, r, expected), IsOk());
      ASSERT_THAT(DequantizeMatrixRow(w, r, actual), IsOk());
      ASSERT_EQ(actual, expected) << r;
    }
    EXPECT_THAT(DequantizeMatrixRow(w, 48, actual),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("row 48")));
  }
}

TEST(InterleaveRows, RefusesWhatItCannotInterleave) {
  const Matrix q8 = RandomMatrix(GgmlType::kQ8_0, 24, 64, BaseSeed());
  EXPECT_FALSE(CanInterleave(q8.view));  // 24 rows: not whole groups
  const Matrix q41 = RandomMatrix(GgmlType::kQ4_1, 16, 256, BaseSeed());
  EXPECT_FALSE(CanInterleave(q41.view));
  EXPECT_THAT(InterleavedCopy::Create(q41.view, nullptr).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot be interleaved")));
  const Matrix ok = RandomMatrix(GgmlType::kQ8_0, 32, 64, BaseSeed());
  EXPECT_TRUE(CanInterleave(ok.view));
  auto copy = InterleavedCopy::Create(ok.view, nullptr);
  ASSERT_THAT(copy.status(), IsOk());
  EXPECT_FALSE(CanInterleave(copy->matrix()));  // already interleaved
}

// Twice kernels_test.cc's rounding bound per output: each side is within it of the exact
// sum of the dequantized weights times the quantized activations.
std::vector<double> TwoSidedBound(const Matrix& m, const std::vector<float>& x, int64_t n_tokens) {
  const WeightMatrix& w = m.view;
  const std::vector<float> values =
      matmul::testing::DequantizeWeights(w.type, m.data, w.n_rows, w.n_cols);
  const std::vector<double> mag =
      matmul::testing::WeightMagnitudes(w.type, m.data, values, w.n_rows, w.n_cols);
  const matmul::ActivationLayout layout =
      matmul::MakeActivationLayout(matmul::ActivationKindFor(w.type), w.n_cols);
  const std::vector<uint8_t> quantized = matmul::testing::QuantizeRows(layout, x, n_tokens);
  std::vector<double> bound;
  for (int64_t t = 0; t < n_tokens; ++t) {
    const std::vector<double> a =
        matmul::testing::DequantizeActivationRow(layout, quantized.data() + t * layout.row_bytes);
    for (int64_t r = 0; r < w.n_rows; ++r) {
      double sum = 0.0;
      for (int64_t k = 0; k < w.n_cols; ++k) sum += mag[r * w.n_cols + k] * std::fabs(a[k]);
      bound.push_back(2 * (w.n_cols / 8 + 16) * 0x1p-23 * sum + 1e-30);
    }
  }
  return bound;
}

// MatMul picks the interleaved kernels from the layout; threads split the rows on group
// boundaries, and every level gives what it gives on the GGUF layout (to the rounding
// of the float scaling, which the fast kernels order differently).
TEST(InterleavedMatMul, MatchesTheRowLayoutAtEveryLevelAndThreadCount) {
  for (GgmlType type : kTypes) {
    for (int64_t n_tokens : {1, 7, 16, 40}) {
      SCOPED_TRACE(fmt::format("{} tokens {}", GgmlTypeName(type), n_tokens));
      const int64_t n_cols = ColumnsFor(type);
      const Matrix m = RandomMatrix(type, 80, n_cols, BaseSeed() + static_cast<uint32_t>(n_tokens));
      auto copy = InterleavedCopy::Create(m.view, nullptr);
      ASSERT_THAT(copy.status(), IsOk());
      std::mt19937 rng(BaseSeed() + 5);
      const std::vector<float> x = matmul::testing::RandomActivations(n_tokens, n_cols, rng);
      const std::vector<double> bound = TwoSidedBound(m, x, n_tokens);
      for (CpuLevel level : SupportedCpuLevels()) {
        for (int threads : {1, 2, 3}) {
          SCOPED_TRACE(fmt::format("{} threads {}", CpuLevelName(level), threads));
          ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(threads));
          MatMulScratch scratch;
          std::vector<float> expected(n_tokens * 80), actual(n_tokens * 80);
          ASSERT_THAT(MatMul({.weights = &m.view,
                              .x = x.data(),
                              .n_tokens = n_tokens,
                              .y = expected.data(),
                              .y_stride = 80},
                             scratch, *pool, level),
                      IsOk());
          ASSERT_THAT(MatMul({.weights = &copy->matrix(),
                              .x = x.data(),
                              .n_tokens = n_tokens,
                              .y = actual.data(),
                              .y_stride = 80},
                             scratch, *pool, level),
                      IsOk());
          for (size_t i = 0; i < actual.size(); ++i) {
            ASSERT_NEAR(actual[i], expected[i], bound[i]) << i;
          }
        }
      }
    }
  }
}

TEST(InterleavedMatMul, RejectsAMatrixThatCannotBeInterleaved) {
  const Matrix m = RandomMatrix(GgmlType::kQ8_0, 24, 64, BaseSeed());
  WeightMatrix w = m.view;
  w.layout = WeightLayout::kInterleaved16;
  std::vector<float> x(64, 1.0f), y(24);
  MatMulScratch scratch;
  ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(1));
  EXPECT_THAT(
      MatMul({.weights = &w, .x = x.data(), .n_tokens = 1, .y = y.data(), .y_stride = 24}, scratch,
             *pool),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot be in the interleaved")));
}

}  // namespace
}  // namespace shoal::kernels
