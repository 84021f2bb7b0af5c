// Weights repacked at load (WeightOptions::interleave): exactly the matrices that can be
// interleaved are, the embedding rows read back from the copy equal the file's, and the
// forward pass gives the logits of the file's layout to float rounding.
#include <cmath>

#include "common/dequantize.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/interleave.h"
#include "model/model_file.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"
#include "tests/worker/forward/forward_runner.h"
#include "worker/model/model_weights.h"

namespace shoal::worker {
namespace {

using ::shoal::testing::ArgMax;
using ::shoal::testing::ForwardRunner;

std::vector<const kernels::WeightMatrix*> Matrices(const ModelWeights& w) {
  std::vector<const kernels::WeightMatrix*> out = {&w.output};
  for (const LayerWeights& l : w.layers) {
    for (const kernels::WeightMatrix* m :
         {&l.attn_q, &l.attn_k, &l.attn_v, &l.attn_output, &l.ffn_gate, &l.ffn_up, &l.ffn_down,
          &l.ffn_gate_exps.first, &l.ffn_up_exps.first, &l.ffn_down_exps.first}) {
      if (m->data != nullptr) out.push_back(m);
    }
  }
  return out;
}

TEST(InterleavedWeights, ExactlyTheInterleavableMatricesAreRepacked) {
  if (!kernels::HasInterleavedKernel(GgmlType::kQ8_0)) GTEST_SKIP() << "no VNNI on this CPU";
  for (const std::string arch : {"llama", "gemma3", "qwen3moe"}) {
    for (const std::string format : {"q8_0", "q4_k_m"}) {
      SCOPED_TRACE(arch + "-" + format);
      ASSERT_OK_AND_ASSIGN(auto model,
                           model::ModelFile::Open(::shoal::testing::TestModelPath(arch, format)));
      ASSERT_OK_AND_ASSIGN(ModelWeights file, ModelWeights::Create(*model, {.interleave = false}));
      ASSERT_OK_AND_ASSIGN(ModelWeights packed, ModelWeights::Create(*model));
      const auto before = Matrices(file), after = Matrices(packed);
      ASSERT_EQ(before.size(), after.size());
      int repacked = 0;
      for (size_t i = 0; i < before.size(); ++i) {
        const bool expected = kernels::CanInterleave(*before[i]);
        EXPECT_EQ(after[i]->layout == kernels::WeightLayout::kInterleaved16, expected) << i;
        EXPECT_EQ(after[i]->data != before[i]->data, expected) << i;
        repacked += expected;
      }
      EXPECT_GT(repacked, 0);
      // gemma3's 4002-row output is not whole groups of 16: it stays in the file.
      if (format == "q8_0") {
        EXPECT_EQ(packed.output.layout == kernels::WeightLayout::kRows, arch == "gemma3");
      }
    }
  }
}

// Gemma's embedding is tied to the output: after repacking, lookups read the copy.
TEST(InterleavedWeights, TiedEmbeddingRowsReadBackFromTheCopy) {
  if (!kernels::HasInterleavedKernel(GgmlType::kQ8_0)) GTEST_SKIP() << "no VNNI on this CPU";
  ASSERT_OK_AND_ASSIGN(auto model, model::ModelFile::Open(::shoal::testing::Gemma3Path()));
  ASSERT_OK_AND_ASSIGN(ModelWeights w, ModelWeights::Create(*model));
  ASSERT_EQ(w.token_embd.layout, kernels::WeightLayout::kInterleaved16);
  EXPECT_EQ(w.token_embd.data, w.output.data);
  const model::GgufTensorInfo* file = model->gguf().FindTensor("token_embd.weight");
  ASSERT_NE(file, nullptr);
  const int64_t row_bytes = file->row_bytes();
  std::vector<float> expected(w.token_embd.n_cols), actual(w.token_embd.n_cols);
  for (int64_t row : {int64_t{0}, int64_t{2}, int64_t{17}, int64_t{106}, w.token_embd.n_rows - 1}) {
    ASSERT_THAT(Dequantize(file->type, file->data.subspan(row * row_bytes, row_bytes), expected),
                ::shoal::testing::IsOk());
    ASSERT_THAT(kernels::DequantizeMatrixRow(w.token_embd, row, actual), ::shoal::testing::IsOk());
    ASSERT_EQ(actual, expected) << "row " << row;
  }
}

// The repacked kernels compute the same exact integer block sums and scale them in
// another order, so a matmul's outputs move by float rounding only. Through a model that
// rounding occasionally tips an activation to the next Q8 step, and attention carries
// that to every later position: the first positions agree to ~2e-7 relative L2, later
// ones by up to ~1% (measured); a wrong kernel would be off by 100%. The bars are those of
// logits_reference_test.cc for quantized models: top-1 the same wherever the top two are
// more than 1% of the logit range apart, plus relative L2 under 5%, and under 1e-4 at
// the first position, before any tipped value can spread.
TEST(InterleavedWeights, ForwardGivesTheLogitsOfTheFileLayout) {
  for (const std::string arch : {"llama", "gemma3", "qwen3moe"}) {
    for (const std::string format : {"q8_0", "q4_k_m"}) {
      SCOPED_TRACE(arch + "-" + format);
      const std::string path = ::shoal::testing::TestModelPath(arch, format);
      ASSERT_OK_AND_ASSIGN(auto file, ForwardRunner::Create(path, kernels::KvType::kF32, 2, 64,
                                                            /*interleave=*/false));
      ASSERT_OK_AND_ASSIGN(auto packed, ForwardRunner::Create(path, kernels::KvType::kF32, 2, 64));
      std::vector<int32_t> tokens;
      for (int i = 0; i < 40; ++i) tokens.push_back((i * 7919 + 13) % file->n_vocab());
      const std::vector<int32_t> blocks = ForwardRunner::BlockTable(0, 8);
      ASSERT_OK_AND_ASSIGN(auto expected, file->Run(tokens, 0, blocks, LogitsWanted::kAll));
      ASSERT_OK_AND_ASSIGN(auto actual, packed->Run(tokens, 0, blocks, LogitsWanted::kAll));
      ASSERT_EQ(actual.size(), expected.size());
      const int64_t V = file->n_vocab();
      for (size_t p = 0; p < tokens.size(); ++p) {
        const std::span<const float> e(expected.data() + p * V, V), a(actual.data() + p * V, V);
        double diff = 0.0, norm = 0.0;
        for (int64_t v = 0; v < V; ++v) {
          diff += (a[v] - e[v]) * (a[v] - e[v]);
          norm += e[v] * e[v];
        }
        EXPECT_LT(std::sqrt(diff / norm), p == 0 ? 1e-4 : 5e-2) << "position " << p;
        std::vector<float> sorted(e.begin(), e.end());
        std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
        const float range = sorted[0] - *std::min_element(e.begin(), e.end());
        if (sorted[0] - sorted[1] > 1e-2f * range)
          EXPECT_EQ(ArgMax(a), ArgMax(e)) << "position " << p;
      }
    }
  }
}

}  // namespace
}  // namespace shoal::worker
