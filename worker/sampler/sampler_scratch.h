// SamplerScratch: the vocabulary-sized buffers sampling one row of logits needs. They
// are large (about 17 bytes a token: 4.5 MB for a 262144-token vocabulary) and only
// live during one Sample() call, so the worker's compute thread owns one and lends it
// to every sequence's Sampler in turn, instead of each sequence owning a copy. Sized
// on first use; later calls do not allocate. Not thread-safe.
#ifndef SHOAL_WORKER_SAMPLER_SAMPLER_SCRATCH_H_
#define SHOAL_WORKER_SAMPLER_SAMPLER_SCRATCH_H_

#include <cstdint>
#include <vector>

#include "worker/sampler/candidates.h"
#include "worker/sampler/logit_editor.h"
#include "worker/sampler/logit_math.h"

namespace shoal::worker {

struct SamplerScratch {
  // Grows the buffers to hold a row of `vocab_size` logits (no-op once they do).
  void Prepare(int64_t vocab_size) {
    if (static_cast<int64_t>(weights.size()) >= vocab_size) return;
    weights.resize(vocab_size);
    block_sums.resize(NumWeightBlocks(vocab_size));
    candidates.resize(vocab_size);
    edits.reserve(1024);
  }

  std::vector<float> weights;        // per token, dense sampling
  std::vector<double> block_sums;    // per kWeightBlock tokens of `weights`
  std::vector<Candidate> candidates; // top-k / top-p selections
  std::vector<EditedLogit> edits;    // original values of edited logits (logprobs)
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_SAMPLER_SCRATCH_H_
