// PagedAttention (kernels/attention/paged_attention.h) at every CPU level and thread
// count against a float64 reference over the same cache contents, on awkward shapes
// (head dims that are not a multiple of the vector width, GQA groups of 7, a value dim
// that differs from the key dim, cache blocks of 7), mixed batches (prefill chunks that
// start mid-sequence, decodes), sliding windows, and long decodes whose keys are split
// across threads. Also: the plain reference AttendOneHead agrees with float64, and bad
// arguments are errors.
#include "kernels/attention/paged_attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "common/half.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/cpu_level.h"
#include "tests/support/status_matchers.h"

namespace shoal::kernels {
namespace {

using ::shoal::testing::IsOk;
using ::shoal::testing::StatusIs;

struct Shape {
  int64_t n_heads, n_kv_heads, head_dim, value_dim, sliding_window;
};

// A KV layer in host vectors, filled with random values at every slot.
class TestCache {
 public:
  TestCache(const Shape& shape, KvType type, int64_t block_size, int64_t num_blocks,
            std::mt19937& rng) {
    const int64_t elem = type == KvType::kF32 ? 4 : 2;
    const int64_t slots = num_blocks * block_size;
    k_.resize(slots * shape.n_kv_heads * shape.head_dim * elem);
    v_.resize(slots * shape.n_kv_heads * shape.value_dim * elem);
    layer_ = {.type = type, .k = k_.data(), .v = v_.data(), .num_blocks = num_blocks,
              .block_size = block_size, .n_kv_heads = shape.n_kv_heads,
              .head_dim = shape.head_dim, .value_dim = shape.value_dim};
    std::normal_distribution<float> normal;
    std::vector<float> k(shape.n_kv_heads * shape.head_dim), v(shape.n_kv_heads * shape.value_dim);
    for (int64_t slot = 0; slot < slots; ++slot) {
      for (float& x : k) x = normal(rng);
      for (float& x : v) x = normal(rng);
      WriteKv(layer_, slot, k.data(), v.data());
    }
  }
  const KvLayer& layer() const { return layer_; }

  // Element i of the row (slot, head) of K or V, as the kernels read it.
  double At(bool key, int64_t slot, int64_t head, int64_t i) const {
    const int64_t dim = key ? layer_.head_dim : layer_.value_dim;
    const int64_t index = (slot * layer_.n_kv_heads + head) * dim + i;
    const void* base = key ? layer_.k : layer_.v;
    if (layer_.type == KvType::kF32) return static_cast<const float*>(base)[index];
    return Fp16ToFloat(static_cast<const uint16_t*>(base)[index]);
  }

 private:
  std::vector<uint8_t> k_, v_;
  KvLayer layer_;
};

struct Batch {
  std::vector<std::vector<int32_t>> tables;
  std::vector<AttentionSequence> sequences;
  std::vector<float> q;
  int64_t n_tokens = 0;
};

// Sequences given as (start position, n tokens), each with its own shuffled blocks.
Batch MakeBatch(const Shape& shape, const TestCache& cache,
                const std::vector<std::pair<int64_t, int64_t>>& chunks, std::mt19937& rng) {
  Batch b;
  std::vector<int32_t> free(cache.layer().num_blocks);
  std::iota(free.begin(), free.end(), 0);
  std::shuffle(free.begin(), free.end(), rng);
  size_t next_block = 0;
  for (const auto& [start, n] : chunks) {
    const int64_t blocks = (start + n + cache.layer().block_size - 1) / cache.layer().block_size;
    b.tables.emplace_back(free.begin() + next_block, free.begin() + next_block + blocks);
    next_block += blocks;
    b.n_tokens += n;
  }
  int64_t first = 0;
  for (size_t s = 0; s < chunks.size(); ++s) {
    b.sequences.push_back({.block_table = b.tables[s], .first_token = first,
                           .n_tokens = chunks[s].second, .start_position = chunks[s].first});
    first += chunks[s].second;
  }
  std::normal_distribution<float> normal;
  b.q.resize(b.n_tokens * shape.n_heads * shape.head_dim);
  for (float& x : b.q) x = normal(rng);
  return b;
}

AttentionShape ToAttentionShape(const Shape& s) {
  return {.n_heads = s.n_heads, .n_kv_heads = s.n_kv_heads, .head_dim = s.head_dim,
          .value_dim = s.value_dim, .scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim)),
          .sliding_window = s.sliding_window};
}

// Attention in float64 over the cache's values.
std::vector<double> Reference(const Shape& shape, const TestCache& cache, const Batch& b) {
  const AttentionShape as = ToAttentionShape(shape);
  const int64_t bs = cache.layer().block_size;
  std::vector<double> out(b.n_tokens * shape.n_heads * shape.value_dim);
  for (const AttentionSequence& seq : b.sequences) {
    for (int64_t t = 0; t < seq.n_tokens; ++t) {
      const int64_t pos = seq.start_position + t;
      const int64_t row = seq.first_token + t;
      for (int64_t h = 0; h < shape.n_heads; ++h) {
        const int64_t kvh = h / (shape.n_heads / shape.n_kv_heads);
        const float* q = b.q.data() + (row * shape.n_heads + h) * shape.head_dim;
        std::vector<double> scores;
        const int64_t first = FirstVisiblePosition(as, pos);
        for (int64_t p = first; p <= pos; ++p) {
          const int64_t slot = int64_t{seq.block_table[p / bs]} * bs + p % bs;
          double s = 0;
          for (int64_t i = 0; i < shape.head_dim; ++i) s += q[i] * cache.At(true, slot, kvh, i);
          scores.push_back(s * as.scale);
        }
        const double max = *std::max_element(scores.begin(), scores.end());
        double sum = 0;
        for (double& s : scores) sum += (s = std::exp(s - max));
        double* o = out.data() + (row * shape.n_heads + h) * shape.value_dim;
        for (int64_t p = first; p <= pos; ++p) {
          const int64_t slot = int64_t{seq.block_table[p / bs]} * bs + p % bs;
          for (int64_t i = 0; i < shape.value_dim; ++i) {
            o[i] += scores[p - first] / sum * cache.At(false, slot, kvh, i);
          }
        }
      }
    }
  }
  return out;
}

// max |a - b| relative to max |b|: outputs are convex combinations of V rows (|v| ~ 1).
double NormalizedError(const std::vector<float>& a, const std::vector<double>& b) {
  double err = 0, scale = 1e-30;
  for (size_t i = 0; i < b.size(); ++i) {
    err = std::max(err, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return err / scale;
}

struct Case {
  std::string name;
  Shape shape;
  KvType type;
  int64_t block_size;
  std::vector<std::pair<int64_t, int64_t>> chunks;  // (start position, tokens)
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> Cases() {
  const std::vector<std::pair<int64_t, int64_t>> mixed = {{0, 37}, {20, 9}, {600, 1}, {5, 1}};
  return {
      {"gemma3_mqa_256", {4, 1, 256, 256, 0}, KvType::kF16, 16, mixed},
      {"gemma3_sliding", {4, 1, 256, 256, 5}, KvType::kF16, 16, mixed},
      {"llama_gqa4", {8, 2, 64, 64, 0}, KvType::kF32, 16, mixed},
      {"qwen_gqa7", {14, 2, 64, 64, 0}, KvType::kF16, 16, mixed},
      {"mha_dim80", {6, 6, 80, 80, 0}, KvType::kF16, 7, mixed},
      {"odd_dims", {3, 1, 17, 33, 3}, KvType::kF32, 7, mixed},
      {"odd_dims_f16", {3, 1, 17, 33, 3}, KvType::kF16, 7, mixed},
      {"wide_group", {40, 2, 32, 32, 0}, KvType::kF16, 16, mixed},
      {"long_decode_split", {8, 2, 128, 128, 0}, KvType::kF16, 16, {{1500, 1}}},
      {"long_decode_window", {4, 1, 64, 64, 700}, KvType::kF32, 16, {{2000, 1}, {1200, 1}}},
  };
}

class PagedAttentionTest
    : public ::testing::TestWithParam<std::tuple<Case, CpuLevel, int>> {};

TEST_P(PagedAttentionTest, MatchesFloat64Reference) {
  const auto& [c, level, threads] = GetParam();
  SHOAL_SKIP_UNLESS_CPU_HAS(level);
  std::mt19937 rng(1234);
  int64_t positions = 0;
  for (const auto& [start, n] : c.chunks) positions += start + n + c.block_size;
  const TestCache cache(c.shape, c.type, c.block_size, positions / c.block_size + 1, rng);
  const Batch batch = MakeBatch(c.shape, cache, c.chunks, rng);
  const std::vector<double> expected = Reference(c.shape, cache, batch);
  ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(threads));
  AttentionScratch scratch;
  std::vector<float> out(expected.size(), std::nanf(""));
  const AttentionArgs args{.shape = ToAttentionShape(c.shape), .layer = &cache.layer(),
                           .sequences = batch.sequences, .q = batch.q.data(),
                           .out = out.data()};
  ASSERT_THAT(PagedAttention(args, scratch, *pool, level), IsOk());
  // float32 sums over a few thousand terms: ~1e-6 relative; 1e-5 leaves headroom and is
  // still far below any real error (a wrong key or weight moves outputs by ~1e-1).
  EXPECT_LT(NormalizedError(out, expected), 1e-5);
  // Scratch reuse: a second call gives the same bits.
  std::vector<float> again(expected.size(), std::nanf(""));
  AttentionArgs args2 = args;
  args2.out = again.data();
  ASSERT_THAT(PagedAttention(args2, scratch, *pool, level), IsOk());
  EXPECT_EQ(0, std::memcmp(out.data(), again.data(), out.size() * sizeof(float)));
}

std::string CaseName(const ::testing::TestParamInfo<PagedAttentionTest::ParamType>& info) {
  const auto& [c, level, threads] = info.param;
  std::string level_name(CpuLevelName(level));
  std::replace(level_name.begin(), level_name.end(), '-', '_');
  return fmt::format("{}_{}_{}t", c.name, level_name, threads);
}

INSTANTIATE_TEST_SUITE_P(Shapes, PagedAttentionTest,
                         ::testing::Combine(::testing::ValuesIn(Cases()),
                                            ::testing::ValuesIn(AllCpuLevels()),
                                            ::testing::Values(1, 3)),
                         CaseName);

TEST(AttendOneHeadTest, MatchesFloat64Reference) {
  const Shape shape{4, 2, 48, 40, 0};
  std::mt19937 rng(7);
  const TestCache cache(shape, KvType::kF16, 16, 8, rng);
  const Batch batch = MakeBatch(shape, cache, {{0, 19}, {50, 3}}, rng);
  const std::vector<double> expected = Reference(shape, cache, batch);
  std::vector<float> out(expected.size());
  std::vector<float> scores(128);
  for (const AttentionSequence& seq : batch.sequences) {
    for (int64_t t = 0; t < seq.n_tokens; ++t) {
      const int64_t row = seq.first_token + t;
      for (int64_t h = 0; h < shape.n_heads; ++h) {
        AttendOneHead(ToAttentionShape(shape), cache.layer(), seq.block_table,
                      seq.start_position + t, h,
                      batch.q.data() + (row * shape.n_heads + h) * shape.head_dim, scores.data(),
                      out.data() + (row * shape.n_heads + h) * shape.value_dim);
      }
    }
  }
  EXPECT_LT(NormalizedError(out, expected), 1e-5);
}

TEST(PagedAttentionArgsTest, RejectsInconsistentArguments) {
  const Shape shape{4, 2, 32, 32, 0};
  std::mt19937 rng(3);
  const TestCache cache(shape, KvType::kF32, 16, 4, rng);
  const Batch batch = MakeBatch(shape, cache, {{0, 5}}, rng);
  std::vector<float> out(5 * 4 * 32);
  ASSERT_OK_AND_ASSIGN(auto pool, ThreadPool::Create(1));
  AttentionScratch scratch;
  AttentionArgs args{.shape = ToAttentionShape(shape), .layer = &cache.layer(),
                     .sequences = batch.sequences, .q = batch.q.data(), .out = out.data()};
  ASSERT_THAT(PagedAttention(args, scratch, *pool), IsOk());

  AttentionArgs bad = args;
  bad.shape.n_heads = 3;  // not a multiple of the KV heads
  EXPECT_THAT(PagedAttention(bad, scratch, *pool),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("shape")));
  bad = args;
  bad.shape.head_dim = 64;  // not the cache's
  EXPECT_THAT(PagedAttention(bad, scratch, *pool),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("KV layer")));
  bad = args;
  bad.layer = nullptr;
  EXPECT_THAT(PagedAttention(bad, scratch, *pool),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("null")));
  std::vector<AttentionSequence> too_long = batch.sequences;
  too_long[0].start_position = 60;  // 65 positions in one 16-slot block
  bad = args;
  bad.sequences = too_long;
  EXPECT_THAT(PagedAttention(bad, scratch, *pool),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("block table")));
}

}  // namespace
}  // namespace shoal::kernels
