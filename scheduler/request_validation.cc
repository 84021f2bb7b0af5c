#include "scheduler/request_validation.h"

#include <cmath>
#include <string_view>

#include "common/status_macros.h"
#include "fmt/format.h"

namespace shoal::scheduler {
namespace {

absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(std::move(message)); }

absl::Status OutOfRange(std::string_view field, std::string_view allowed, double value) {
  return Invalid(fmt::format("sampling: {} must be {}, got {}", field, allowed, value));
}

absl::Status CheckId(std::string_view what, std::string_view id, size_t max, bool allow_empty) {
  if (id.empty() && !allow_empty) return Invalid(fmt::format("{} is empty", what));
  if (id.size() > max) return Invalid(fmt::format("{} is longer than {} characters", what, max));
  for (char c : id) {
    if (c < 0x20 || c > 0x7E) return Invalid(fmt::format("{} must be printable ASCII", what));
  }
  return absl::OkStatus();
}

absl::Status CheckToken(std::string_view field, int32_t id, int32_t vocab_size) {
  if (id >= 0 && id < vocab_size) return absl::OkStatus();
  return Invalid(
      fmt::format("{} has token id {}, outside the vocabulary [0, {})", field, id, vocab_size));
}

// Written as !(in range) so that NaN fails every check.
absl::Status CheckSampling(const v1::SamplingParams& p, int32_t vocab_size) {
  if (p.has_temperature() && (!(p.temperature() >= 0.0f) || std::isinf(p.temperature()))) {
    return OutOfRange("temperature", "finite and >= 0", p.temperature());
  }
  if (p.has_top_k() && p.top_k() < -1) return OutOfRange("top_k", ">= 1, or 0 or -1 (off)", p.top_k());
  if (p.has_top_p() && !(p.top_p() > 0.0f && p.top_p() <= 1.0f)) {
    return OutOfRange("top_p", "in (0, 1]", p.top_p());
  }
  if (p.has_min_p() && !(p.min_p() >= 0.0f && p.min_p() <= 1.0f)) {
    return OutOfRange("min_p", "in [0, 1]", p.min_p());
  }
  if (p.has_repetition_penalty() &&
      (!(p.repetition_penalty() > 0.0f) || std::isinf(p.repetition_penalty()))) {
    return OutOfRange("repetition_penalty", "finite and > 0", p.repetition_penalty());
  }
  if (p.has_presence_penalty() && !(p.presence_penalty() >= -2.0f && p.presence_penalty() <= 2.0f)) {
    return OutOfRange("presence_penalty", "in [-2, 2]", p.presence_penalty());
  }
  if (p.has_frequency_penalty() &&
      !(p.frequency_penalty() >= -2.0f && p.frequency_penalty() <= 2.0f)) {
    return OutOfRange("frequency_penalty", "in [-2, 2]", p.frequency_penalty());
  }
  if (p.logprobs() < 0 || p.logprobs() > kMaxLogprobs) {
    return OutOfRange("logprobs", fmt::format("in [0, {}]", kMaxLogprobs), p.logprobs());
  }
  if (p.min_tokens() < 0) return OutOfRange("min_tokens", ">= 0", p.min_tokens());
  if (p.stop_token_ids_size() > kMaxStopTokenIds || p.logit_bias_size() > kMaxLogitBias) {
    return Invalid("sampling: too many stop_token_ids or logit_bias entries");
  }
  for (int32_t id : p.stop_token_ids()) {
    SHOAL_RETURN_IF_ERROR(CheckToken("sampling: stop_token_ids", id, vocab_size));
  }
  for (const auto& [id, bias] : p.logit_bias()) {
    SHOAL_RETURN_IF_ERROR(CheckToken("sampling: logit_bias", id, vocab_size));
    if (!(bias >= -100.0f && bias <= 100.0f)) {
      return OutOfRange(fmt::format("logit_bias[{}]", id), "in [-100, 100]", bias);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Request>> MakeRequest(const v1::SchedulerGenerateRequest& wire,
                                                     const RequestLimits& limits) {
  SHOAL_RETURN_IF_ERROR(CheckId("request_id", wire.request_id(), kMaxRequestIdLength, false));
  SHOAL_RETURN_IF_ERROR(CheckId("tenant_id", wire.tenant_id(), kMaxTenantIdLength, true));
  if (wire.cache_salt().size() > kMaxCacheSaltBytes) {
    return Invalid(fmt::format("cache_salt is longer than {} bytes", kMaxCacheSaltBytes));
  }
  const int64_t n_prompt = wire.prompt_token_ids_size();
  if (n_prompt == 0) return Invalid("the prompt is empty");
  if (n_prompt >= limits.max_model_len) {
    return Invalid(fmt::format(
        "the prompt has {} tokens; the model's context is {} tokens, with room for at least one "
        "to generate",
        n_prompt, limits.max_model_len));
  }
  for (int32_t id : wire.prompt_token_ids()) {
    SHOAL_RETURN_IF_ERROR(CheckToken("the prompt", id, limits.vocab_size));
  }
  const v1::SamplingParams& sampling = wire.sampling();
  SHOAL_RETURN_IF_ERROR(CheckSampling(sampling, limits.vocab_size));
  int64_t max_tokens = limits.max_model_len - n_prompt;
  if (sampling.has_max_tokens()) {
    if (sampling.max_tokens() < 1) {
      return Invalid(fmt::format("max_tokens must be >= 1, got {}", sampling.max_tokens()));
    }
    if (n_prompt + sampling.max_tokens() > limits.max_model_len) {
      return Invalid(fmt::format(
          "the prompt's {} tokens plus max_tokens {} exceed the model's context of {} tokens",
          n_prompt, sampling.max_tokens(), limits.max_model_len));
    }
    max_tokens = sampling.max_tokens();
  }
  auto r = std::make_unique<Request>();
  r->id = wire.request_id();
  r->prompt_token_ids.assign(wire.prompt_token_ids().begin(), wire.prompt_token_ids().end());
  r->all_token_ids = r->prompt_token_ids;
  r->sampling = sampling;
  r->priority = wire.priority();
  r->tenant = wire.tenant_id();
  r->cache_salt = wire.cache_salt();
  r->max_tokens = max_tokens;
  r->stop_token_ids.assign(sampling.stop_token_ids().begin(), sampling.stop_token_ids().end());
  if (!sampling.ignore_eos()) {
    r->stop_token_ids.insert(r->stop_token_ids.end(), limits.eog_token_ids.begin(),
                             limits.eog_token_ids.end());
  }
  return r;
}

}  // namespace shoal::scheduler
