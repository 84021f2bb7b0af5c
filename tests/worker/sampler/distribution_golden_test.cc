// Checks the distribution a Sampler draws from against references it shares no code
// with: golden cases from scripts/make_golden_sampler.py (vLLM's algorithms in float64
// numpy), and, on a Gemma-sized vocabulary, a brute-force full sort in this file.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "worker/sampler/sampler.h"

namespace shoal::worker {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// The kept tokens and their probabilities.
std::map<int32_t, double> KeptTokens(const Distribution& d) {
  std::map<int32_t, double> kept;
  if (d.dense()) {
    for (size_t i = 0; i < d.weights.size(); ++i) {
      if (d.weights[i] > 0.0f) kept[static_cast<int32_t>(i)] = d.weights[i] / d.total;
    }
  } else {
    for (const Candidate& c : d.candidates) {
      if (c.weight > 0.0f) kept[c.token_id] = c.weight / d.total;
    }
  }
  return kept;
}

// Tokens below e^-87 of the most likely one have weight 0 in float32; the reference
// keeps them, with a probability no test could ever observe.
constexpr double kUnderflow = 1e-30;

void ExpectSameDistribution(const std::map<int32_t, double>& expected,
                            const std::map<int32_t, double>& actual, const std::string& what) {
  for (const auto& [id, p] : expected) {
    auto it = actual.find(id);
    if (it == actual.end()) {
      EXPECT_LT(p, kUnderflow) << what << ": token " << id << " missing";
      continue;
    }
    EXPECT_NEAR(it->second, p, 2e-6 + 2e-5 * p) << what << ": token " << id;
  }
  for (const auto& [id, p] : actual) {
    EXPECT_TRUE(expected.count(id)) << what << ": token " << id << " kept with p=" << p;
  }
}

TEST(DistributionGoldenTest, MatchesVllmSemanticsOnGoldenCases) {
  const std::string path = std::string(SHOAL_GOLDEN_DIR) + "/sampler_distributions.json";
  std::ifstream file(path);
  ASSERT_TRUE(file) << "missing " << path << " (scripts/make_golden_sampler.py)";
  const nlohmann::json doc = nlohmann::json::parse(file);
  ASSERT_GE(doc["cases"].size(), 200u);
  SamplerScratch scratch;
  int index = 0;
  for (const nlohmann::json& c : doc["cases"]) {
    const std::string what = "case " + std::to_string(index++);
    SamplingParams params;
    params.seed = 1;
    params.temperature = c["temperature"];
    params.top_k = c["top_k"];
    params.top_p = c["top_p"];
    params.min_p = c["min_p"];
    params.repetition_penalty = c["repetition_penalty"];
    params.presence_penalty = c["presence_penalty"];
    params.frequency_penalty = c["frequency_penalty"];
    for (const auto& bias : c["logit_bias"]) params.logit_bias[bias[0]] = bias[1];
    const std::vector<int32_t> prompt = c["prompt_token_ids"];
    const std::vector<int32_t> output = c["output_token_ids"];
    std::vector<float> logits;
    for (const auto& v : c["logits"]) {
      logits.push_back(v.is_null() ? -kInf : static_cast<float>(v.get<double>()));
    }
    absl::StatusOr<Sampler> sampler = Sampler::Create({.vocab_size = c["vocab_size"],
                                                       .params = params,
                                                       .prompt_token_ids = prompt,
                                                       .output_token_ids = output});
    ASSERT_TRUE(sampler.ok()) << what << ": " << sampler.status();
    absl::StatusOr<Distribution> d = sampler->NextDistribution(logits, scratch);
    ASSERT_TRUE(d.ok()) << what << ": " << d.status();
    std::map<int32_t, double> expected;
    for (const auto& e : c["expected"]) expected[e[0]] = e[1];
    ExpectSameDistribution(expected, KeptTokens(*d), what);
  }
}

// vLLM's definitions by brute force in double: sort everything, mask, renormalize.
std::map<int32_t, double> BruteForce(const std::vector<float>& logits, float temperature,
                                     int32_t top_k, float top_p, float min_p) {
  const int32_t n = static_cast<int32_t>(logits.size());
  std::vector<int32_t> order(n);
  for (int32_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  const double max = logits[order[0]];
  std::vector<double> w(n);
  for (int32_t i = 0; i < n; ++i) w[i] = std::exp((logits[i] - max) / temperature);
  std::vector<bool> kept(n, true);
  for (int32_t i = 0; i < n; ++i) kept[i] = w[i] >= min_p;
  if (top_k > 0) {
    const float kth = logits[order[top_k - 1]];
    for (int32_t i = 0; i < n; ++i) kept[i] = kept[i] && logits[i] >= kth;
  }
  double total = 0;
  for (int32_t i = 0; i < n; ++i) total += kept[i] ? w[i] : 0.0;
  if (top_p < 1.0f) {
    double head = 0;
    for (int32_t id : order) {
      if (!kept[id]) continue;
      if (head >= top_p * total) kept[id] = false;
      head += w[id];
    }
  }
  std::map<int32_t, double> result;
  double kept_total = 0;
  for (int32_t i = 0; i < n; ++i) kept_total += kept[i] ? w[i] : 0.0;
  for (int32_t i = 0; i < n; ++i) {
    if (kept[i]) result[i] = w[i] / kept_total;
  }
  return result;
}

TEST(DistributionGoldenTest, MatchesBruteForceOnGemmaSizedVocabulary) {
  const int32_t vocab = 262144;
  std::mt19937 gen(11);
  std::normal_distribution<float> normal(0.0f, 2.5f);
  std::vector<float> logits(vocab);
  for (float& v : logits) v = normal(gen);
  for (int i = 0; i < 5; ++i) logits[gen() % vocab] += 12.0f;  // a few likely tokens
  struct Setting {
    float temperature;
    int32_t top_k;
    float top_p;
    float min_p;
  };
  const Setting settings[] = {{1.0f, 50, 1.0f, 0.0f},  {0.7f, 0, 0.9f, 0.0f},
                              {1.0f, 0, 0.0001f, 0.0f}, {1.5f, 0, 0.95f, 0.0f},
                              {1.0f, 1000, 0.8f, 0.0f}, {1.0f, 0, 1.0f, 0.001f},
                              {2.0f, 0, 0.5f, 1e-6f},   {1.0f, 40, 0.95f, 0.05f}};
  SamplerScratch scratch;
  for (const Setting& s : settings) {
    SamplingParams params;
    params.seed = 1;
    params.temperature = s.temperature;
    params.top_k = s.top_k;
    params.top_p = s.top_p;
    params.min_p = s.min_p;
    absl::StatusOr<Sampler> sampler = Sampler::Create({.vocab_size = vocab, .params = params});
    ASSERT_TRUE(sampler.ok()) << sampler.status();
    std::vector<float> row = logits;
    absl::StatusOr<Distribution> d = sampler->NextDistribution(row, scratch);
    ASSERT_TRUE(d.ok()) << d.status();
    const std::string what = "T=" + std::to_string(s.temperature) + " k=" +
                             std::to_string(s.top_k) + " p=" + std::to_string(s.top_p) +
                             " min_p=" + std::to_string(s.min_p);
    ExpectSameDistribution(BruteForce(logits, s.temperature, s.top_k, s.top_p, s.min_p),
                           KeptTokens(*d), what);
  }
}

}  // namespace
}  // namespace shoal::worker
