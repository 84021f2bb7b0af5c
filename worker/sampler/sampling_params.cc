#include "worker/sampler/sampling_params.h"

#include <cmath>
#include <string_view>

#include "common/status_macros.h"
#include "fmt/format.h"

namespace shoal::worker {
namespace {

absl::Status OutOfRange(std::string_view field, std::string_view allowed, double value) {
  return absl::InvalidArgumentError(
      fmt::format("sampling: {} must be {}, got {}", field, allowed, value));
}

// Written as !(in range) so that NaN fails every check.
absl::Status CheckScalars(const SamplingParams& p) {
  if (!(p.temperature >= 0.0f) || std::isinf(p.temperature)) {
    return OutOfRange("temperature", "finite and >= 0", p.temperature);
  }
  if (p.top_k < -1) return OutOfRange("top_k", ">= 1, or 0 or -1 (off)", p.top_k);
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) return OutOfRange("top_p", "in (0, 1]", p.top_p);
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) return OutOfRange("min_p", "in [0, 1]", p.min_p);
  if (!(p.repetition_penalty > 0.0f) || std::isinf(p.repetition_penalty)) {
    return OutOfRange("repetition_penalty", "finite and > 0", p.repetition_penalty);
  }
  if (!(p.presence_penalty >= -2.0f && p.presence_penalty <= 2.0f)) {
    return OutOfRange("presence_penalty", "in [-2, 2]", p.presence_penalty);
  }
  if (!(p.frequency_penalty >= -2.0f && p.frequency_penalty <= 2.0f)) {
    return OutOfRange("frequency_penalty", "in [-2, 2]", p.frequency_penalty);
  }
  if (p.logprobs && !(*p.logprobs >= 0 && *p.logprobs <= kMaxLogprobs)) {
    return OutOfRange("logprobs", fmt::format("in [0, {}]", kMaxLogprobs), *p.logprobs);
  }
  if (p.min_tokens < 0) return OutOfRange("min_tokens", ">= 0", p.min_tokens);
  return absl::OkStatus();
}

absl::Status CheckTokenId(std::string_view field, int32_t id, int32_t vocab_size) {
  if (id >= 0 && id < vocab_size) return absl::OkStatus();
  return absl::InvalidArgumentError(fmt::format(
      "sampling: {} has token id {}, outside the vocabulary [0, {})", field, id, vocab_size));
}

}  // namespace

absl::Status SamplingParams::Validate(int32_t vocab_size) const {
  if (vocab_size <= 0) {
    return absl::InvalidArgumentError(
        fmt::format("sampling: vocabulary size must be > 0, got {}", vocab_size));
  }
  SHOAL_RETURN_IF_ERROR(CheckScalars(*this));
  for (const auto& [id, bias] : logit_bias) {
    SHOAL_RETURN_IF_ERROR(CheckTokenId("logit_bias", id, vocab_size));
    if (!(bias >= -100.0f && bias <= 100.0f)) {
      return OutOfRange(fmt::format("logit_bias[{}]", id), "in [-100, 100]", bias);
    }
  }
  for (int32_t id : stop_token_ids) {
    SHOAL_RETURN_IF_ERROR(CheckTokenId("stop_token_ids", id, vocab_size));
  }
  return absl::OkStatus();
}

}  // namespace shoal::worker
