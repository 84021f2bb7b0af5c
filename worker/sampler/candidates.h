// Candidate selection for top-k and top-p without sorting the vocabulary: top-k
// streams the row through a small buffer compacted with nth_element; top-p sorts only
// as many of the most likely tokens as its nucleus turns out to need. Tokens are
// ranked by logit, the lower id first among equal logits, so every selection is
// deterministic. Stateless functions over caller-owned buffers.
#ifndef SHOAL_WORKER_SAMPLER_CANDIDATES_H_
#define SHOAL_WORKER_SAMPLER_CANDIDATES_H_

#include <cstdint>
#include <span>

namespace shoal::worker {

struct Candidate {
  int32_t token_id;
  float logit;
  float weight;  // exp((logit - max) / temperature), filled by the caller
};

// The ranking: a higher logit first, then the lower id.
inline bool MoreLikely(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.token_id < b.token_id);
}

// Writes every token whose logit is >= the k-th largest (so ties with the k-th are
// all kept; NaN and -inf never) into `out`, most likely first, and returns how many.
// `out` must hold logits.size() entries; k >= 1.
int64_t SelectTopK(std::span<const float> logits, int64_t k, std::span<Candidate> out);

// Writes the tokens whose weight is > threshold into `out` (in id order, weights
// filled) and returns how many. `out` must hold logits.size() entries.
int64_t GatherAbove(std::span<const float> logits, std::span<const float> weights,
                    float threshold, std::span<Candidate> out);

// Top-p over `candidates` (weights filled; any order on entry), whose weights sum to
// `total` together with any tokens left out of the list for being less likely than
// all of them. Reorders the nucleus to the front, most likely first, and returns its
// size: the tokens with less than top_p * total of mass strictly before them (vLLM:
// drop a token when the ascending cumulative mass up to it is <= 1 - top_p). Sets
// *kept_mass to the nucleus' weight.
int64_t SelectNucleus(std::span<Candidate> candidates, double total, double top_p,
                      double* kept_mass);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_CANDIDATES_H_
