// Whole-model logits against llama.cpp (tests/golden/logits_*.json, made by
// scripts/make_golden_logits.py from the same GGUF files with llama-cpp-python).
//
// Tolerances, and why:
// - f32 random-weight models (llama.cpp run with an F32 KV cache): both sides do plain
//   float32 arithmetic and differ only in summation order, so the relative L2 error of
//   the full logits vector must stay below 1e-3 (it is ~1e-6 in practice), the top-1
//   token must agree at every position, and greedy continuations of 32 tokens must be
//   identical.
// - Quantized random-weight models: activations are quantized exactly as llama.cpp does
//   (Q8_0 / Q8_K), so top-1 still agrees nearly everywhere; a flip is allowed only where
//   llama.cpp's own top two logits are within 1% of the logit range.
// - Gemma 3 270M Q4_K_M (F16 KV cache): with quantized activations this model amplifies
//   the last bit of any float into tenths of a logit (one different ulp of one RoPE
//   cosine moves later logits by 1-4% relative L2). llama.cpp's own settings (F16 KV with
//   and without flash attention, F32 KV) disagree on top-1 at 4-5% of the positions, and
//   their greedy continuations part after 2-16 tokens on four of the six prompts, so no
//   bar that needs bit-identical arithmetic can hold. Between those settings the top-8
//   logits differ by a median 0.38 and a 99th percentile 1.3 logit (measured on these
//   prompts; the golden file keeps the other settings' top-1). The bars:
//   * where llama.cpp's top two logits are kNoiseLogits or more apart, top-1 agrees at
//     >= 98% of the positions, and where they are kNearTieLogits apart, everywhere;
//   * over all positions, top-1 agrees at least as often as llama.cpp's settings agree
//     with each other, less 2 points;
//   * greedy continuations match for 16 tokens, or until a step that is a near tie.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/model_files.h"
#include "tests/support/sha256.h"
#include "tests/support/status_matchers.h"
#include "tests/worker/forward/forward_runner.h"

namespace shoal::worker {
namespace {

using json = nlohmann::json;
using ::shoal::testing::ArgMax;
using ::shoal::testing::ForwardRunner;

json LoadGolden(const std::string& name) {
  std::ifstream in(std::filesystem::path(SHOAL_GOLDEN_DIR) / ("logits_" + name + ".json"));
  return json::parse(in);
}

std::vector<float> DecodeFloats(const std::string& base64) {
  std::string bytes;
  EXPECT_TRUE(absl::Base64Unescape(base64, &bytes));
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

std::string FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ::shoal::testing::Sha256Hex(bytes);
}

double RelativeL2(std::span<const float> actual, std::span<const float> expected) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff += (double{actual[i]} - expected[i]) * (double{actual[i]} - expected[i]);
    norm += double{expected[i]} * expected[i];
  }
  return std::sqrt(diff / norm);
}

// Top-two logit gaps of a quantized real model (see the tolerances above): under
// kNoiseLogits (about the median difference between llama.cpp's own settings) the top-1
// is a coin flip; from kNearTieLogits (under the differences' 99th percentile, above every
// flip seen between llama.cpp's settings, 0.35) it is decided.
constexpr float kNoiseLogits = 0.4f;
constexpr float kNearTieLogits = 1.0f;

struct PromptResult {
  int positions = 0;
  int clear_positions = 0;  // llama.cpp's top two at least kNoiseLogits apart
  int clear_agree = 0;
  int decided_flips = 0;  // disagreements where llama.cpp's top two are not a near tie
  int settings_positions = 0;  // llama.cpp's settings against each other
  int settings_agree = 0;
  int top1_agree = 0;
  int top1_near_tie_flips = 0;
  int greedy_matching_prefix = 0;
  double worst_relative_l2 = 0;
};

// Runs one golden prompt: all positions' logits in one prefill, then the greedy
// continuation one decode step at a time on the KV cache.
PromptResult RunPrompt(ForwardRunner& runner, const json& prompt) {
  PromptResult result;
  const auto tokens = prompt.at("tokens").get<std::vector<int32_t>>();
  const auto continuation = prompt.at("greedy_continuation").get<std::vector<int32_t>>();
  const int64_t V = runner.n_vocab();
  const int64_t capacity = static_cast<int64_t>(tokens.size() + continuation.size());
  const std::vector<int32_t> blocks =
      ForwardRunner::BlockTable(0, static_cast<int32_t>((capacity + 15) / 16));
  absl::StatusOr<std::vector<float>> logits = runner.Run(tokens, 0, blocks, LogitsWanted::kAll);
  EXPECT_OK(logits);
  if (!logits.ok()) return result;
  const auto top_ids = prompt.at("top_ids").get<std::vector<std::vector<int32_t>>>();
  for (size_t p = 0; p < tokens.size(); ++p) {
    std::span<const float> row(logits->data() + p * V, V);
    const std::vector<float> golden_top = DecodeFloats(prompt.at("top_logits")[p]);
    ++result.positions;
    if (ArgMax(row) == top_ids[p][0]) {
      ++result.top1_agree;
    } else {
      const auto [lo, hi] = std::minmax_element(row.begin(), row.end());
      if (golden_top[0] - golden_top[1] < 0.01f * (*hi - *lo)) ++result.top1_near_tie_flips;
    }
  }
  for (const auto& [position, encoded] : prompt.at("full_logits").items()) {
    const std::vector<float> expected = DecodeFloats(encoded);
    std::span<const float> row(logits->data() + std::stoi(position) * V, V);
    result.worst_relative_l2 = std::max(result.worst_relative_l2, RelativeL2(row, expected));
  }
  // Greedy decoding, one token per step.
  int32_t next = ArgMax(std::span<const float>(logits->data() + (tokens.size() - 1) * V, V));
  int64_t position = static_cast<int64_t>(tokens.size());
  for (int32_t expected : continuation) {
    if (next != expected) break;
    ++result.greedy_matching_prefix;
    const std::vector<int32_t> step = {next};
    absl::StatusOr<std::vector<float>> step_logits =
        runner.Run(step, position++, blocks, LogitsWanted::kLast);
    EXPECT_OK(step_logits);
    if (!step_logits.ok()) break;
    next = ArgMax(*step_logits);
  }
  return result;
}

class RandomModelLogitsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RandomModelLogitsTest, MatchesLlamaCpp) {
  const json golden = LoadGolden(GetParam());
  for (const auto& [format, model] : golden.at("models").items()) {
    SCOPED_TRACE(format);
    const std::string path = ::shoal::testing::TestModelPath(GetParam(), format);
    ASSERT_EQ(FileSha256(path), model.at("sha256").get<std::string>())
        << path << " is not the file the golden logits were made from; rerun "
        << "scripts/make_golden_logits.py after changing tests/data_gen/models.py";
    ASSERT_OK_AND_ASSIGN(auto runner, ForwardRunner::Create(path, kernels::KvType::kF32));
    for (const json& prompt : model.at("prompts")) {
      SCOPED_TRACE(prompt.at("text").get<std::string>());
      const PromptResult r = RunPrompt(*runner, prompt);
      if (format == "f32") {
        EXPECT_LT(r.worst_relative_l2, 1e-3);
        EXPECT_EQ(r.top1_agree, r.positions);
        EXPECT_EQ(r.greedy_matching_prefix, 32);
      } else {
        EXPECT_EQ(r.top1_agree + r.top1_near_tie_flips, r.positions);
      }
      RecordProperty(format + "_top1", r.top1_agree);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, RandomModelLogitsTest,
                         ::testing::Values("llama", "qwen3", "qwen3moe", "gemma3"));

// Tallies, for one prompt, Shoal's top-1 against llama.cpp's by llama.cpp's top-two gap,
// and how often llama.cpp's other settings agree with its golden one.
void TallyAgreement(ForwardRunner& runner, const json& prompt,
                    const std::vector<std::vector<int32_t>>& other_settings_top1,
                    PromptResult& result) {
  const auto tokens = prompt.at("tokens").get<std::vector<int32_t>>();
  const auto top_ids = prompt.at("top_ids").get<std::vector<std::vector<int32_t>>>();
  const std::vector<int32_t> blocks = ForwardRunner::BlockTable(0, (tokens.size() + 15) / 16);
  ASSERT_OK_AND_ASSIGN(std::vector<float> logits,
                       runner.Run(tokens, 0, blocks, LogitsWanted::kAll));
  const int64_t V = runner.n_vocab();
  for (size_t p = 0; p < tokens.size(); ++p) {
    const int32_t ours = ArgMax(std::span<const float>(logits.data() + p * V, V));
    const int32_t golden = top_ids[p][0];
    const std::vector<float> golden_top = DecodeFloats(prompt.at("top_logits")[p]);
    const float gap = golden_top[0] - golden_top[1];
    if (gap >= kNoiseLogits) {
      ++result.clear_positions;
      result.clear_agree += ours == golden;
    }
    if (ours != golden && gap >= kNearTieLogits) ++result.decided_flips;
    for (const std::vector<int32_t>& other : other_settings_top1) {
      ++result.settings_positions;
      result.settings_agree += other[p] == golden;
    }
  }
}

TEST(Gemma3_270mLogitsTest, AgreesWithLlamaCpp) {
  const json golden = LoadGolden("gemma3-270m").at("models").at("q4_k_m");
  const std::string path = ::shoal::testing::Gemma3Path();
  ASSERT_EQ(FileSha256(path), golden.at("sha256").get<std::string>());
  ASSERT_OK_AND_ASSIGN(auto runner, ForwardRunner::Create(path, kernels::KvType::kF16));
  const json& prompts = golden.at("prompts");
  const json& settings = golden.at("other_settings_top1");
  PromptResult total;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const json& prompt = prompts[i];
    SCOPED_TRACE(prompt.at("text").get<std::string>());
    std::vector<std::vector<int32_t>> others;
    for (const auto& [name, per_prompt] : settings.items()) {
      others.push_back(per_prompt[i].get<std::vector<int32_t>>());
    }
    TallyAgreement(*runner, prompt, others, total);
    const PromptResult r = RunPrompt(*runner, prompt);
    total.positions += r.positions;
    total.top1_agree += r.top1_agree;
    const auto gaps = prompt.at("greedy_gaps").get<std::vector<float>>();
    const int matched = r.greedy_matching_prefix;
    if (matched < 16) {
      EXPECT_LT(gaps[matched], kNearTieLogits)
          << "greedy continuation parts from llama.cpp's at token " << matched
          << ", where llama.cpp's top two logits are " << gaps[matched] << " apart";
    }
  }
  EXPECT_GE(total.positions, 300);
  EXPECT_GE(total.clear_positions, 0.75 * total.positions);
  EXPECT_GE(total.clear_agree, 0.98 * total.clear_positions)
      << total.clear_agree << " of " << total.clear_positions << " clear positions agree";
  EXPECT_EQ(total.decided_flips, 0);
  const double settings_agreement =
      static_cast<double>(total.settings_agree) / total.settings_positions;
  EXPECT_GE(static_cast<double>(total.top1_agree) / total.positions, settings_agreement - 0.02)
      << total.top1_agree << " of " << total.positions << " positions agree; llama.cpp's "
      << "settings agree with each other at " << settings_agreement;
  RecordProperty("top1_agree", total.top1_agree);
  RecordProperty("positions", total.positions);
}

}  // namespace
}  // namespace shoal::worker
