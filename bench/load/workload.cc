#include "bench/load/workload.h"

#include <algorithm>
#include <cctype>
#include <random>

#include "fmt/format.h"

namespace shoal::bench {
namespace {

// Tokens whose text is an ordinary word piece (letters, maybe after a space marker):
// their ids decode to text that tokenizes back into ids of the same kind, and no
// control token can end or restructure a prompt.
std::vector<int32_t> OrdinaryTokens(const model::Tokenizer& tokenizer) {
  std::vector<int32_t> out;
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    if (tokenizer.IsControl(id) || tokenizer.IsEog(id)) continue;
    const absl::StatusOr<std::string_view> piece = tokenizer.TokenToPiece(id, false);
    if (!piece.ok() || piece->size() < 2 || piece->size() > 12) continue;
    std::string_view word = *piece;
    if (word.front() == ' ') word.remove_prefix(1);
    if (word.empty() || !std::all_of(word.begin(), word.end(), [](unsigned char c) {
          return std::isalpha(c) != 0;
        })) {
      continue;
    }
    out.push_back(id);
  }
  return out;
}

int32_t Around(int32_t mean, double ratio, std::mt19937_64& rng) {
  const auto lo = static_cast<int32_t>(std::max(1.0, mean * (1 - ratio)));
  const auto hi = static_cast<int32_t>(std::max<double>(lo, mean * (1 + ratio)));
  return std::uniform_int_distribution<int32_t>(lo, hi)(rng);
}

}  // namespace

absl::Status RandomWorkloadOptions::Validate() const {
  if (num_requests < 1) return absl::InvalidArgumentError("--num-requests must be >= 1");
  if (input_len < 1 || output_len < 1) {
    return absl::InvalidArgumentError("--input-len and --output-len must be >= 1");
  }
  if (!(range_ratio >= 0 && range_ratio < 1)) {
    return absl::InvalidArgumentError("--range-ratio must be in [0, 1)");
  }
  if (prefix_len < 0) return absl::InvalidArgumentError("--prefix-len must be >= 0");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RequestSpec>> MakeRandomWorkload(const model::Tokenizer& tokenizer,
                                                            const RandomWorkloadOptions& options) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  const std::vector<int32_t> ordinary = OrdinaryTokens(tokenizer);
  if (ordinary.size() < 100) {
    return absl::FailedPreconditionError(fmt::format(
        "the vocabulary has only {} ordinary word tokens to draw prompts from", ordinary.size()));
  }
  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<size_t> pick(0, ordinary.size() - 1);
  std::vector<int32_t> prefix;
  if (tokenizer.add_bos() && tokenizer.bos_id() >= 0) prefix.push_back(tokenizer.bos_id());
  for (int32_t i = 0; i < options.prefix_len; ++i) prefix.push_back(ordinary[pick(rng)]);

  std::vector<RequestSpec> specs;
  specs.reserve(options.num_requests);
  for (int64_t i = 0; i < options.num_requests; ++i) {
    RequestSpec spec;
    spec.index = i;
    spec.prompt_token_ids = prefix;
    const int32_t own = Around(options.input_len, options.range_ratio, rng);
    for (int32_t k = 0; k < own; ++k) spec.prompt_token_ids.push_back(ordinary[pick(rng)]);
    spec.prompt_tokens = static_cast<int32_t>(spec.prompt_token_ids.size());
    spec.max_tokens = Around(options.output_len, options.range_ratio, rng);
    spec.ignore_eos = options.ignore_eos;
    if (options.chat) {
      // The text without the BOS the server's template adds itself.
      const size_t skip = (!prefix.empty() && prefix.front() == tokenizer.bos_id()) ? 1 : 0;
      const std::vector<int32_t> body(spec.prompt_token_ids.begin() + skip,
                                      spec.prompt_token_ids.end());
      absl::StatusOr<std::string> text = tokenizer.Decode(body);
      if (!text.ok()) return text.status();
      spec.prompt_text = *text;
      spec.messages.emplace_back("user", *text);
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace shoal::bench
