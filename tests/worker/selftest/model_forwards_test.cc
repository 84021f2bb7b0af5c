// The whole-model half of the self-test, checked on the CPU: two engines computing the
// same thing agree within the bounds, engines that compute something else (other
// weights, perturbed logits, a broken cache) do not, and the bounds widen only by the
// CPU's own spread on models that amplify rounding.
#include "worker/selftest/model_forwards.h"

#include <cmath>

#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"

namespace shoal::worker {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

std::unique_ptr<ForwardEngine> Engine(const model::ModelFile& model, bool interleave = true,
                                      int64_t blocks = 16) {
  auto engine = CreateForwardEngine(
      model, {.threads = 2, .interleave_weights = interleave, .kv = {.exact_blocks = blocks}});
  EXPECT_OK(engine.status());
  return engine.ok() ? std::move(*engine) : nullptr;
}

std::unique_ptr<model::ModelFile> Open(const std::string& path) {
  auto model = model::ModelFile::Open(path);
  EXPECT_OK(model.status());
  return model.ok() ? std::move(*model) : nullptr;
}

// Wraps an engine and changes what it returns or computes.
class AlteredEngine : public ForwardEngine {
 public:
  enum class Change { kScaleLogits, kNaN, kMixUpFirstBlocks };
  AlteredEngine(std::unique_ptr<ForwardEngine> inner, Change change)
      : inner_(std::move(inner)), change_(change) {}

  absl::Status Forward(const ForwardBatch& batch, std::span<float> logits) override {
    ForwardBatch altered = batch;
    std::vector<std::vector<int32_t>> tables;
    tables.reserve(altered.sequences.size());  // the spans below point into them
    if (change_ == Change::kMixUpFirstBlocks) {
      // Each chunk's first block becomes a spare block chosen by the chunk's place in the
      // batch, so a sequence whose place changes reads another's KV: a block table bug
      // that the prefill alone does not show.
      for (SequenceChunk& s : altered.sequences) {
        tables.emplace_back(s.block_table.begin(), s.block_table.end());
        tables.back()[0] = static_cast<int32_t>(num_kv_blocks() - 1 - tables.size());
        s.block_table = tables.back();
      }
    }
    SHOAL_RETURN_IF_ERROR(inner_->Forward(altered, logits));
    if (change_ == Change::kScaleLogits) {
      for (float& x : logits) x *= 1.1f;
    } else if (change_ == Change::kNaN) {
      logits[logits.size() / 2] = std::nanf("");
    }
    return absl::OkStatus();
  }
  const model::ModelConfig& config() const override { return inner_->config(); }
  int64_t num_kv_blocks() const override { return inner_->num_kv_blocks(); }
  int64_t kv_block_size() const override { return inner_->kv_block_size(); }
  std::span<const int64_t> expert_token_counts() const override {
    return inner_->expert_token_counts();
  }
  std::string description() const override { return "altered"; }
  int64_t kv_cache_bytes() const override { return inner_->kv_cache_bytes(); }
  int64_t weight_bytes() const override { return inner_->weight_bytes(); }

 private:
  std::unique_ptr<ForwardEngine> inner_;
  Change change_;
};

TEST(ModelForwards, TheSameEngineTwiceAgreesExactly) {
  for (const std::string arch : {"llama", "qwen3moe", "gemma3"}) {
    SCOPED_TRACE(arch);
    auto model = Open(::shoal::testing::TestModelPath(arch, "q4_k_m"));
    ASSERT_NE(model, nullptr);
    auto a = Engine(*model), b = Engine(*model);
    ASSERT_OK_AND_ASSIGN(ModelForwardComparison c, CompareModelForwards(*a, *b));
    // A's two prefill chunks give a row per token (40), then one row per sequence for
    // the step B joins and each of the 6 decode steps.
    EXPECT_EQ(c.rows, 40 + 2 + 2 * 6);
    EXPECT_EQ(c.max_nrmse, 0.0);
    EXPECT_EQ(c.top1_agreement, 1.0);
  }
}

TEST(ModelForwards, TheCpusTwoKernelSetsAgreeWithinTheBaseBoundsOnRandomModels) {
  for (const std::string arch : {"llama", "qwen3moe", "gemma3"}) {
    for (const std::string format : {"q8_0", "q4_k_m"}) {
      SCOPED_TRACE(arch + "-" + format);
      auto model = Open(::shoal::testing::TestModelPath(arch, format));
      ASSERT_NE(model, nullptr);
      auto plain = Engine(*model, /*interleave=*/false), packed = Engine(*model);
      ASSERT_OK_AND_ASSIGN(ModelForwardComparison c, CompareModelForwards(*plain, *packed));
      const ModelForwardBounds bounds = ModelForwardBoundsFor(*model, nullptr);
      EXPECT_EQ(bounds.max_nrmse, 0.25);
      EXPECT_EQ(bounds.median_nrmse, 5e-2);
      EXPECT_TRUE(bounds.Admits(c)) << c.max_nrmse << " " << c.median_nrmse;
      // Tighter than the bounds: what rounding alone does on these models.
      EXPECT_LT(c.max_nrmse, 5e-2);
      EXPECT_GE(c.top1_agreement, 0.9);
    }
  }
}

TEST(ModelForwards, OtherWeightsAreFarOutsideTheFloat32Bounds) {
  auto f32 = Open(::shoal::testing::TestModelPath("llama", "f32"));
  auto q4 = Open(::shoal::testing::TestModelPath("llama", "q4_k_m"));
  ASSERT_NE(f32, nullptr);
  ASSERT_NE(q4, nullptr);
  const ModelForwardBounds bounds = ModelForwardBoundsFor(*f32, nullptr);
  EXPECT_EQ(bounds.max_nrmse, 1e-3);
  EXPECT_EQ(bounds.ToString(), "nrmse 0.001");
  // bf16 weights round even a float32 model's weights: the quantized bounds.
  const ModelForwardBounds bf16 = ModelForwardBoundsFor(*f32, nullptr, /*bf16_weights=*/true);
  EXPECT_EQ(bf16.max_nrmse, 0.25);
  EXPECT_EQ(bf16.ToString(), "nrmse max 0.25, median 0.05");
  auto exact = Engine(*f32), quantized = Engine(*q4);
  ASSERT_OK_AND_ASSIGN(ModelForwardComparison c, CompareModelForwards(*quantized, *exact));
  EXPECT_FALSE(bounds.Admits(c)) << c.max_nrmse;
  EXPECT_GT(c.median_nrmse, 1e-3);
}

TEST(ModelForwards, PerturbedOrBrokenEnginesFail) {
  auto model = Open(::shoal::testing::TestModelPath("qwen3moe", "q8_0"));
  ASSERT_NE(model, nullptr);
  const ModelForwardBounds bounds = ModelForwardBoundsFor(*model, nullptr);
  for (auto change : {AlteredEngine::Change::kScaleLogits, AlteredEngine::Change::kNaN,
                      AlteredEngine::Change::kMixUpFirstBlocks}) {
    SCOPED_TRACE(static_cast<int>(change));
    // Room for the remapped blocks beyond the 16 the batches use.
    AlteredEngine altered(Engine(*model, true, 20), change);
    auto reference = Engine(*model);
    ASSERT_OK_AND_ASSIGN(ModelForwardComparison c, CompareModelForwards(altered, *reference));
    EXPECT_FALSE(bounds.Admits(c)) << c.max_nrmse << " " << c.median_nrmse;
    if (change == AlteredEngine::Change::kNaN) {
      EXPECT_TRUE(std::isnan(c.max_nrmse));
    }
  }
}

// Gemma 3 270M amplifies one tipped 8-bit rounding through its 18 layers: the CPU's own
// kernel sets are further apart than the base bounds, and the bounds grow to three
// times that spread, which still rejects a wrong result.
TEST(ModelForwards, BoundsWidenByTheCpuSpreadOnATrainedModel) {
  auto model = Open(::shoal::testing::Gemma3Path());
  ASSERT_NE(model, nullptr);
  auto plain = Engine(*model, /*interleave=*/false), packed = Engine(*model);
  ASSERT_OK_AND_ASSIGN(ModelForwardComparison spread, CompareModelForwards(*plain, *packed));
  const ModelForwardBounds base = ModelForwardBoundsFor(*model, nullptr);
  const ModelForwardBounds widened = ModelForwardBoundsFor(*model, &spread);
  EXPECT_GE(widened.max_nrmse, base.max_nrmse);
  EXPECT_DOUBLE_EQ(widened.max_nrmse, std::max(0.25, 3 * spread.max_nrmse));
  EXPECT_DOUBLE_EQ(widened.median_nrmse, std::max(5e-2, 3 * spread.median_nrmse));
  EXPECT_TRUE(widened.Admits(spread));
  EXPECT_LT(widened.max_nrmse, 1.0) << "a wrong kernel's logits are ~100% off";
  AlteredEngine mixed_up(Engine(*model, true, 20), AlteredEngine::Change::kMixUpFirstBlocks);
  ASSERT_OK_AND_ASSIGN(ModelForwardComparison broken, CompareModelForwards(mixed_up, *packed));
  EXPECT_FALSE(widened.Admits(broken)) << broken.max_nrmse << " " << broken.median_nrmse;
}

TEST(ModelForwards, EnginesNeedSixteenBlocksOfSixteen) {
  auto model = Open(::shoal::testing::TestModelPath("llama", "q8_0"));
  ASSERT_NE(model, nullptr);
  auto small = Engine(*model, true, 8), enough = Engine(*model);
  EXPECT_THAT(CompareModelForwards(*small, *enough),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("16-token KV blocks")));
}

}  // namespace
}  // namespace shoal::worker
