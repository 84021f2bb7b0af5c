// The CUDA backend's self-test face (kernels/selftest/op_backend.h): each op copies its
// inputs to the device, runs the kernel (cuda_kernels.h) or cuBLAS, synchronises, and
// copies the result back. Slow by design and never on the serving path; what it checks
// is that the kernels compute what the CPU reference computes.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "fmt/format.h"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/selftest/op_backend.h"

namespace shoal::kernels::selftest {
namespace {

using cuda::CudaStatus;
using cuda::DeviceBuffer;
using cuda::ToDevice;
using cuda::ToHost;

absl::Status CublasStatus(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(fmt::format("{}: cuBLAS status {}", what, static_cast<int>(status)));
}

absl::Status Finish(cudaError_t launch, const char* what) {
  SHOAL_RETURN_IF_ERROR(CudaStatus(launch, what));
  return CudaStatus(cudaDeviceSynchronize(), what);
}

absl::Status Rows(size_t size, int64_t n, const char* op) {
  if (n <= 0 || size % static_cast<size_t>(n) != 0) {
    return absl::InvalidArgumentError(fmt::format("{}: {} values are not rows of {}", op, size, n));
  }
  return absl::OkStatus();
}

// Device kernels trust their sizes, so every op checks them on the host first.
absl::Status Sized(size_t actual, size_t expected, const char* what) {
  if (actual != expected) {
    return absl::InvalidArgumentError(fmt::format("{}: {} values, expected {}", what, actual, expected));
  }
  return absl::OkStatus();
}

class CudaBackend : public OpBackend {
 public:
  CudaBackend(int device, std::string name, cublasHandle_t cublas)
      : device_(device), name_(std::move(name)), cublas_(cublas) {}
  ~CudaBackend() override { cublasDestroy(cublas_); }

  std::string name() const override { return name_; }

  absl::Status RmsNorm(std::span<const float> x, std::span<const float> w, NormWeight convention,
                       float eps, int64_t n, std::span<float> y) override {
    SHOAL_RETURN_IF_ERROR(Rows(x.size(), n, "rms_norm"));
    SHOAL_RETURN_IF_ERROR(Sized(y.size(), x.size(), "rms_norm output"));
    if (convention != NormWeight::kNone) SHOAL_RETURN_IF_ERROR(Sized(w.size(), n, "rms_norm weight"));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice(x));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dw, ToDevice(w));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dy, DeviceBuffer::Allocate(y.size_bytes()));
    SHOAL_RETURN_IF_ERROR(Finish(
        cuda::LaunchRmsNorm(dx.as<float>(), dw.as<float>(), static_cast<int>(convention), eps, n,
                            static_cast<int64_t>(x.size()) / n, dy.as<float>(), nullptr),
        "rms_norm"));
    return ToHost(dy, y);
  }

  absl::Status Rope(const RopeParams& params, std::span<const int64_t> positions,
                    int64_t n_heads, int64_t head_dim, std::span<float> x) override {
    if (params.n_rot <= 0 || params.n_rot % 2 != 0 || params.n_rot > head_dim) {
      return absl::InvalidArgumentError(
          fmt::format("rope: n_rot {} must be even and in (0, head_dim {}]", params.n_rot, head_dim));
    }
    SHOAL_RETURN_IF_ERROR(Sized(x.size(), positions.size() * n_heads * head_dim, "rope input"));
    // The angles come from the CPU's RopeAngles, as the serving path will compute them
    // once per step for all layers: ggml's repeated-multiplication powers, exactly.
    std::vector<float> cos_sin(positions.size() * params.n_rot);
    for (size_t t = 0; t < positions.size(); ++t) {
      RopeAngles(params, positions[t], cos_sin.data() + t * params.n_rot);
    }
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice<float>(x));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dcs, ToDevice<float>(cos_sin));
    SHOAL_RETURN_IF_ERROR(Finish(
        cuda::LaunchRope(dx.as<float>(), dcs.as<float>(), static_cast<int64_t>(positions.size()),
                         n_heads, head_dim, params.n_rot, params.style == RopeStyle::kNeox,
                         nullptr),
        "rope"));
    return ToHost(dx, x);
  }

  absl::Status SwiGlu(std::span<const float> gate, std::span<const float> up,
                      std::span<float> out) override {
    return Gated(gate, up, out, cuda::LaunchSwiGlu, "swiglu");
  }
  absl::Status GeGluTanh(std::span<const float> gate, std::span<const float> up,
                         std::span<float> out) override {
    return Gated(gate, up, out, cuda::LaunchGeGluTanh, "geglu_tanh");
  }

  absl::Status Softmax(std::span<const float> x, int64_t n, std::span<float> y) override {
    SHOAL_RETURN_IF_ERROR(Rows(x.size(), n, "softmax"));
    SHOAL_RETURN_IF_ERROR(Sized(y.size(), x.size(), "softmax output"));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice(x));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dy, DeviceBuffer::Allocate(y.size_bytes()));
    SHOAL_RETURN_IF_ERROR(Finish(cuda::LaunchSoftmax(dx.as<float>(), n,
                                                     static_cast<int64_t>(x.size()) / n,
                                                     dy.as<float>(), nullptr),
                                 "softmax"));
    return ToHost(dy, y);
  }

  absl::Status TopK(std::span<const float> x, int64_t n, int64_t k, std::span<int32_t> indices,
                    std::span<float> values) override {
    SHOAL_RETURN_IF_ERROR(Rows(x.size(), n, "top_k"));
    SHOAL_RETURN_IF_ERROR(Sized(indices.size(), x.size() / n * k, "top_k indices"));
    SHOAL_RETURN_IF_ERROR(Sized(values.size(), x.size() / n * k, "top_k values"));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice(x));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer di, DeviceBuffer::Allocate(indices.size_bytes()));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dv, DeviceBuffer::Allocate(values.size_bytes()));
    SHOAL_RETURN_IF_ERROR(Finish(cuda::LaunchTopK(dx.as<float>(), n,
                                                  static_cast<int64_t>(x.size()) / n, k,
                                                  di.as<int32_t>(), dv.as<float>(), nullptr),
                                 "top_k"));
    SHOAL_RETURN_IF_ERROR(ToHost(di, indices));
    return ToHost(dv, values);
  }

  absl::Status Argmax(std::span<const float> x, int64_t n, std::span<int32_t> out) override {
    SHOAL_RETURN_IF_ERROR(Rows(x.size(), n, "argmax"));
    SHOAL_RETURN_IF_ERROR(Sized(out.size(), x.size() / n, "argmax output"));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice(x));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dout, DeviceBuffer::Allocate(out.size_bytes()));
    SHOAL_RETURN_IF_ERROR(Finish(cuda::LaunchArgmax(dx.as<float>(), n,
                                                    static_cast<int64_t>(x.size()) / n,
                                                    dout.as<int32_t>(), nullptr),
                                 "argmax"));
    return ToHost(dout, out);
  }

  absl::Status GetRows(const WeightMatrix& table, std::span<const int32_t> ids,
                       std::span<float> out) override {
    SHOAL_RETURN_IF_ERROR(CheckDeviceLayout(table, "get_rows"));
    SHOAL_RETURN_IF_ERROR(Sized(out.size(), ids.size() * table.n_cols, "get_rows output"));
    for (int32_t id : ids) {
      if (id < 0 || id >= table.n_rows) {
        return absl::InvalidArgumentError(
            fmt::format("get_rows: row {} is outside [0, {})", id, table.n_rows));
      }
    }
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dtable, ToDevice(MatrixBytes(table)));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dids, ToDevice(ids));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dout, DeviceBuffer::Allocate(out.size_bytes()));
    SHOAL_RETURN_IF_ERROR(Finish(
        cuda::LaunchDequantizeRows(static_cast<int>(table.type), dtable.as<uint8_t>(),
                                   table.row_bytes(), table.n_cols, dids.as<int32_t>(),
                                   static_cast<int64_t>(ids.size()), dout.as<float>(), nullptr),
        "get_rows"));
    return ToHost(dout, out);
  }

  // Up to 8 tokens (decode): the dequantizing mat-vec kernel, which reads W once as
  // stored. More (prefill): W dequantized to float32 on the device, then one cuBLAS
  // SGEMM, the "dequantize at load" path. The self-test's shapes cover both.
  absl::Status MatMul(const WeightMatrix& w, std::span<const float> x, int64_t n_tokens,
                      std::span<float> y) override {
    SHOAL_RETURN_IF_ERROR(CheckDeviceLayout(w, "matmul"));
    SHOAL_RETURN_IF_ERROR(Sized(x.size(), n_tokens * w.n_cols, "matmul input"));
    SHOAL_RETURN_IF_ERROR(Sized(y.size(), n_tokens * w.n_rows, "matmul output"));
    if (n_tokens == 0 || w.n_rows == 0) return absl::OkStatus();
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dq, ToDevice(MatrixBytes(w)));
    if (n_tokens <= cuda::kMaxQuantizedMatVecTokens) {
      SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice(x));
      SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dy, DeviceBuffer::Allocate(y.size_bytes()));
      SHOAL_RETURN_IF_ERROR(Finish(
          cuda::LaunchQuantizedMatVec(static_cast<int>(w.type), dq.as<uint8_t>(), w.row_bytes(),
                                      w.n_rows, w.n_cols, dx.as<float>(), n_tokens, dy.as<float>(),
                                      nullptr),
          "matmul (quantized mat-vec)"));
      return ToHost(dy, y);
    }
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dw,
                           DeviceBuffer::Allocate(w.n_rows * w.n_cols * sizeof(float)));
    SHOAL_RETURN_IF_ERROR(Finish(
        cuda::LaunchDequantizeRows(static_cast<int>(w.type), dq.as<uint8_t>(), w.row_bytes(),
                                   w.n_cols, nullptr, w.n_rows, dw.as<float>(), nullptr),
        "matmul dequantize"));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice(x));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dy, DeviceBuffer::Allocate(y.size_bytes()));
    // Row-major y[t][r] = Σ_k x[t][k]·W[r][k] is column-major yᵀ = Wᵀᵀ·xᵀ: W's bytes
    // are a column-major n_cols × n_rows matrix, transposed by the op.
    const float one = 1.0f, zero = 0.0f;
    SHOAL_RETURN_IF_ERROR(CublasStatus(
        cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(w.n_rows),
                    static_cast<int>(n_tokens), static_cast<int>(w.n_cols), &one, dw.as<float>(),
                    static_cast<int>(w.n_cols), dx.as<float>(), static_cast<int>(w.n_cols), &zero,
                    dy.as<float>(), static_cast<int>(w.n_rows)),
        "cublasSgemm"));
    SHOAL_RETURN_IF_ERROR(CudaStatus(cudaDeviceSynchronize(), "matmul"));
    return ToHost(dy, y);
  }

  // W dequantized to float32 and rounded to bf16 on the device (the bf16-at-load path),
  // x rounded to bf16, one cuBLAS GEMM with float32 accumulation and output.
  absl::Status MatMulBf16(const WeightMatrix& w, std::span<const float> x, int64_t n_tokens,
                          std::span<float> y) override {
    SHOAL_RETURN_IF_ERROR(CheckDeviceLayout(w, "matmul_bf16"));
    SHOAL_RETURN_IF_ERROR(Sized(x.size(), n_tokens * w.n_cols, "matmul_bf16 input"));
    SHOAL_RETURN_IF_ERROR(Sized(y.size(), n_tokens * w.n_rows, "matmul_bf16 output"));
    if (n_tokens == 0 || w.n_rows == 0) return absl::OkStatus();
    const int64_t n_w = w.n_rows * w.n_cols;
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dq, ToDevice(MatrixBytes(w)));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dw, DeviceBuffer::Allocate(n_w * sizeof(float)));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dw16, DeviceBuffer::Allocate(n_w * sizeof(uint16_t)));
    SHOAL_RETURN_IF_ERROR(Finish(
        cuda::LaunchDequantizeRows(static_cast<int>(w.type), dq.as<uint8_t>(), w.row_bytes(),
                                   w.n_cols, nullptr, w.n_rows, dw.as<float>(), nullptr),
        "matmul_bf16 dequantize"));
    SHOAL_RETURN_IF_ERROR(Finish(cuda::LaunchToBf16(dw.as<float>(), n_w, dw16.as<uint16_t>(), nullptr),
                                 "matmul_bf16 weights"));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice(x));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx16, DeviceBuffer::Allocate(x.size() * sizeof(uint16_t)));
    SHOAL_RETURN_IF_ERROR(Finish(cuda::LaunchToBf16(dx.as<float>(), static_cast<int64_t>(x.size()),
                                                    dx16.as<uint16_t>(), nullptr),
                                 "matmul_bf16 activations"));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dy, DeviceBuffer::Allocate(y.size_bytes()));
    const float one = 1.0f, zero = 0.0f;
    // The engine's math mode (tensor cores), not the pedantic one of the float32 GEMMs:
    // this case checks what --bf16-weights computes.
    SHOAL_RETURN_IF_ERROR(CublasStatus(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode"));
    const cublasStatus_t gemm =
        cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(w.n_rows),
                     static_cast<int>(n_tokens), static_cast<int>(w.n_cols), &one,
                     dw16.as<void>(), CUDA_R_16BF, static_cast<int>(w.n_cols), dx16.as<void>(),
                     CUDA_R_16BF, static_cast<int>(w.n_cols), &zero, dy.as<void>(), CUDA_R_32F,
                     static_cast<int>(w.n_rows), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    SHOAL_RETURN_IF_ERROR(CublasStatus(cublasSetMathMode(cublas_, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode"));
    SHOAL_RETURN_IF_ERROR(CublasStatus(gemm, "cublasGemmEx"));
    SHOAL_RETURN_IF_ERROR(CudaStatus(cudaDeviceSynchronize(), "matmul_bf16"));
    return ToHost(dy, y);
  }

  absl::Status WriteKv(const KvLayer& layer, std::span<const int64_t> slots,
                       std::span<const float> k, std::span<const float> v) override {
    const int64_t k_row = layer.n_kv_heads * layer.head_dim, v_row = layer.n_kv_heads * layer.value_dim;
    SHOAL_RETURN_IF_ERROR(Sized(k.size(), slots.size() * k_row, "write_kv k"));
    SHOAL_RETURN_IF_ERROR(Sized(v.size(), slots.size() * v_row, "write_kv v"));
    const int64_t n_slots = layer.num_blocks * layer.block_size;
    for (int64_t slot : slots) {
      if (slot < 0 || slot >= n_slots) {
        return absl::InvalidArgumentError(fmt::format("write_kv: slot {} outside [0, {})", slot, n_slots));
      }
    }
    auto [k_bytes, v_bytes] = CacheBytes(layer);
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dk_cache, ToDevice(HostBytes(layer.k, k_bytes)));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dv_cache, ToDevice(HostBytes(layer.v, v_bytes)));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dslots, ToDevice(slots));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dk, ToDevice(k));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dv, ToDevice(v));
    SHOAL_RETURN_IF_ERROR(Finish(
        cuda::LaunchWriteKv(layer.type == KvType::kF16, dk_cache.as<void>(), dv_cache.as<void>(),
                            dslots.as<int64_t>(), static_cast<int64_t>(slots.size()),
                            dk.as<float>(), k_row, dv.as<float>(), v_row, nullptr),
        "write_kv"));
    SHOAL_RETURN_IF_ERROR(ToHost(dk_cache, std::span(static_cast<uint8_t*>(layer.k), k_bytes)));
    return ToHost(dv_cache, std::span(static_cast<uint8_t*>(layer.v), v_bytes));
  }

  absl::Status ScaleAdd(std::span<const float> y, float scale, std::span<float> x) override {
    SHOAL_RETURN_IF_ERROR(Sized(y.size(), x.size(), "scale_add y"));
    const int64_t n = static_cast<int64_t>(x.size());
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice<float>(x));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dy, ToDevice(y));
    SHOAL_RETURN_IF_ERROR(CudaStatus(cuda::LaunchScale(dx.as<float>(), n, scale, nullptr), "scale"));
    SHOAL_RETURN_IF_ERROR(Finish(cuda::LaunchAddInPlace(dx.as<float>(), dy.as<float>(), n, nullptr),
                                 "add_in_place"));
    return ToHost(dx, x);
  }

  absl::Status Softcap(float cap, std::span<float> x) override {
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice<float>(x));
    SHOAL_RETURN_IF_ERROR(Finish(
        cuda::LaunchSoftcap(dx.as<float>(), static_cast<int64_t>(x.size()), cap, nullptr), "softcap"));
    return ToHost(dx, x);
  }

  // The CUDA engine's three launches: gather token rows in `order`, scatter them scaled
  // into their slots, sum each token's slots.
  absl::Status MoeCombine(std::span<const float> x, int64_t row_len, int64_t k,
                          std::span<const int32_t> order, std::span<const float> weights,
                          std::span<float> out) override {
    SHOAL_RETURN_IF_ERROR(Rows(x.size(), row_len, "moe_combine"));
    const int64_t n_tokens = static_cast<int64_t>(x.size()) / row_len;
    const int64_t n_slots = n_tokens * k;
    if (k <= 0) return absl::InvalidArgumentError("moe_combine: k must be positive");
    SHOAL_RETURN_IF_ERROR(Sized(order.size(), n_slots, "moe_combine order"));
    SHOAL_RETURN_IF_ERROR(Sized(weights.size(), n_slots, "moe_combine weights"));
    SHOAL_RETURN_IF_ERROR(Sized(out.size(), x.size(), "moe_combine output"));
    std::vector<int32_t> tokens(n_slots);
    std::vector<bool> seen(n_slots, false);
    for (int64_t i = 0; i < n_slots; ++i) {
      if (order[i] < 0 || order[i] >= n_slots || seen[order[i]]) {
        return absl::InvalidArgumentError("moe_combine: order is not a permutation of the slots");
      }
      seen[order[i]] = true;
      tokens[i] = static_cast<int32_t>(order[i] / k);
    }
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dx, ToDevice(x));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dtokens, ToDevice<int32_t>(tokens));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dorder, ToDevice(order));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dweights, ToDevice(weights));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer gathered, DeviceBuffer::Allocate(n_slots * row_len * sizeof(float)));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer slots, DeviceBuffer::Allocate(n_slots * row_len * sizeof(float)));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dout, DeviceBuffer::Allocate(out.size_bytes()));
    SHOAL_RETURN_IF_ERROR(CudaStatus(cuda::LaunchGatherRows(dx.as<float>(), row_len,
                                                            dtokens.as<int32_t>(), n_slots,
                                                            gathered.as<float>(), nullptr),
                                     "gather_rows"));
    SHOAL_RETURN_IF_ERROR(CudaStatus(
        cuda::LaunchScatterScaledRows(gathered.as<float>(), row_len, dorder.as<int32_t>(),
                                      dweights.as<float>(), n_slots, slots.as<float>(), nullptr),
        "scatter_scaled_rows"));
    SHOAL_RETURN_IF_ERROR(Finish(cuda::LaunchSumSlots(slots.as<float>(), k, row_len, n_tokens,
                                                      dout.as<float>(), nullptr),
                                 "sum_slots"));
    return ToHost(dout, out);
  }

  absl::Status PagedAttention(const AttentionShape& shape, const KvLayer& layer,
                              std::span<const AttentionSequence> sequences,
                              std::span<const float> q, std::span<float> out) override {
    if (shape.n_kv_heads <= 0 || shape.n_heads % shape.n_kv_heads != 0 ||
        shape.n_kv_heads != layer.n_kv_heads || shape.head_dim != layer.head_dim ||
        shape.value_dim != layer.value_dim) {
      return absl::InvalidArgumentError("paged_attention: the shape does not match the cache");
    }
    // Per token: its position and where its sequence's block table starts.
    std::vector<int64_t> positions, offsets;
    std::vector<int32_t> tables;
    int64_t max_keys = 0;
    for (const AttentionSequence& s : sequences) {
      const int64_t offset = static_cast<int64_t>(tables.size());
      if ((s.start_position + s.n_tokens + layer.block_size - 1) / layer.block_size >
          static_cast<int64_t>(s.block_table.size())) {
        return absl::InvalidArgumentError("paged_attention: a block table is too short");
      }
      for (int32_t block : s.block_table) {
        if (block < 0 || block >= layer.num_blocks) {
          return absl::InvalidArgumentError(fmt::format("paged_attention: block {} outside [0, {})",
                                                        block, layer.num_blocks));
        }
      }
      tables.insert(tables.end(), s.block_table.begin(), s.block_table.end());
      for (int64_t i = 0; i < s.n_tokens; ++i) {
        if (s.first_token + i != static_cast<int64_t>(positions.size())) {
          return absl::InvalidArgumentError("paged_attention: sequences must cover the tokens in order");
        }
        const int64_t position = s.start_position + i;
        positions.push_back(position);
        offsets.push_back(offset);
        max_keys = std::max(max_keys, position - FirstVisiblePosition(shape, position) + 1);
      }
    }
    const int64_t n_tokens = static_cast<int64_t>(positions.size());
    SHOAL_RETURN_IF_ERROR(Sized(q.size(), n_tokens * shape.n_heads * shape.head_dim, "attention q"));
    SHOAL_RETURN_IF_ERROR(Sized(out.size(), n_tokens * shape.n_heads * shape.value_dim, "attention out"));
    if (n_tokens == 0) return absl::OkStatus();
    auto [k_bytes, v_bytes] = CacheBytes(layer);
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dk_cache, ToDevice(HostBytes(layer.k, k_bytes)));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dv_cache, ToDevice(HostBytes(layer.v, v_bytes)));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dq, ToDevice(q));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dout, DeviceBuffer::Allocate(out.size_bytes()));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dpositions, ToDevice<int64_t>(positions));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer doffsets, ToDevice<int64_t>(offsets));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dtables, ToDevice<int32_t>(tables));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dscores,
                           DeviceBuffer::Allocate(n_tokens * shape.n_heads * max_keys * sizeof(float)));
    const cuda::PagedAttentionLaunch launch{
        .f16 = layer.type == KvType::kF16, .k_cache = dk_cache.as<void>(),
        .v_cache = dv_cache.as<void>(), .block_size = layer.block_size, .n_heads = shape.n_heads,
        .n_kv_heads = shape.n_kv_heads, .head_dim = shape.head_dim, .value_dim = shape.value_dim,
        .scale = shape.scale, .sliding_window = shape.sliding_window, .q = dq.as<float>(),
        .out = dout.as<float>(), .positions = dpositions.as<int64_t>(),
        .tables = dtables.as<int32_t>(), .table_offsets = doffsets.as<int64_t>(),
        .n_tokens = n_tokens, .scores = dscores.as<float>(), .max_keys = max_keys};
    SHOAL_RETURN_IF_ERROR(Finish(cuda::LaunchPagedAttention(launch, nullptr), "paged_attention"));
    return ToHost(dout, out);
  }

 private:
  static std::pair<size_t, size_t> CacheBytes(const KvLayer& layer) {
    const size_t element = layer.type == KvType::kF16 ? 2 : 4;
    const size_t slots = static_cast<size_t>(layer.num_blocks * layer.block_size * layer.n_kv_heads);
    return {slots * layer.head_dim * element, slots * layer.value_dim * element};
  }
  static std::span<const uint8_t> HostBytes(const void* p, size_t bytes) {
    return {static_cast<const uint8_t*>(p), bytes};
  }

  template <class Launch>
  absl::Status Gated(std::span<const float> gate, std::span<const float> up, std::span<float> out,
                     Launch launch, const char* what) {
    SHOAL_RETURN_IF_ERROR(Sized(up.size(), gate.size(), what));
    SHOAL_RETURN_IF_ERROR(Sized(out.size(), gate.size(), what));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dg, ToDevice(gate));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer du, ToDevice(up));
    SHOAL_ASSIGN_OR_RETURN(DeviceBuffer dout, DeviceBuffer::Allocate(out.size_bytes()));
    SHOAL_RETURN_IF_ERROR(Finish(launch(dg.as<float>(), du.as<float>(),
                                        static_cast<int64_t>(gate.size()), dout.as<float>(),
                                        nullptr),
                                 what));
    return ToHost(dout, out);
  }

  static absl::Status CheckDeviceLayout(const WeightMatrix& w, const char* op) {
    if (w.layout != WeightLayout::kRows || !cuda::CanDequantizeOnDevice(static_cast<int>(w.type)) ||
        w.n_cols % TraitsOf(w.type).block_size != 0) {
      return absl::UnimplementedError(fmt::format("{}: no CUDA kernel for {} weights in this layout",
                                                  op, GgmlTypeName(w.type)));
    }
    return absl::OkStatus();
  }
  static std::span<const uint8_t> MatrixBytes(const WeightMatrix& w) {
    return {w.data, static_cast<size_t>(w.n_rows * w.row_bytes())};
  }

  int device_;
  std::string name_;
  cublasHandle_t cublas_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<OpBackend>> MakeCudaBackend(int device) {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess || device < 0 || device >= count) {
    return absl::UnavailableError(fmt::format(
        "no CUDA device {} ({} found{})", device, error == cudaSuccess ? count : 0,
        error == cudaSuccess ? "" : fmt::format(": {}", cudaGetErrorString(error))));
  }
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device), "cudaSetDevice"));
  cudaDeviceProp prop{};
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties"));
  size_t free_bytes = 0, total_bytes = 0;
  SHOAL_RETURN_IF_ERROR(CudaStatus(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo"));
  cublasHandle_t cublas = nullptr;
  SHOAL_RETURN_IF_ERROR(CublasStatus(cublasCreate(&cublas), "cublasCreate"));
  // Plain float32 GEMMs: the self-test compares against float64, no TF32 shortcuts.
  if (absl::Status s = CublasStatus(cublasSetMathMode(cublas, CUBLAS_PEDANTIC_MATH),
                                    "cublasSetMathMode");
      !s.ok()) {
    cublasDestroy(cublas);
    return s;
  }
  return std::make_unique<CudaBackend>(
      device,
      fmt::format("cuda:{} ({}, sm_{}{}, {:.1f} of {:.1f} GiB free)", device, prop.name, prop.major,
                  prop.minor, free_bytes / 1073741824.0, total_bytes / 1073741824.0),
      cublas);
}

}  // namespace shoal::kernels::selftest
