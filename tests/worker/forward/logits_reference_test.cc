// Whole-model logits against llama.cpp (tests/golden/logits_*.json, made by
// scripts/make_golden_logits.py from the same GGUF files with llama-cpp-python).
//
// Tolerances, and why:
// - f32 random-weight models (llama.cpp run with an F32 KV cache): both sides do plain
//   float32 arithmetic and differ only in summation order. The relative L2 error of the
//   full logits vector is bounded per model (F32Tolerances: measured value x margin),
//   the top-1 token must agree at every prompt position but f32 near ties (gaps under
//   twice the measured error, with margin), and the greedy continuation of 32 tokens
//   must be llama.cpp's, tie-aware (below) with the same near ties.
// - Quantized random-weight models: activations are quantized exactly as llama.cpp does
//   (Q8_0 / Q8_K), so top-1 still agrees nearly everywhere; a flip is allowed only where
//   llama.cpp's own top two logits are within 1% of the logit range, and so is a
//   greedy continuation's parting from llama.cpp's.
// - Gemma 3 270M Q4_K_M (F16 KV cache): with quantized activations this model amplifies
//   the last bit of any float into tenths of a logit (one different ulp of one RoPE
//   cosine moves later logits by 1-4% relative L2). llama.cpp's own settings (F16 KV with
//   and without flash attention, F32 KV) disagree on top-1 at 4% of the positions, and
//   their greedy continuations part after 2-16 tokens on four of the six prompts, so no
//   bar that needs bit-identical arithmetic can hold. The golden file keeps, for the other
//   settings, the top-1 token and the logits of the golden's top-8 tokens; the bars:
//   * where llama.cpp's top two logits are kNoiseLogits or more apart, top-1 agrees at
//     >= 98% of the positions, and where they are kGemmaNearTieLogits apart, everywhere;
//   * over all positions, top-1 agrees at least as often as llama.cpp's settings agree
//     with each other, less 2 points;
//   * Shoal's top-8 logits differ from the golden's by at most kSpreadMultiple times
//     what llama.cpp's other settings differ by (median and 99th percentile);
//   * the greedy continuation is llama.cpp's, tie-aware.
//
// Tie-aware greedy continuations: Shoal's greedy continuation may part from llama.cpp's
// only at a step where llama.cpp's own top-two logit gap is a near tie (a gap that the
// measured numerical difference between the two could close); after a parting the two
// continue from different histories and the rest is not compared.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
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

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  const size_t k = std::min(values.size() - 1, static_cast<size_t>(q * values.size()));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

// f32 random-weight models, per architecture: the bound on the full logits' relative L2
// error, and the near-tie bar as a fraction of the logit range (a top-two gap under it
// may flip the top-1 token or part the greedy continuations). Measured on the goldens of
// llama-cpp-python 0.3.36, with Shoal's AVX-512 kernels and capped at AVX2
// (SHOAL_CPU_LEVEL=avx2), the worse of the two, over the full logits kept at 4 positions
// of each of 3 prompts:
//
//   arch       relative L2   max |error| / logit range
//   llama      3.6e-7        1.9e-7
//   qwen3      7.7e-7        4.1e-7
//   qwen3moe   3.3e-7        1.9e-7
//   gemma3     1.4e-4        8.2e-5   (likely GeGLU's float16 GELU table, as ggml's:
//                                      inputs an ulp apart can take neighbouring entries)
//
// The L2 bound is the measured value times a margin of 10 (other CPUs' kernels, other
// summation orders), rounded up. A top-two gap can be closed by the errors of both
// logits, so the near-tie fraction is twice the measured max error over range, times
// the same margin of 10, rounded up. (The old single bound of 1e-3 was ~1000 times the
// error of the untied models.)
struct F32Tolerance {
  double relative_l2;
  float near_tie_fraction;
};

F32Tolerance F32Tolerances(const std::string& arch) {
  if (arch == "llama") return {4e-6, 4e-6f};
  if (arch == "qwen3") return {8e-6, 1e-5f};
  if (arch == "qwen3moe") return {4e-6, 4e-6f};
  return {1.5e-3, 2e-3f};  // gemma3
}

// Quantized random-weight models: a near tie is a top-two gap under 1% of the logit
// range (the prompt positions' rule above).
constexpr float kQuantizedNearTieFraction = 0.01f;

// Top-two logit gaps of the quantized real model (see the tolerances above). Between
// llama.cpp's own settings (golden against the two others, 744 positions) the top-two
// gap moves by a median 0.13, a 99th percentile 0.69 and at most 1.14 logit, and top-1
// flipped (31 times) only where the gap was under 0.35. Under kNoiseLogits (above those
// flips) the top-1 is a coin flip; under kGemmaNearTieLogits (above that 99th
// percentile) llama.cpp's own noise can close the gap, so a flip or a greedy parting
// there is allowed; above it the choice is decided. Shoal's greedy continuations part
// from llama.cpp's at gaps of 0.01-0.23 (AVX-512 and AVX2 kernels).
constexpr float kNoiseLogits = 0.4f;
constexpr float kGemmaNearTieLogits = 1.0f;
// |Shoal - llama.cpp| over the golden's top-8 logits at every position, against the
// same between llama.cpp's settings (median 0.18, 99th percentile 0.95 logit): measured
// 0.18 and 0.83-0.89 (ratios 1.0 and 0.87-0.93, AVX-512 and AVX2), bounded at 1.5 times
// llama.cpp's own spread.
constexpr double kSpreadMultiple = 1.5;

struct PromptResult {
  int positions = 0;
  int clear_positions = 0;  // llama.cpp's top two at least kNoiseLogits apart
  int clear_agree = 0;
  int decided_flips = 0;       // disagreements where llama.cpp's top two are not a near tie
  int settings_positions = 0;  // llama.cpp's settings against each other
  int settings_agree = 0;
  int top1_agree = 0;
  std::vector<float> flip_gap_fractions;  // where top-1 differs: llama.cpp's gap / range
  int top1_near_tie_flips(float fraction) const {
    return static_cast<int>(std::count_if(flip_gap_fractions.begin(), flip_gap_fractions.end(),
                                          [&](float f) { return f < fraction; }));
  }
  int greedy_matching_prefix = 0;
  double worst_relative_l2 = 0;
  double worst_abs_error_over_range = 0;  // max |Shoal - llama.cpp| / logit range
  std::vector<double> top_logit_errors;   // |Shoal - llama.cpp| at llama.cpp's top-8 tokens
};

// Runs one golden prompt: all positions' logits in one prefill, then the greedy
// continuation one decode step at a time on the KV cache, until it parts from
// llama.cpp's.
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
    for (size_t k = 0; k < golden_top.size(); ++k) {
      result.top_logit_errors.push_back(std::abs(double{row[top_ids[p][k]]} - golden_top[k]));
    }
    ++result.positions;
    if (ArgMax(row) == top_ids[p][0]) {
      ++result.top1_agree;
    } else {
      const auto [lo, hi] = std::minmax_element(row.begin(), row.end());
      result.flip_gap_fractions.push_back((golden_top[0] - golden_top[1]) / (*hi - *lo));
    }
  }
  for (const auto& [position, encoded] : prompt.at("full_logits").items()) {
    const std::vector<float> expected = DecodeFloats(encoded);
    std::span<const float> row(logits->data() + std::stoi(position) * V, V);
    result.worst_relative_l2 = std::max(result.worst_relative_l2, RelativeL2(row, expected));
    const auto [lo, hi] = std::minmax_element(expected.begin(), expected.end());
    for (int64_t v = 0; v < V; ++v) {
      result.worst_abs_error_over_range = std::max(
          result.worst_abs_error_over_range, std::abs(double{row[v]} - expected[v]) / (*hi - *lo));
    }
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

// The tie-aware greedy bar: where Shoal's continuation parts from llama.cpp's, llama.cpp's
// top two logits at that step must be closer than near_tie(step).
// Returns "token:gap" where they part, "" when they do not.
std::string ExpectTieAwareGreedy(const PromptResult& r, const json& prompt,
                                 const std::function<float(int)>& near_tie) {
  const auto gaps = prompt.at("greedy_gaps").get<std::vector<float>>();
  const int matched = r.greedy_matching_prefix;
  if (matched >= static_cast<int>(gaps.size())) return "";
  EXPECT_LT(gaps[matched], near_tie(matched))
      << "greedy continuation parts from llama.cpp's at token " << matched << " of " << gaps.size()
      << ", where llama.cpp's top two logits are " << gaps[matched] << " apart, not a near tie";
  return absl::StrFormat(" %d:%.3g", matched, gaps[matched]);
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
    double worst_relative_l2 = 0, worst_abs_error_over_range = 0;
    std::string partings, flips;
    for (const json& prompt : model.at("prompts")) {
      SCOPED_TRACE(prompt.at("text").get<std::string>());
      const PromptResult r = RunPrompt(*runner, prompt);
      for (float f : r.flip_gap_fractions) flips += absl::StrFormat(" %.2g", f);
      const auto ranges = prompt.at("greedy_ranges").get<std::vector<float>>();
      if (format == "f32") {
        const F32Tolerance tolerance = F32Tolerances(GetParam());
        const float near_tie = tolerance.near_tie_fraction;
        EXPECT_LT(r.worst_relative_l2, tolerance.relative_l2);
        EXPECT_EQ(r.top1_agree + r.top1_near_tie_flips(near_tie), r.positions);
        partings += ExpectTieAwareGreedy(r, prompt, [&](int i) { return near_tie * ranges[i]; });
      } else {
        EXPECT_EQ(r.top1_agree + r.top1_near_tie_flips(kQuantizedNearTieFraction), r.positions);
        partings += ExpectTieAwareGreedy(
            r, prompt, [&](int i) { return kQuantizedNearTieFraction * ranges[i]; });
      }
      worst_relative_l2 = std::max(worst_relative_l2, r.worst_relative_l2);
      worst_abs_error_over_range =
          std::max(worst_abs_error_over_range, r.worst_abs_error_over_range);
    }
    // Measurements behind the bounds (in the test's XML/JSON output).
    if (format == "f32") {
      RecordProperty("f32_worst_relative_l2", absl::StrFormat("%.3g", worst_relative_l2));
      RecordProperty("f32_worst_abs_error_over_range",
                     absl::StrFormat("%.3g", worst_abs_error_over_range));
    }
    RecordProperty(format + "_top1_flip_gap_over_range", flips);
    RecordProperty(format + "_greedy_partings", partings);
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, RandomModelLogitsTest,
                         ::testing::Values("llama", "qwen3", "qwen3moe", "gemma3"));

// The goldens themselves: every random model's output depends on its history (the bar
// of tests/data_gen/models.py, check_history_dependence), so the equivalence tests on
// these models (batched = alone, preempted = uninterrupted) can fail. Tied embeddings
// once made the top token the input token everywhere and every continuation one token.
TEST_P(RandomModelLogitsTest, GoldenContinuationsDependOnHistory) {
  const json golden = LoadGolden(GetParam());
  for (const auto& [format, model] : golden.at("models").items()) {
    SCOPED_TRACE(format);
    for (const json& prompt : model.at("prompts")) {
      SCOPED_TRACE(prompt.at("text").get<std::string>());
      const auto tokens = prompt.at("tokens").get<std::vector<int32_t>>();
      const auto top_ids = prompt.at("top_ids").get<std::vector<std::vector<int32_t>>>();
      const auto continuation = prompt.at("greedy_continuation").get<std::vector<int32_t>>();
      EXPECT_EQ(continuation.size(), 32u);
      EXPECT_GE(std::set<int32_t>(continuation.begin(), continuation.end()).size(), 4u);
      int echoes = 0;
      for (size_t p = 0; p < tokens.size(); ++p) echoes += top_ids[p][0] == tokens[p];
      EXPECT_LE(echoes, 0.25 * tokens.size()) << "the top token is the input token";
    }
  }
}

// Tallies, for one prompt, Shoal's top-1 against llama.cpp's by llama.cpp's top-two gap,
// how often llama.cpp's other settings agree with its golden one, and how far their
// logits of the golden's top-8 tokens are from the golden's.
void TallyAgreement(ForwardRunner& runner, const json& prompt,
                    const std::vector<std::vector<int32_t>>& other_settings_top1,
                    const std::vector<const json*>& other_settings_top_logits, PromptResult& result,
                    std::vector<double>& settings_errors) {
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
    if (ours != golden && gap >= kGemmaNearTieLogits) ++result.decided_flips;
    for (const std::vector<int32_t>& other : other_settings_top1) {
      ++result.settings_positions;
      result.settings_agree += other[p] == golden;
    }
    for (const json* other : other_settings_top_logits) {
      const std::vector<float> values = DecodeFloats(other->at(p));
      for (size_t k = 0; k < values.size(); ++k) {
        settings_errors.push_back(std::abs(double{values[k]} - golden_top[k]));
      }
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
  const json& settings_logits = golden.at("other_settings_top_logits");
  PromptResult total;
  std::vector<double> settings_errors;
  std::string partings;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const json& prompt = prompts[i];
    SCOPED_TRACE(prompt.at("text").get<std::string>());
    std::vector<std::vector<int32_t>> others;
    for (const auto& [name, per_prompt] : settings.items()) {
      others.push_back(per_prompt[i].get<std::vector<int32_t>>());
    }
    std::vector<const json*> others_logits;
    for (const auto& [name, per_prompt] : settings_logits.items()) {
      others_logits.push_back(&per_prompt[i]);
    }
    TallyAgreement(*runner, prompt, others, others_logits, total, settings_errors);
    const PromptResult r = RunPrompt(*runner, prompt);
    total.positions += r.positions;
    total.top1_agree += r.top1_agree;
    total.top_logit_errors.insert(total.top_logit_errors.end(), r.top_logit_errors.begin(),
                                  r.top_logit_errors.end());
    partings += ExpectTieAwareGreedy(r, prompt, [](int) { return kGemmaNearTieLogits; });
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
  // The top-8 logits' values, against llama.cpp's own spread between settings.
  for (double q : {0.5, 0.99}) {
    const double ours = Percentile(total.top_logit_errors, q);
    const double spread = Percentile(settings_errors, q);
    EXPECT_LE(ours, kSpreadMultiple * spread)
        << "quantile " << q << " of |Shoal - llama.cpp| over the top-8 logits is " << ours
        << "; between llama.cpp's own settings it is " << spread;
    RecordProperty(absl::StrFormat("top8_error_q%.0f", q * 100), absl::StrFormat("%.3g", ours));
    RecordProperty(absl::StrFormat("settings_spread_q%.0f", q * 100),
                   absl::StrFormat("%.3g", spread));
  }
  RecordProperty("top1_agree", total.top1_agree);
  RecordProperty("positions", total.positions);
  RecordProperty("greedy_partings", partings);
}

}  // namespace
}  // namespace shoal::worker
