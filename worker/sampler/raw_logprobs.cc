#include "worker/sampler/raw_logprobs.h"

#include <cmath>
#include <limits>

#include "worker/sampler/logit_math.h"

namespace shoal::worker {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

float RankKey(float logit) { return std::isnan(logit) ? -kInf : logit; }

// Inserts (id, key) into the first `count` entries of `top`, kept sorted by key
// descending; ids arrive in increasing order, so an equal key goes after.
void InsertSorted(TokenLogprob* top, int count, int32_t id, float key) {
  int pos = count;
  while (pos > 0 && key > top[pos - 1].logprob) {
    top[pos] = top[pos - 1];
    --pos;
  }
  top[pos] = {id, key};
}

}  // namespace

LogSoftmax LogSoftmax::Of(std::span<const float> logits) {
  LogSoftmax ls;
  ls.max_ = MaxLogit(logits);
  if (ls.max_ == kInf) {
    ls.log_num_inf_ = static_cast<float>(std::log(static_cast<double>(CountEqual(logits, kInf))));
  } else if (ls.max_ > -kInf) {
    ls.log_sum_ = static_cast<float>(std::log(SumExp(logits, ls.max_)));
  }
  return ls;
}

float LogSoftmax::LogProb(float logit) const {
  if (std::isnan(logit) || max_ == -kInf) return -kInf;
  if (max_ == kInf) return logit == kInf ? -log_num_inf_ : -kInf;
  return (logit - max_) - log_sum_;
}

int SelectTopLogprobs(std::span<const float> logits, const LogSoftmax& log_softmax,
                      std::span<TokenLogprob> out) {
  const int64_t n = static_cast<int64_t>(logits.size());
  const int k = static_cast<int>(std::min<int64_t>(static_cast<int64_t>(out.size()), n));
  if (k == 0) return 0;
  // While selecting, TokenLogprob::logprob holds the ranking key (the logit).
  TokenLogprob* top = out.data();
  int count = 0;
  int64_t i = 0;
  for (; count < k; ++i) InsertSorted(top, count++, static_cast<int32_t>(i), RankKey(logits[i]));
  for (; i < n; ++i) {
    // Strictly greater: an equal key with a larger id ranks lower.
    const float key = logits[i];
    if (key > top[k - 1].logprob) {
      InsertSorted(top, k - 1, static_cast<int32_t>(i), key);
    }
  }
  for (int j = 0; j < k; ++j) top[j].logprob = log_softmax.LogProb(top[j].logprob);
  return k;
}

}  // namespace shoal::worker
