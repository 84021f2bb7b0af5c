// Matrix multiplication straight on quantized weights, the op that dominates every
// forward pass: y = x · Wᵀ for a batch of activation rows.
//
// Like llama.cpp's CPU backend (REFERENCE.md §2.2), each activation row is first
// rounded to the weight type's dot-product partner (Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for
// Q4_1/Q5_1, Q8_K for the k-quants, F16 for F16, BF16 for BF16; F32 stays F32), and
// the dot products run on the quantized blocks, so Shoal's logits agree with
// llama.cpp's as closely as the arithmetic allows.
#ifndef SHOAL_KERNELS_MATMUL_H_
#define SHOAL_KERNELS_MATMUL_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "absl/status/status.h"
#include "common/ggml_types.h"
#include "common/thread_pool.h"
#include "kernels/cpu_features.h"

namespace shoal::kernels {

// How a weight matrix's bytes are arranged: as a GGUF file stores them (row after row),
// or repacked at load into groups of 16 rows (kernels/interleave.h).
enum class WeightLayout { kRows, kInterleaved16 };

// A weight matrix: n_rows rows (output features) of n_cols elements (input features,
// ggml's ne[0]) of `type`, each row row_bytes() long; n_rows · row_bytes() bytes in all
// in either layout.
struct WeightMatrix {
  GgmlType type = GgmlType::kF32;
  int64_t n_rows = 0;
  int64_t n_cols = 0;
  const uint8_t* data = nullptr;
  WeightLayout layout = WeightLayout::kRows;

  int64_t row_bytes() const {
    const GgmlTypeTraits& traits = TraitsOf(type);
    return n_cols / traits.block_size * traits.type_size;
  }
};

// Types MatMul accepts as weights.
bool IsMatMulWeightType(GgmlType type);

// Memory for the quantized activations, reused across calls so the hot path does not
// allocate once warm. Owned by one compute thread. Reserve() returns 64-byte aligned
// memory; its contents do not survive a Reserve() that grows it.
class MatMulScratch {
 public:
  static constexpr size_t kAlignment = 64;

  uint8_t* Reserve(size_t bytes) {
    if (capacity_ < bytes) {
      const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
      buffer_.reset(static_cast<uint8_t*>(std::aligned_alloc(kAlignment, rounded)));
      capacity_ = buffer_ ? rounded : 0;
    }
    return buffer_.get();
  }
  size_t capacity() const { return capacity_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> buffer_;
  size_t capacity_ = 0;
};

struct MatMulArgs {
  const WeightMatrix* weights = nullptr;
  // n_tokens rows of weights->n_cols floats, contiguous.
  const float* x = nullptr;
  int64_t n_tokens = 0;
  // n_tokens rows of weights->n_rows floats, each y_stride floats apart.
  float* y = nullptr;
  int64_t y_stride = 0;
};

// y[t][r] = Σ_k x[t][k] · W[r][k]. Fails (InvalidArgument) on unsupported types,
// null pointers or inconsistent sizes (ResourceExhausted if the scratch cannot grow);
// given buffers of the sizes the arguments describe, never reads or writes out of
// bounds. `level` above BestCpuLevel() is rejected. x is read completely before y is
// written, so the two may overlap.
absl::Status MatMul(const MatMulArgs& args, MatMulScratch& scratch, ThreadPool& pool,
                    CpuLevel level = BestCpuLevel());

// The same on the calling thread alone, for callers that already spread independent
// matmuls over threads (the experts of a MoE layer); `scratch` must be the thread's own.
absl::Status MatMulOnThisThread(const MatMulArgs& args, MatMulScratch& scratch,
                                CpuLevel level = BestCpuLevel());

}  // namespace shoal::kernels

#endif  // SHOAL_KERNELS_MATMUL_H_
