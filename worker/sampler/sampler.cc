#include "worker/sampler/sampler.h"

#include <algorithm>
#include <limits>
#include <random>
#include <string_view>
#include <utility>

#include "common/check.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "worker/sampler/logit_math.h"

namespace shoal::worker {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

absl::Status CheckTokenIds(std::string_view field, std::span<const int32_t> ids,
                           int32_t vocab_size) {
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size) {
      return absl::InvalidArgumentError(fmt::format(
          "sampler: {} has token id {}, outside the vocabulary [0, {})", field, id, vocab_size));
    }
  }
  return absl::OkStatus();
}

// The largest processed logit; an error when no token can be chosen.
absl::StatusOr<float> MaxToChooseFrom(std::span<const float> logits) {
  const float max = MaxLogit(logits);
  if (max == -kInf) {
    return absl::InternalError(
        "sampler: no token has a finite logit after processing (all NaN or -inf)");
  }
  return max;
}

uint64_t RandomSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

absl::StatusOr<Sampler> Sampler::Create(const SamplerOptions& options) {
  SHOAL_RETURN_IF_ERROR(options.params.Validate(options.vocab_size));
  SHOAL_RETURN_IF_ERROR(CheckTokenIds("eos_token_ids", options.eos_token_ids, options.vocab_size));
  SHOAL_RETURN_IF_ERROR(
      CheckTokenIds("prompt_token_ids", options.prompt_token_ids, options.vocab_size));
  SHOAL_RETURN_IF_ERROR(
      CheckTokenIds("output_token_ids", options.output_token_ids, options.vocab_size));
  return Sampler(options, options.params.seed.value_or(RandomSeed()));
}

Sampler::Sampler(const SamplerOptions& options, uint64_t seed)
    : params_(options.params),
      vocab_size_(options.vocab_size),
      seed_(seed),
      rng_(seed),
      num_output_tokens_(static_cast<int64_t>(options.output_token_ids.size())) {
  const SamplingParams& p = params_;
  truncation_ = {.temperature = p.temperature,
                 .top_k = (p.top_k <= 0 || p.top_k >= vocab_size_) ? 0 : p.top_k,
                 .top_p = p.top_p,
                 .min_p = p.min_p};
  penalties_ = {.repetition = p.repetition_penalty,
                .presence = p.presence_penalty,
                .frequency = p.frequency_penalty};
  if (p.min_tokens > 0) {
    min_tokens_blocked_.assign(options.eos_token_ids.begin(), options.eos_token_ids.end());
    min_tokens_blocked_.insert(min_tokens_blocked_.end(), p.stop_token_ids.begin(),
                               p.stop_token_ids.end());
    std::sort(min_tokens_blocked_.begin(), min_tokens_blocked_.end());
    min_tokens_blocked_.erase(
        std::unique(min_tokens_blocked_.begin(), min_tokens_blocked_.end()),
        min_tokens_blocked_.end());
  }
  logit_bias_.assign(p.logit_bias.begin(), p.logit_bias.end());
  std::sort(logit_bias_.begin(), logit_bias_.end());
  if (penalties_.any()) {
    if (penalties_.repetition != 1.0f) history_.AddPrompt(options.prompt_token_ids);
    for (int32_t id : options.output_token_ids) history_.AddOutput(id);
  }
}

void Sampler::ApplyProcessors(LogitEditor& logits) const {
  if (num_output_tokens_ < params_.min_tokens) {
    for (int32_t id : min_tokens_blocked_) logits.Set(id, -kInf);
  }
  for (const auto& [id, bias] : logit_bias_) logits.Set(id, logits.Get(id) + bias);
  if (penalties_.any()) history_.ApplyPenalties(penalties_, logits);
}

absl::StatusOr<int32_t> Sampler::Choose(std::span<float> logits, SamplerScratch& scratch) const {
  SHOAL_ASSIGN_OR_RETURN(const float max, MaxToChooseFrom(logits));
  if (greedy()) return static_cast<int32_t>(FirstIndexOf(logits, max));
  const Distribution distribution = BuildDistribution(logits, max, truncation_, scratch);
  return distribution.Draw(rng_.Uniform(static_cast<uint64_t>(num_output_tokens_)));
}

absl::StatusOr<SampleResult> Sampler::Sample(std::span<float> logits, SamplerScratch& scratch) {
  SHOAL_CHECK(static_cast<int64_t>(logits.size()) == vocab_size_);
  scratch.Prepare(vocab_size_);
  SampleResult result;
  LogSoftmax raw;
  if (params_.logprobs) {
    raw = LogSoftmax::Of(logits);
    result.has_logprobs = true;
    result.num_top_logprobs = SelectTopLogprobs(
        logits, raw, std::span(result.top_logprobs).first(static_cast<size_t>(*params_.logprobs)));
  }
  LogitEditor editor(logits, params_.logprobs ? &scratch.edits : nullptr);
  ApplyProcessors(editor);
  SHOAL_ASSIGN_OR_RETURN(result.token_id, Choose(logits, scratch));
  if (params_.logprobs) result.logprob = raw.LogProb(editor.Original(result.token_id));
  if (penalties_.any()) history_.AddOutput(result.token_id);
  ++num_output_tokens_;
  return result;
}

absl::StatusOr<Distribution> Sampler::NextDistribution(std::span<float> logits,
                                                       SamplerScratch& scratch) const {
  SHOAL_CHECK(static_cast<int64_t>(logits.size()) == vocab_size_);
  if (greedy()) {
    return absl::FailedPreconditionError("sampler: a greedy sequence has no distribution");
  }
  LogitEditor editor(logits, nullptr);
  ApplyProcessors(editor);
  SHOAL_ASSIGN_OR_RETURN(const float max, MaxToChooseFrom(logits));
  return BuildDistribution(logits, max, truncation_, scratch);
}

absl::Status SampleBatch(std::span<Sampler* const> samplers, std::span<float> logits,
                         int64_t row_stride, SamplerScratch& scratch,
                         std::span<SampleResult> results) {
  SHOAL_CHECK(results.size() >= samplers.size());
  for (size_t i = 0; i < samplers.size(); ++i) {
    const int64_t vocab_size = samplers[i]->vocab_size();
    SHOAL_CHECK(static_cast<int64_t>(i) * row_stride + vocab_size <=
                static_cast<int64_t>(logits.size()));
    SHOAL_ASSIGN_OR_RETURN(results[i],
                           samplers[i]->Sample(logits.subspan(i * row_stride, vocab_size), scratch));
  }
  return absl::OkStatus();
}

}  // namespace shoal::worker
