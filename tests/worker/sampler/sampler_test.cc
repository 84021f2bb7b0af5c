#include "worker/sampler/sampler.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::worker {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

struct SequenceSetup {
  std::vector<int32_t> eos;
  std::vector<int32_t> prompt;
  std::vector<int32_t> output;
};

Sampler MakeSampler(const SamplingParams& params, int32_t vocab_size,
                    const SequenceSetup& setup = {}) {
  absl::StatusOr<Sampler> sampler = Sampler::Create({.vocab_size = vocab_size,
                                                     .params = params,
                                                     .eos_token_ids = setup.eos,
                                                     .prompt_token_ids = setup.prompt,
                                                     .output_token_ids = setup.output});
  EXPECT_TRUE(sampler.ok()) << sampler.status();
  return *std::move(sampler);
}

SamplingParams Greedy() {
  SamplingParams p;
  p.temperature = 0.0f;
  return p;
}

SamplingParams Seeded(uint64_t seed, float temperature = 1.0f) {
  SamplingParams p;
  p.temperature = temperature;
  p.seed = seed;
  return p;
}

// Samples one token from a copy of `logits` (Sample() overwrites its input).
int32_t SampleToken(Sampler& sampler, std::vector<float> logits, SamplerScratch& scratch) {
  absl::StatusOr<SampleResult> result = sampler.Sample(logits, scratch);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? result->token_id : -1;
}

std::vector<double> Softmax(const std::vector<double>& x) {
  double max = -INFINITY;
  for (double v : x) max = std::max(max, v);
  std::vector<double> p(x.size());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += p[i] = std::exp(x[i] - max);
  for (double& v : p) v /= sum;
  return p;
}

std::vector<double> LogSoftmax(const std::vector<float>& logits) {
  std::vector<double> x(logits.begin(), logits.end());
  std::vector<double> p = Softmax(x);
  for (double& v : p) v = std::log(v);
  return p;
}

// The sampling probabilities of every token, from NextDistribution.
std::vector<double> Probabilities(const Sampler& sampler, std::vector<float> logits) {
  SamplerScratch scratch;
  absl::StatusOr<Distribution> d = sampler.NextDistribution(logits, scratch);
  EXPECT_TRUE(d.ok()) << d.status();
  std::vector<double> p(logits.size(), 0.0);
  if (!d.ok()) return p;
  if (d->dense()) {
    for (size_t i = 0; i < logits.size(); ++i) p[i] = d->weights[i] / d->total;
  } else {
    for (const Candidate& c : d->candidates) p[c.token_id] = c.weight / d->total;
  }
  return p;
}

// Pearson's chi-square statistic of `counts` against probabilities `p` (cells with
// p = 0 must be empty).
double ChiSquare(const std::vector<int64_t>& counts, const std::vector<double>& p, int64_t n) {
  double chi2 = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0.0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " has probability 0";
      continue;
    }
    const double expected = p[i] * static_cast<double>(n);
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return chi2;
}

TEST(SamplerTest, GreedyPicksTheArgmax) {
  Sampler sampler = MakeSampler(Greedy(), 6);
  SamplerScratch scratch;
  EXPECT_EQ(SampleToken(sampler, {0.1f, -3.0f, 2.5f, 2.4f, -kInf, 1.0f}, scratch), 2);
}

TEST(SamplerTest, GreedyBreaksTiesTowardTheLowestId) {
  Sampler sampler = MakeSampler(Greedy(), 5);
  SamplerScratch scratch;
  EXPECT_EQ(SampleToken(sampler, {1.0f, 4.0f, 2.0f, 4.0f, 4.0f}, scratch), 1);
}

TEST(SamplerTest, GreedyOnALargeVocabularyFindsTheLastMaximum) {
  const int32_t vocab = 262144;
  std::vector<float> logits(vocab, 0.5f);
  logits[vocab - 1] = 7.0f;  // in the scalar tail of the vector passes
  logits[12345] = 6.999f;
  Sampler sampler = MakeSampler(Greedy(), vocab);
  SamplerScratch scratch;
  EXPECT_EQ(SampleToken(sampler, logits, scratch), vocab - 1);
}

TEST(SamplerTest, TemperatureBelowEpsilonIsGreedy) {
  SamplingParams p = Seeded(1, 1e-6f);
  Sampler sampler = MakeSampler(p, 4);
  EXPECT_TRUE(sampler.greedy());
  SamplerScratch scratch;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(SampleToken(sampler, {1.0f, 1.1f, 0.9f, 1.0f}, scratch), 1);
}

TEST(SamplerTest, SameSeedSameTokensDifferentSeedsDiffer) {
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> rows(200, std::vector<float>(300));
  for (auto& row : rows) {
    for (float& v : row) v = normal(gen);
  }
  auto run = [&](uint64_t seed) {
    Sampler sampler = MakeSampler(Seeded(seed), 300);
    SamplerScratch scratch;
    std::vector<int32_t> tokens;
    for (const auto& row : rows) tokens.push_back(SampleToken(sampler, row, scratch));
    return tokens;
  };
  const std::vector<int32_t> a = run(1234);
  EXPECT_EQ(run(1234), a);
  EXPECT_NE(run(1235), a);
}

TEST(SamplerTest, ResumedSequenceContinuesItsRandomStream) {
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i) logits[i] = 0.05f * static_cast<float>(i % 7);
  SamplingParams p = Seeded(99);
  p.frequency_penalty = 0.5f;  // the history matters too
  SamplerScratch scratch;
  Sampler whole = MakeSampler(p, 50, {.prompt = {1, 2, 3}});
  std::vector<int32_t> tokens;
  for (int i = 0; i < 10; ++i) tokens.push_back(SampleToken(whole, logits, scratch));

  // Preempted after 5 tokens, recreated from the prompt and its output so far.
  Sampler resumed = MakeSampler(
      p, 50, {.prompt = {1, 2, 3}, .output = std::vector<int32_t>(tokens.begin(), tokens.begin() + 5)});
  EXPECT_EQ(resumed.num_output_tokens(), 5);
  for (int i = 5; i < 10; ++i) EXPECT_EQ(SampleToken(resumed, logits, scratch), tokens[i]);
}

TEST(SamplerTest, UnseededSequencesGetDifferentSeeds) {
  SamplingParams p;
  EXPECT_NE(MakeSampler(p, 10).seed(), MakeSampler(p, 10).seed());
}

// 200k seeded draws match the softmax within a chi-square bound at p = 1e-6; with a
// fixed seed the outcome is deterministic, so the test cannot flake.
TEST(SamplerTest, DrawsFollowTheSoftmax) {
  const std::vector<float> logits = {1.0f, 0.5f, 0.0f, -0.5f, 2.0f, -1.0f, 0.25f, 1.5f};
  const float temperature = 0.8f;
  std::vector<double> scaled;
  for (float l : logits) scaled.push_back(static_cast<double>(l) / temperature);
  const std::vector<double> p = Softmax(scaled);
  Sampler sampler = MakeSampler(Seeded(2024, temperature), 8);
  SamplerScratch scratch;
  const int64_t n = 200000;
  std::vector<int64_t> counts(8, 0);
  std::vector<float> row;
  for (int64_t i = 0; i < n; ++i) {
    row = logits;
    ++counts[sampler.Sample(row, scratch)->token_id];
  }
  EXPECT_LT(ChiSquare(counts, p, n), 40.52);  // chi2(7 dof).isf(1e-6)
}

TEST(SamplerTest, TruncatedDrawsFollowTheRenormalizedDistribution) {
  // top_k = 4 keeps tokens {4, 7, 0, 1}; top_p = 0.8 of those keeps {4, 7, 0}.
  const std::vector<float> logits = {1.0f, 0.5f, 0.0f, -0.5f, 2.0f, -1.0f, 0.25f, 1.5f};
  SamplingParams params = Seeded(77);
  params.top_k = 4;
  params.top_p = 0.8f;
  Sampler sampler = MakeSampler(params, 8);
  std::vector<double> p(8, 0.0);
  const double z = std::exp(2.0) + std::exp(1.5) + std::exp(1.0);
  p[4] = std::exp(2.0) / z;
  p[7] = std::exp(1.5) / z;
  p[0] = std::exp(1.0) / z;
  const std::vector<double> from_sampler = Probabilities(sampler, logits);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(from_sampler[i], p[i], 1e-6) << i;

  SamplerScratch scratch;
  const int64_t n = 200000;
  std::vector<int64_t> counts(8, 0);
  std::vector<float> row;
  for (int64_t i = 0; i < n; ++i) {
    row = logits;
    ++counts[sampler.Sample(row, scratch)->token_id];
  }
  EXPECT_LT(ChiSquare(counts, p, n), 27.63);  // chi2(2 dof).isf(1e-6)
}

TEST(SamplerTest, MinPIsRelativeToTheMostLikelyToken) {
  // Probabilities proportional to 8, 4, 2, 1: min_p = 0.3 keeps 8 and 4 (ratio 0.5),
  // drops 2 (0.25).
  const std::vector<float> logits = {std::log(8.0f), std::log(4.0f), std::log(2.0f), 0.0f};
  SamplingParams params = Seeded(1);
  params.min_p = 0.3f;
  const std::vector<double> p = Probabilities(MakeSampler(params, 4), logits);
  EXPECT_NEAR(p[0], 8.0 / 12.0, 1e-6);
  EXPECT_NEAR(p[1], 4.0 / 12.0, 1e-6);
  EXPECT_EQ(p[2], 0.0);
  EXPECT_EQ(p[3], 0.0);
}

TEST(SamplerTest, TopKOfMinusOneOrAtLeastTheVocabularyKeepsEverything) {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f};
  for (int32_t k : {-1, 0, 3, 10}) {
    SamplingParams params = Seeded(1);
    params.top_k = k;
    const std::vector<double> p = Probabilities(MakeSampler(params, 3), logits);
    const std::vector<double> expected = Softmax({0.0, 1.0, 2.0});
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(p[i], expected[i], 1e-6) << "top_k " << k;
  }
}

TEST(SamplerTest, PenaltiesFollowVllm) {
  // Prompt {0, 1}; output 2, 2, 4. Repetition 2 on tokens 0, 1, 2, 4; frequency 0.25
  // per output occurrence; presence 0.5 on output tokens.
  const std::vector<float> logits = {2.0f, -2.0f, 1.0f, 0.0f, 3.0f, -1.0f};
  SamplingParams params = Seeded(1);
  params.repetition_penalty = 2.0f;
  params.frequency_penalty = 0.25f;
  params.presence_penalty = 0.5f;
  const Sampler sampler = MakeSampler(params, 6, {.prompt = {0, 1, 0}, .output = {2, 2, 4}});
  const std::vector<double> processed = {
      2.0 / 2,                    // prompt, positive: divided
      -2.0 * 2,                   // prompt, negative: multiplied
      1.0 / 2 - 0.25 * 2 - 0.5,   // output twice
      0.0,                        // unseen
      3.0 / 2 - 0.25 * 1 - 0.5,   // output once
      -1.0,                       // unseen
  };
  const std::vector<double> expected = Softmax(processed);
  const std::vector<double> p = Probabilities(sampler, logits);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(p[i], expected[i], 1e-6) << i;
}

TEST(SamplerTest, SampledTokensFeedThePenalties) {
  // Frequency penalty 2 on a two-token vocabulary: greedy alternates once a token has
  // been used more often than the other.
  SamplingParams params = Greedy();
  params.frequency_penalty = 2.0f;
  Sampler sampler = MakeSampler(params, 2);
  SamplerScratch scratch;
  std::vector<int32_t> tokens;
  for (int i = 0; i < 4; ++i) tokens.push_back(SampleToken(sampler, {1.0f, 0.0f}, scratch));
  EXPECT_THAT(tokens, ElementsAre(0, 1, 0, 1));
}

TEST(SamplerTest, LogitBiasShiftsAndBans) {
  SamplingParams params = Greedy();
  params.logit_bias = {{2, 5.0f}};
  Sampler boosted = MakeSampler(params, 3);
  SamplerScratch scratch;
  EXPECT_EQ(SampleToken(boosted, {3.0f, 1.0f, 0.0f}, scratch), 2);

  params = Seeded(5);
  params.logit_bias = {{0, -100.0f}, {1, 1.0f}};
  const std::vector<double> p = Probabilities(MakeSampler(params, 3), {3.0f, 1.0f, 0.0f});
  const std::vector<double> expected = Softmax({-97.0, 2.0, 0.0});
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(p[i], expected[i], 1e-7) << i;
}

TEST(SamplerTest, MinTokensHoldsBackEosAndStopIds) {
  SamplingParams params = Greedy();
  params.min_tokens = 3;
  params.stop_token_ids = {2};
  // EOS (3) is the best token, stop id 2 the second best.
  Sampler sampler = MakeSampler(params, 4, {.eos = {3}});
  SamplerScratch scratch;
  const std::vector<float> logits = {0.0f, 1.0f, 4.0f, 5.0f};
  std::vector<int32_t> tokens;
  for (int i = 0; i < 4; ++i) tokens.push_back(SampleToken(sampler, logits, scratch));
  EXPECT_THAT(tokens, ElementsAre(1, 1, 1, 3));
}

TEST(SamplerTest, MinTokensCountsOutputBeforePreemption) {
  SamplingParams params = Greedy();
  params.min_tokens = 2;
  Sampler sampler = MakeSampler(params, 3, {.eos = {2}, .output = {0}});
  SamplerScratch scratch;
  EXPECT_EQ(SampleToken(sampler, {0.0f, 1.0f, 5.0f}, scratch), 1);
  EXPECT_EQ(SampleToken(sampler, {0.0f, 1.0f, 5.0f}, scratch), 2);
}

TEST(SamplerTest, LogprobsAreTheRawLogSoftmax) {
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(1000);
  for (float& v : logits) v = normal(gen);
  const std::vector<double> reference = LogSoftmax(logits);
  std::vector<int> order(logits.size());
  for (int i = 0; i < 1000; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });

  // Greedy with a bias that makes token 500 win: its logprob stays the raw one.
  SamplingParams params = Greedy();
  params.logprobs = 5;
  params.logit_bias = {{500, 100.0f}};
  params.repetition_penalty = 1.5f;
  Sampler sampler = MakeSampler(params, 1000, {.prompt = {order[0], 500}});
  SamplerScratch scratch;
  std::vector<float> row = logits;
  ASSERT_OK_AND_ASSIGN(SampleResult result, sampler.Sample(row, scratch));
  EXPECT_EQ(result.token_id, 500);
  ASSERT_TRUE(result.has_logprobs);
  EXPECT_NEAR(result.logprob, reference[500], 1e-5);
  ASSERT_EQ(result.num_top_logprobs, 5);
  for (int j = 0; j < 5; ++j) {
    EXPECT_EQ(result.top()[j].token_id, order[j]);
    EXPECT_NEAR(result.top()[j].logprob, reference[order[j]], 1e-5);
  }
}

TEST(SamplerTest, LogprobsZeroReturnsOnlyTheChosenToken) {
  SamplingParams params = Greedy();
  params.logprobs = 0;
  Sampler sampler = MakeSampler(params, 2);
  SamplerScratch scratch;
  std::vector<float> row = {0.0f, 0.0f};
  ASSERT_OK_AND_ASSIGN(SampleResult result, sampler.Sample(row, scratch));
  EXPECT_TRUE(result.has_logprobs);
  EXPECT_NEAR(result.logprob, std::log(0.5), 1e-6);
  EXPECT_EQ(result.num_top_logprobs, 0);
}

TEST(SamplerTest, NoLogprobsUnlessAsked) {
  Sampler sampler = MakeSampler(Greedy(), 2);
  SamplerScratch scratch;
  std::vector<float> row = {0.0f, 1.0f};
  ASSERT_OK_AND_ASSIGN(SampleResult result, sampler.Sample(row, scratch));
  EXPECT_FALSE(result.has_logprobs);
  EXPECT_EQ(result.num_top_logprobs, 0);
}

TEST(SamplerTest, TopLogprobsRankEqualLogitsByLowerIdAndNaNLast) {
  SamplingParams params = Greedy();
  params.logprobs = 4;
  Sampler sampler = MakeSampler(params, 5);
  SamplerScratch scratch;
  std::vector<float> row = {kNaN, 1.0f, 2.0f, 1.0f, -kInf};
  ASSERT_OK_AND_ASSIGN(SampleResult result, sampler.Sample(row, scratch));
  ASSERT_EQ(result.num_top_logprobs, 4);
  std::vector<int32_t> ids;
  for (const TokenLogprob& t : result.top()) ids.push_back(t.token_id);
  EXPECT_THAT(ids, ElementsAre(2, 1, 3, 0));
  EXPECT_EQ(result.top()[3].logprob, -kInf);  // NaN counts as -inf
  const double z = std::exp(2.0) + 2 * std::exp(1.0);
  EXPECT_NEAR(result.top()[0].logprob, std::log(std::exp(2.0) / z), 1e-6);
}

TEST(SamplerTest, NaNLogitsAreNeverChosen) {
  const std::vector<float> logits = {kNaN, 1.0f, kNaN, 0.5f, kNaN};
  Sampler greedy = MakeSampler(Greedy(), 5);
  SamplerScratch scratch;
  EXPECT_EQ(SampleToken(greedy, logits, scratch), 1);
  SamplingParams params = Seeded(3, 2.0f);
  params.logprobs = 2;
  Sampler random = MakeSampler(params, 5);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 1000; ++i) {
    std::vector<float> row = logits;
    ASSERT_OK_AND_ASSIGN(SampleResult r, random.Sample(row, scratch));
    ++seen[r.token_id];
    EXPECT_TRUE(std::isfinite(r.logprob));
  }
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_GT(seen[1], seen[3]);
}

TEST(SamplerTest, InfiniteLogitsShareAllTheMass) {
  const std::vector<float> logits = {1.0f, kInf, 3.0f, kNaN, kInf, -kInf};
  Sampler greedy = MakeSampler(Greedy(), 6);
  SamplerScratch scratch;
  EXPECT_EQ(SampleToken(greedy, logits, scratch), 1);

  SamplingParams params = Seeded(8);
  params.logprobs = 2;
  params.top_p = 0.5f;  // no truncation among infinities
  Sampler random = MakeSampler(params, 6);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 1000; ++i) {
    std::vector<float> row = logits;
    ASSERT_OK_AND_ASSIGN(SampleResult r, random.Sample(row, scratch));
    ++seen[r.token_id];
    EXPECT_NEAR(r.logprob, -std::log(2.0), 1e-6);
  }
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_GT(seen[1], 400);
  EXPECT_GT(seen[4], 400);
}

TEST(SamplerTest, NoFiniteLogitIsAnErrorNotACrash) {
  SamplerScratch scratch;
  for (SamplingParams params : {Greedy(), Seeded(1)}) {
    params.logprobs = 3;
    Sampler sampler = MakeSampler(params, 4);
    std::vector<float> nan_row(4, kNaN);
    EXPECT_THAT(sampler.Sample(nan_row, scratch),
                StatusIs(absl::StatusCode::kInternal, HasSubstr("no token has a finite logit")));
    std::vector<float> inf_row(4, -kInf);
    EXPECT_THAT(sampler.Sample(inf_row, scratch),
                StatusIs(absl::StatusCode::kInternal, HasSubstr("no token has a finite logit")));
    EXPECT_EQ(sampler.num_output_tokens(), 0);
  }
  // min_tokens suppressing the only finite token.
  SamplingParams params = Greedy();
  params.min_tokens = 1;
  Sampler sampler = MakeSampler(params, 2, {.eos = {0}});
  std::vector<float> row = {1.0f, kNaN};
  EXPECT_THAT(sampler.Sample(row, scratch), StatusIs(absl::StatusCode::kInternal, HasSubstr("NaN")));
}

TEST(SamplerTest, CreateRejectsBadInput) {
  SamplingParams params;
  params.top_p = 0.0f;
  EXPECT_THAT(Sampler::Create({.vocab_size = 10, .params = params}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("top_p")));
  const std::vector<int32_t> bad = {3, 10};
  EXPECT_THAT(Sampler::Create({.vocab_size = 10, .prompt_token_ids = bad}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prompt_token_ids")));
  EXPECT_THAT(Sampler::Create({.vocab_size = 10, .eos_token_ids = bad}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("eos_token_ids")));
  EXPECT_THAT(Sampler::Create({.vocab_size = 10, .output_token_ids = bad}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("output_token_ids")));
}

TEST(SamplerTest, BatchSamplesEveryRow) {
  const int32_t vocab = 5;
  const int64_t stride = 8;
  std::vector<float> logits(3 * stride, 0.0f);
  logits[0 * stride + 4] = 3.0f;
  logits[1 * stride + 1] = 3.0f;
  logits[2 * stride + 2] = 3.0f;
  Sampler a = MakeSampler(Greedy(), vocab), b = MakeSampler(Greedy(), vocab),
          c = MakeSampler(Greedy(), vocab);
  std::vector<Sampler*> samplers = {&a, &b, &c};
  std::vector<SampleResult> results(3);
  SamplerScratch scratch;
  ASSERT_OK(SampleBatch(samplers, logits, stride, scratch, results));
  EXPECT_EQ(results[0].token_id, 4);
  EXPECT_EQ(results[1].token_id, 1);
  EXPECT_EQ(results[2].token_id, 2);
}

}  // namespace
}  // namespace shoal::worker
