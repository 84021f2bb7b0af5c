// ModelConfig from GGUF metadata: the generated models of every architecture and the
// real Gemma 3 270M (values from its published config, REFERENCE.md §3.4), and clear
// errors for metadata or tensors a model cannot run with.
#include "model/model_config.h"

#include <cmath>
#include <filesystem>

#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/gguf/gguf_file.h"
#include "model/tensor_layout.h"
#include "tests/support/gguf_builder.h"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::testing::GgufBuilder;
using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<ModelConfig> ConfigOf(const std::string& path) {
  SHOAL_ASSIGN_OR_RETURN(auto file, GgufFile::Open(path));
  SHOAL_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::FromGguf(*file));
  SHOAL_RETURN_IF_ERROR(CheckTensors(config, *file));
  return config;
}

TEST(ModelConfigTest, Gemma3_270mMatchesItsPublishedConfig) {
  ASSERT_OK_AND_ASSIGN(ModelConfig c, ConfigOf(::shoal::testing::Gemma3Path()));
  EXPECT_EQ(c.architecture, Architecture::kGemma3);
  EXPECT_EQ(c.n_layer, 18);
  EXPECT_EQ(c.n_embd, 640);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.n_head_kv, 1);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.n_ff, 2048);
  EXPECT_EQ(c.n_vocab, 262144);
  EXPECT_EQ(c.context_length, 32768);
  EXPECT_EQ(c.sliding_window, 512);
  EXPECT_FLOAT_EQ(c.rope_freq_base, 1e6f);
  EXPECT_FLOAT_EQ(c.rope_freq_base_swa, 1e4f);  // default: the key is absent in this file
  EXPECT_FLOAT_EQ(c.attention_scale, 1.0f / 16);
  EXPECT_FLOAT_EQ(c.embedding_scale, std::sqrt(640.0f));
  EXPECT_EQ(c.final_logit_softcap, 0.0f);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.ffn_activation, FfnActivation::kGeluTanh);
  EXPECT_EQ(c.rope_style, RopeStyle::kNeox);
  // Global attention at layers 5, 11 and 17.
  std::vector<int> global_layers;
  for (int i = 0; i < 18; ++i) {
    if (!c.layer_is_sliding[i]) global_layers.push_back(i);
  }
  EXPECT_THAT(global_layers, ElementsAre(5, 11, 17));
  EXPECT_EQ(c.KvBytesPerToken(2), 18 * 1024);  // 18 KiB per token in f16
}

TEST(ModelConfigTest, GeneratedModelsOfEveryArchitecture) {
  for (const char* format : {"f32", "q8_0", "q4_k_m"}) {
    SCOPED_TRACE(format);
    ASSERT_OK_AND_ASSIGN(ModelConfig llama,
                         ConfigOf(::shoal::testing::TestModelPath("llama", format)));
    EXPECT_EQ(llama.rope_style, RopeStyle::kNorm);
    EXPECT_TRUE(llama.has_rope_freq_factors);
    EXPECT_FALSE(llama.tied_embeddings);
    EXPECT_EQ(llama.n_head_kv, 2);

    ASSERT_OK_AND_ASSIGN(ModelConfig qwen3,
                         ConfigOf(::shoal::testing::TestModelPath("qwen3", format)));
    EXPECT_EQ(qwen3.head_dim, 64);  // set explicitly, unlike n_embd / n_head = 32
    EXPECT_TRUE(qwen3.has_qk_norm);
    EXPECT_TRUE(qwen3.tied_embeddings);

    ASSERT_OK_AND_ASSIGN(ModelConfig moe,
                         ConfigOf(::shoal::testing::TestModelPath("qwen3moe", format)));
    EXPECT_EQ(moe.n_expert, 8);
    EXPECT_EQ(moe.n_expert_used, 2);
    EXPECT_EQ(moe.n_ff_exp, 256);
    EXPECT_TRUE(moe.normalize_expert_weights);

    ASSERT_OK_AND_ASSIGN(ModelConfig gemma,
                         ConfigOf(::shoal::testing::TestModelPath("gemma3", format)));
    EXPECT_EQ(gemma.sliding_window, 8);
    EXPECT_THAT(gemma.layer_is_sliding, ElementsAre(true, true, true, true, true, false));
  }
}

// A minimal llama file: every hyperparameter key plus the tensors that exist, each
// with its declared shape (the data are zeros).
GgufBuilder LlamaFile(const std::string& arch = "llama", uint32_t head_count_kv = 2,
                      const std::string& extra_key = "") {
  GgufBuilder b;
  const int n_kv = 9 + (extra_key.empty() ? 0 : 1);
  b.Header(/*n_tensors=*/1, n_kv)
      .KeyString("general.architecture", arch)
      .KeyU32(arch + ".context_length", 128)
      .KeyU32(arch + ".embedding_length", 64)
      .KeyU32(arch + ".block_count", 1)
      .KeyU32(arch + ".feed_forward_length", 128)
      .KeyU32(arch + ".attention.head_count", 4)
      .KeyU32(arch + ".attention.head_count_kv", head_count_kv)
      .KeyF32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f)
      .KeyF32(arch + ".rope.freq_base", 10000.0f);
  if (!extra_key.empty()) b.KeyString(arch + "." + extra_key, "yarn");
  b.TensorInfo("token_embd.weight", {64, 32}, /*F32=*/0, 0).Align().Zeros(64 * 32 * 4);
  return b;
}

absl::StatusOr<ModelConfig> ParseConfig(const GgufBuilder& builder) {
  SHOAL_ASSIGN_OR_RETURN(auto file, GgufFile::Parse(builder.bytes()));
  return ModelConfig::FromGguf(*file);
}

TEST(ModelConfigTest, ReadsAMinimalFileAndReportsMissingTensors) {
  GgufBuilder builder = LlamaFile();
  ASSERT_OK_AND_ASSIGN(ModelConfig config, ParseConfig(builder));
  EXPECT_EQ(config.head_dim, 16);  // n_embd / n_head when key_length is absent
  EXPECT_EQ(config.n_vocab, 32);
  ASSERT_OK_AND_ASSIGN(auto file, GgufFile::Parse(builder.bytes()));
  EXPECT_THAT(CheckTensors(config, *file),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("missing tensor 'output_norm.weight'")));
}

TEST(ModelConfigTest, RejectsUnsupportedOrInconsistentMetadata) {
  EXPECT_THAT(
      ParseConfig(LlamaFile("mamba")),
      StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("unsupported architecture 'mamba'")));
  EXPECT_THAT(
      ParseConfig(LlamaFile("llama", /*head_count_kv=*/3)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a multiple of head_count_kv 3")));
  EXPECT_THAT(ParseConfig(LlamaFile("llama", /*head_count_kv=*/0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("head_count_kv is 0")));
  EXPECT_THAT(ParseConfig(LlamaFile("llama", 2, "rope.scaling.type")),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("RoPE scaling 'yarn'")));

  GgufBuilder missing;
  missing.Header(0, 1).KeyString("general.architecture", "qwen3");
  EXPECT_THAT(ParseConfig(missing), StatusIs(absl::StatusCode::kNotFound,
                                             HasSubstr("'qwen3.context_length' is missing")));

  GgufBuilder per_layer;
  per_layer.Header(0, 2)
      .KeyString("general.architecture", "llama")
      .KeyU32Array("llama.context_length", {128, 256});
  EXPECT_THAT(ParseConfig(per_layer),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("differs between layers")));
}

TEST(ModelConfigTest, CheckTensorsRejectsWrongShapesAndTypes) {
  ModelConfig config;
  config.architecture = Architecture::kLlama;
  config.n_embd = 64;
  config.n_vocab = 32;
  config.n_layer = 0;  // only the global tensors matter here
  GgufBuilder wrong_shape;
  wrong_shape.Header(2, 0)
      .TensorInfo("token_embd.weight", {64, 33}, 0, 0)
      .TensorInfo("output_norm.weight", {64}, 0, 8448)
      .Align()
      .Zeros(8448 + 256);
  ASSERT_OK_AND_ASSIGN(auto file, GgufFile::Parse(wrong_shape.bytes()));
  config.tied_embeddings = true;
  EXPECT_THAT(CheckTensors(config, *file),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'token_embd.weight' has shape [64, 33], expected [64, 32]")));

  GgufBuilder unsupported_type;
  unsupported_type.Header(2, 0)
      .TensorInfo("token_embd.weight", {256, 32}, /*IQ2_XXS=*/16, 0)
      .TensorInfo("output_norm.weight", {256}, 0, 2112)
      .Align()
      .Zeros(2112 + 1024);
  ASSERT_OK_AND_ASSIGN(auto file2, GgufFile::Parse(unsupported_type.bytes()));
  config.n_embd = 256;
  EXPECT_THAT(CheckTensors(config, *file2),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("type IQ2_XXS, which Shoal does not support")));
}

}  // namespace
}  // namespace shoal::model
