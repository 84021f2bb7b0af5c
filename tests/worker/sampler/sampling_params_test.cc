#include "worker/sampler/sampling_params.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::worker {
namespace {

using ::shoal::testing::IsOk;
using ::shoal::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int32_t kVocab = 100;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Checks that `p` is rejected with a message naming `field` and quoting `range`.
void ExpectRejected(const SamplingParams& p, const char* field, const char* range) {
  EXPECT_THAT(p.Validate(kVocab), StatusIs(absl::StatusCode::kInvalidArgument,
                                           AllOf(HasSubstr(field), HasSubstr(range))));
}

TEST(SamplingParamsTest, DefaultsAreOpenAiAndValid) {
  SamplingParams p;
  EXPECT_EQ(p.temperature, 1.0f);
  EXPECT_EQ(p.top_k, 0);
  EXPECT_EQ(p.top_p, 1.0f);
  EXPECT_EQ(p.min_p, 0.0f);
  EXPECT_EQ(p.repetition_penalty, 1.0f);
  EXPECT_EQ(p.presence_penalty, 0.0f);
  EXPECT_EQ(p.frequency_penalty, 0.0f);
  EXPECT_FALSE(p.seed.has_value());
  EXPECT_FALSE(p.logprobs.has_value());
  EXPECT_EQ(p.min_tokens, 0);
  EXPECT_THAT(p.Validate(kVocab), IsOk());
}

TEST(SamplingParamsTest, AcceptsTheEdgesOfEveryRange) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.top_k = -1;
  p.top_p = 1.0f;
  p.min_p = 1.0f;
  p.presence_penalty = -2.0f;
  p.frequency_penalty = 2.0f;
  p.repetition_penalty = 1e-3f;
  p.logprobs = kMaxLogprobs;
  p.logit_bias = {{0, -100.0f}, {kVocab - 1, 100.0f}};
  p.stop_token_ids = {0, kVocab - 1};
  EXPECT_THAT(p.Validate(kVocab), IsOk());
  p.top_k = kVocab + 5;  // keeps everything
  p.logprobs = 0;        // the chosen token's logprob only
  EXPECT_THAT(p.Validate(kVocab), IsOk());
}

TEST(SamplingParamsTest, TemperatureMustBeFiniteAndNonNegative) {
  for (float t : {-0.5f, kNaN, kInf}) {
    SamplingParams p;
    p.temperature = t;
    ExpectRejected(p, "temperature", "finite and >= 0");
  }
}

TEST(SamplingParamsTest, TopPMustBeInZeroOne) {
  for (float v : {0.0f, -0.1f, 1.01f, kNaN}) {
    SamplingParams p;
    p.top_p = v;
    ExpectRejected(p, "top_p", "(0, 1]");
  }
}

TEST(SamplingParamsTest, TopKBelowMinusOneIsRejected) {
  SamplingParams p;
  p.top_k = -2;
  ExpectRejected(p, "top_k", "0 or -1 (off)");
}

TEST(SamplingParamsTest, MinPMustBeInZeroOne) {
  for (float v : {-0.01f, 1.5f, kNaN}) {
    SamplingParams p;
    p.min_p = v;
    ExpectRejected(p, "min_p", "[0, 1]");
  }
}

TEST(SamplingParamsTest, PenaltiesAreRangeChecked) {
  for (float v : {0.0f, -1.0f, kNaN, kInf}) {
    SamplingParams p;
    p.repetition_penalty = v;
    ExpectRejected(p, "repetition_penalty", "> 0");
  }
  for (float v : {-2.5f, 2.01f, kNaN}) {
    SamplingParams p;
    p.presence_penalty = v;
    ExpectRejected(p, "presence_penalty", "[-2, 2]");
    p = SamplingParams();
    p.frequency_penalty = v;
    ExpectRejected(p, "frequency_penalty", "[-2, 2]");
  }
}

TEST(SamplingParamsTest, LogprobsAtMostTwenty) {
  SamplingParams p;
  p.logprobs = 21;
  ExpectRejected(p, "logprobs", "[0, 20]");
  p.logprobs = -1;
  ExpectRejected(p, "logprobs", "[0, 20]");
}

TEST(SamplingParamsTest, LogitBiasIdsAndValuesAreChecked) {
  SamplingParams p;
  p.logit_bias = {{kVocab, 1.0f}};
  ExpectRejected(p, "logit_bias", "outside the vocabulary [0, 100)");
  p.logit_bias = {{-1, 1.0f}};
  ExpectRejected(p, "logit_bias", "outside the vocabulary");
  p.logit_bias = {{3, 100.5f}};
  ExpectRejected(p, "logit_bias[3]", "[-100, 100]");
  p.logit_bias = {{3, kNaN}};
  ExpectRejected(p, "logit_bias[3]", "[-100, 100]");
}

TEST(SamplingParamsTest, StopTokenIdsAndMinTokensAreChecked) {
  SamplingParams p;
  p.stop_token_ids = {5, kVocab};
  ExpectRejected(p, "stop_token_ids", "outside the vocabulary");
  p = SamplingParams();
  p.min_tokens = -1;
  ExpectRejected(p, "min_tokens", ">= 0");
}

TEST(SamplingParamsTest, EmptyVocabularyIsRejected) {
  EXPECT_THAT(SamplingParams().Validate(0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vocabulary size")));
}

}  // namespace
}  // namespace shoal::worker
