// The ops a compute backend provides, in the form the backend self-test
// (`shoal selftest --backend B`) drives them: host memory in and out, so one test can
// run the same inputs through the CPU reference and through a device backend (which
// copies in, runs its kernels, copies out). Like llama.cpp's test-backend-ops.
//
// Shapes: every op but attention works on rows. x of RmsNorm/Softmax/TopK/Argmax is n_rows × n
// contiguous; Rope's x is tokens × n_heads × head_dim; MatMul is y = x·Wᵀ with x
// n_tokens × W.n_cols and y n_tokens × W.n_rows.
#ifndef SHOAL_KERNELS_SELFTEST_OP_BACKEND_H_
#define SHOAL_KERNELS_SELFTEST_OP_BACKEND_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "kernels/attention/paged_attention.h"
#include "kernels/matmul.h"
#include "kernels/ops/rope.h"

namespace shoal::kernels::selftest {

// RmsNorm's two conventions: y = x̂·w (llama, qwen) and y = x̂·(1 + w) (Gemma's stored
// weights, which llama.cpp's converter turns into the first form; both are kept so a
// backend serving either checkpoint style is checked).
enum class NormWeight { kNone, kPlain, kOnePlus };

class OpBackend {
 public:
  virtual ~OpBackend() = default;

  // What the table calls it, with the device: "cpu reference", "cuda:0 (NVIDIA H200)".
  virtual std::string name() const = 0;

  virtual absl::Status RmsNorm(std::span<const float> x, std::span<const float> w,
                               NormWeight convention, float eps, int64_t n,
                               std::span<float> y) = 0;
  // Rotates x in place; positions has one entry per token.
  virtual absl::Status Rope(const RopeParams& params, std::span<const int64_t> positions,
                            int64_t n_heads, int64_t head_dim, std::span<float> x) = 0;
  virtual absl::Status SwiGlu(std::span<const float> gate, std::span<const float> up,
                              std::span<float> out) = 0;
  virtual absl::Status GeGluTanh(std::span<const float> gate, std::span<const float> up,
                                 std::span<float> out) = 0;
  virtual absl::Status Softmax(std::span<const float> x, int64_t n, std::span<float> y) = 0;
  // MoE routing: the k largest of each row (ties: the lower index first), largest first.
  virtual absl::Status TopK(std::span<const float> x, int64_t n, int64_t k,
                            std::span<int32_t> indices, std::span<float> values) = 0;
  // Greedy sampling: each row's largest (ties: the lowest index).
  virtual absl::Status Argmax(std::span<const float> x, int64_t n, std::span<int32_t> out) = 0;
  // Embedding lookup: row ids[i] of `table`, dequantized, into out[i].
  virtual absl::Status GetRows(const WeightMatrix& table, std::span<const int32_t> ids,
                               std::span<float> out) = 0;
  virtual absl::Status MatMul(const WeightMatrix& w, std::span<const float> x,
                              int64_t n_tokens, std::span<float> y) = 0;
  // The bf16 path of the same product (weights dequantized at load and rounded to bf16,
  // activations rounded to bf16, float32 accumulation: what tensor cores compute).
  virtual absl::Status MatMulBf16(const WeightMatrix& w, std::span<const float> x,
                                  int64_t n_tokens, std::span<float> y) = 0;
  // The KV write: token i's K (n_kv_heads · head_dim floats) and V into slots[i] of
  // `layer`, whose k and v arrays are host memory, converted to the layer's type.
  virtual absl::Status WriteKv(const KvLayer& layer, std::span<const int64_t> slots,
                               std::span<const float> k, std::span<const float> v) = 0;
  // Between the ops of a forward pass, in place: x = y + x·scale (the embedding and
  // query scales, the residual add), and x = cap·tanh(x / cap) (the logit softcap).
  virtual absl::Status ScaleAdd(std::span<const float> y, float scale, std::span<float> x) = 0;
  virtual absl::Status Softcap(float cap, std::span<float> x) = 0;
  // A MoE layer's row traffic around its expert GEMMs: token t's k routed slots are
  // t·k + j; visited in `order` (a permutation of them, expert by expert), each slot
  // gathers row t of x, scales it by weights[slot] and lands in its slot; each token's
  // slots are then summed in slot order into out[t]. x and out are rows of row_len.
  virtual absl::Status MoeCombine(std::span<const float> x, int64_t row_len, int64_t k,
                                  std::span<const int32_t> order, std::span<const float> weights,
                                  std::span<float> out) = 0;
  // Paged attention with kernels/attention/paged_attention.h's contract (causal, sliding
  // window, grouped-query heads), over a cache in host memory.
  virtual absl::Status PagedAttention(const AttentionShape& shape, const KvLayer& layer,
                                      std::span<const AttentionSequence> sequences,
                                      std::span<const float> q, std::span<float> out) = 0;
};

// The reference every backend is compared with: the CPU kernels where they define
// the arithmetic (norms, RoPE, activations), float64 elsewhere (softmax, matmul on
// dequantized weights).
std::unique_ptr<OpBackend> MakeCpuReferenceBackend();

// The CUDA backend on device `device`: Unimplemented when Shoal was built without
// CUDA, Unavailable when the machine has no such device.
absl::StatusOr<std::unique_ptr<OpBackend>> MakeCudaBackend(int device);

}  // namespace shoal::kernels::selftest

#endif  // SHOAL_KERNELS_SELFTEST_OP_BACKEND_H_
