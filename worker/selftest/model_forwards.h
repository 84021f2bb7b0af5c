// The whole-model half of `shoal selftest`: one model run through a candidate engine
// (the CUDA one) and the CPU engine on the same batches, every logits row compared.
// The batches are what serving produces: a prompt prefilled in two chunks with every
// position's logits, a second prompt joining, then decode steps of both sequences
// mixed in one batch, over shuffled block tables and across block boundaries.
#ifndef SHOAL_WORKER_SELFTEST_MODEL_FORWARDS_H_
#define SHOAL_WORKER_SELFTEST_MODEL_FORWARDS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "worker/forward/forward_engine.h"

namespace shoal::worker {

struct ModelForwardComparison {
  int64_t rows = 0;             // logits rows compared
  double max_nrmse = 0.0;       // the worst row's ‖a − b‖ / ‖b‖ (b the reference); NaN sticks
  double median_nrmse = 0.0;    // the middle row's
  double top1_agreement = 0.0;  // share of rows with the same argmax
};

// How far a candidate's logits may be from the CPU engine's. Float32 weights leave only
// summation orders apart: 1e-3. Quantized ones (and bf16 ones, which round weights and
// activations) also differ where the CPU kernels round activations to 8 bits for
// integer dot products and the device's do not: a median row of 5e-2 on the
// random-weight models, and a worst row of 0.25, since a MoE token whose k-th and
// (k+1)-th experts are near a tie may route differently and move its row far more than
// rounding does. A trained model can amplify one tipped rounding through its layers
// and positions further (Gemma 3 270M: ~5% at the first position, up to ~30% later,
// between the CPU's own two kernel sets), so where `cpu_spread` (the CPU's plain-layout
// engine against its interleaved one) is given, the bounds also allow three times that
// spread: still far below the ~100% of a wrong kernel or block table.
struct ModelForwardBounds {
  double max_nrmse = 0.0;
  double median_nrmse = 0.0;

  bool Admits(const ModelForwardComparison& c) const;
  std::string ToString() const;  // "nrmse 0.001", "nrmse max 0.83, median 0.18"
};
ModelForwardBounds ModelForwardBoundsFor(const model::ModelFile& model,
                                         const ModelForwardComparison* cpu_spread,
                                         bool bf16_weights = false);

// Runs the batches on both engines (each with at least 16 KV blocks of 16 tokens) and
// compares. Errors: either engine's.
absl::StatusOr<ModelForwardComparison> CompareModelForwards(ForwardEngine& candidate,
                                                            ForwardEngine& reference);

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SELFTEST_MODEL_FORWARDS_H_
