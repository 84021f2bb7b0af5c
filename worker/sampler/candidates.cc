#include "worker/sampler/candidates.h"

#include <algorithm>
#include <limits>

#include "common/check.h"
#include "worker/sampler/logit_math.h"

namespace shoal::worker {
namespace {

// Keeps the k most likely of buf[0, size) plus any ties with the k-th at the front and
// returns the new size; *threshold becomes the k-th logit.
int64_t Compact(Candidate* buf, int64_t size, int64_t k, float* threshold) {
  std::nth_element(buf, buf + k - 1, buf + size, MoreLikely);
  const float kth = buf[k - 1].logit;
  Candidate* end =
      std::partition(buf + k, buf + size, [kth](const Candidate& c) { return c.logit >= kth; });
  *threshold = kth;
  return end - buf;
}

}  // namespace

int64_t SelectTopK(std::span<const float> logits, int64_t k, std::span<Candidate> out) {
  const int64_t n = static_cast<int64_t>(logits.size());
  SHOAL_CHECK(k >= 1);
  SHOAL_CHECK(static_cast<int64_t>(out.size()) >= n);
  Candidate* buf = out.data();
  // Accepting >= lowest() rejects -inf and NaN.
  float threshold = std::numeric_limits<float>::lowest();
  int64_t trigger = std::min(n, std::max(2 * k, k + 1024));
  int64_t size = 0;
  for (int64_t i = FindFirstAtLeast(logits, 0, threshold); i < n;
       i = FindFirstAtLeast(logits, i + 1, threshold)) {
    buf[size++] = {static_cast<int32_t>(i), logits[i], 0.0f};
    if (size >= trigger) {
      size = Compact(buf, size, k, &threshold);
      // Many ties with the k-th can keep the buffer full: then compact less often.
      if (size * 2 > trigger) trigger = std::min(n, size * 2);
    }
  }
  if (size > k) size = Compact(buf, size, k, &threshold);
  std::sort(buf, buf + size, MoreLikely);
  return size;
}

int64_t GatherAbove(std::span<const float> logits, std::span<const float> weights,
                    float threshold, std::span<Candidate> out) {
  const int64_t n = static_cast<int64_t>(logits.size());
  SHOAL_CHECK(static_cast<int64_t>(out.size()) >= n);
  int64_t size = 0;
  for (int64_t i = FindFirstAbove(weights, 0, threshold); i < n;
       i = FindFirstAbove(weights, i + 1, threshold)) {
    out[size++] = {static_cast<int32_t>(i), logits[i], weights[i]};
  }
  return size;
}

int64_t SelectNucleus(std::span<Candidate> candidates, double total, double top_p,
                      double* kept_mass) {
  Candidate* c = candidates.data();
  const int64_t n = static_cast<int64_t>(candidates.size());
  const double target = top_p * total;
  double head = 0;
  // Sort the most likely tokens a chunk at a time, each chunk 4x the last, until the
  // mass before a token reaches the target: O(n) per chunk plus sorting what is used.
  int64_t done = 0;
  for (int64_t chunk = 64; done < n; chunk *= 4) {
    const int64_t end = std::min(n, done + chunk);
    if (end < n) std::nth_element(c + done, c + end, c + n, MoreLikely);
    std::sort(c + done, c + end, MoreLikely);
    for (int64_t j = done; j < end; ++j) {
      if (head >= target) {
        *kept_mass = head;
        return j;
      }
      head += c[j].weight;
    }
    done = end;
  }
  *kept_mass = head;
  return n;
}

}  // namespace shoal::worker
