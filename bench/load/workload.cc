#include "bench/load/workload.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
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
    if (word.empty() || !std::all_of(word.begin(), word.end(),
                                     [](unsigned char c) { return std::isalpha(c) != 0; })) {
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

// How many of `units` each tenant gets: floor of its exact share, then one more each for
// the largest remainders (earlier tenants first on ties).
std::vector<int64_t> TenantCounts(int64_t units, const std::vector<Tenant>& tenants) {
  const double total = TotalWeight(tenants);
  std::vector<int64_t> counts(tenants.size());
  std::vector<std::pair<double, size_t>> remainders;
  int64_t given = 0;
  for (size_t i = 0; i < tenants.size(); ++i) {
    const double exact = static_cast<double>(units) * tenants[i].weight / total;
    counts[i] = static_cast<int64_t>(std::floor(exact));
    given += counts[i];
    remainders.emplace_back(exact - std::floor(exact), i);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < units; ++k, ++given) ++counts[remainders[k % tenants.size()].second];
  return counts;
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

absl::StatusOr<WordSampler> WordSampler::Create(const model::Tokenizer& tokenizer) {
  std::vector<std::string> words;
  for (const int32_t id : OrdinaryTokens(tokenizer)) {
    const std::string_view piece = *tokenizer.TokenToPiece(id, false);
    if (piece.size() >= 3 && piece.front() == ' ') words.emplace_back(piece.substr(1));
  }
  if (words.size() < 100) {
    return absl::FailedPreconditionError(fmt::format(
        "the vocabulary has only {} ordinary whole words to write text from", words.size()));
  }
  return WordSampler(std::move(words));
}

const std::string& WordSampler::Word(std::mt19937_64& rng) const {
  return words_[std::uniform_int_distribution<size_t>(0, words_.size() - 1)(rng)];
}

std::string WordSampler::Words(int32_t count, std::mt19937_64& rng) const {
  std::string text;
  for (int32_t i = 0; i < count; ++i) {
    if (i > 0) text += ' ';
    text += Word(rng);
  }
  return text;
}

absl::StatusOr<std::vector<Tenant>> ParseTenants(std::string_view text) {
  std::vector<Tenant> tenants;
  std::set<std::string> names;
  for (const absl::string_view item :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',', absl::SkipWhitespace())) {
    const std::vector<std::string> fields = absl::StrSplit(absl::StripAsciiWhitespace(item), ':');
    if (fields.size() < 2 || fields.size() > 3) {
      return absl::InvalidArgumentError(
          fmt::format("--tenants: '{}' is not NAME:KEY or NAME:KEY:WEIGHT", std::string(item)));
    }
    Tenant tenant{.name = fields[0], .api_key = fields[1]};
    if (tenant.name.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("--tenants: '{}' has no name", std::string(item)));
    }
    if (!names.insert(tenant.name).second) {
      return absl::InvalidArgumentError(
          fmt::format("--tenants: tenant '{}' is named twice", tenant.name));
    }
    if (fields.size() == 3 && (!absl::SimpleAtod(fields[2], &tenant.weight) ||
                               !std::isfinite(tenant.weight) || tenant.weight <= 0)) {
      return absl::InvalidArgumentError(fmt::format(
          "--tenants: the weight of '{}' must be a number > 0, not '{}'", tenant.name, fields[2]));
    }
    tenants.push_back(std::move(tenant));
  }
  if (tenants.empty()) return absl::InvalidArgumentError("--tenants names no tenant");
  return tenants;
}

double TotalWeight(const std::vector<Tenant>& tenants) {
  double total = 0;
  for (const Tenant& tenant : tenants) total += tenant.weight;
  return total;
}

absl::Status AssignTenants(std::vector<RequestSpec>& specs, const std::vector<Tenant>& tenants,
                           uint64_t seed) {
  if (tenants.empty()) return absl::InvalidArgumentError("no tenants to assign");
  // Units in order of first appearance: a session, or a spec without one.
  std::vector<int64_t> unit_of(specs.size());
  std::map<int64_t, int64_t> session_unit;
  int64_t units = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].session < 0) {
      unit_of[i] = units++;
    } else {
      auto [it, added] = session_unit.emplace(specs[i].session, units);
      if (added) ++units;
      unit_of[i] = it->second;
    }
  }
  std::vector<size_t> tenant_of_unit;
  tenant_of_unit.reserve(units);
  const std::vector<int64_t> counts = TenantCounts(units, tenants);
  for (size_t t = 0; t < tenants.size(); ++t) {
    tenant_of_unit.insert(tenant_of_unit.end(), counts[t], t);
  }
  std::mt19937_64 rng(seed);
  std::shuffle(tenant_of_unit.begin(), tenant_of_unit.end(), rng);
  for (size_t i = 0; i < specs.size(); ++i) {
    const Tenant& tenant = tenants[tenant_of_unit[unit_of[i]]];
    specs[i].tenant = tenant.name;
    specs[i].api_key = tenant.api_key;
  }
  return absl::OkStatus();
}

}  // namespace shoal::bench
