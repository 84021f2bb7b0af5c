// The self-test's reference backend. The ops whose exact arithmetic Shoal matches to
// llama.cpp run the CPU kernels themselves; the rest are computed in float64, the
// reference any float32 implementation is judged against.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "common/half.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "kernels/interleave.h"
#include "kernels/ops/activations.h"
#include "kernels/ops/norm.h"
#include "kernels/selftest/op_backend.h"

namespace shoal::kernels::selftest {
namespace {

absl::Status CheckRows(size_t size, int64_t n, const char* op) {
  if (n <= 0 || size % static_cast<size_t>(n) != 0) {
    return absl::InvalidArgumentError(fmt::format("{}: {} values are not rows of {}", op, size, n));
  }
  return absl::OkStatus();
}

class CpuReferenceBackend : public OpBackend {
 public:
  std::string name() const override { return "cpu reference"; }

  absl::Status RmsNorm(std::span<const float> x, std::span<const float> w, NormWeight convention,
                       float eps, int64_t n, std::span<float> y) override {
    SHOAL_RETURN_IF_ERROR(CheckRows(x.size(), n, "rms_norm"));
    std::vector<float> weight;
    if (convention != NormWeight::kNone) {
      weight.assign(w.begin(), w.end());
      if (convention == NormWeight::kOnePlus) {
        for (float& v : weight) v += 1.0f;
      }
    }
    RmsNormRows(x.data(), weight.empty() ? nullptr : weight.data(), eps, n,
                static_cast<int64_t>(x.size()) / n, y.data());
    return absl::OkStatus();
  }

  absl::Status Rope(const RopeParams& params, std::span<const int64_t> positions,
                    int64_t n_heads, int64_t head_dim, std::span<float> x) override {
    std::vector<float> cos_sin(params.n_rot);
    for (size_t t = 0; t < positions.size(); ++t) {
      RopeAngles(params, positions[t], cos_sin.data());
      RopeApply(params, cos_sin.data(), n_heads, head_dim, x.data() + t * n_heads * head_dim);
    }
    return absl::OkStatus();
  }

  absl::Status SwiGlu(std::span<const float> gate, std::span<const float> up,
                      std::span<float> out) override {
    kernels::SwiGlu(gate.data(), up.data(), static_cast<int64_t>(gate.size()), out.data());
    return absl::OkStatus();
  }

  absl::Status GeGluTanh(std::span<const float> gate, std::span<const float> up,
                         std::span<float> out) override {
    kernels::GeGluTanh(gate.data(), up.data(), static_cast<int64_t>(gate.size()), out.data());
    return absl::OkStatus();
  }

  absl::Status Softmax(std::span<const float> x, int64_t n, std::span<float> y) override {
    SHOAL_RETURN_IF_ERROR(CheckRows(x.size(), n, "softmax"));
    for (size_t r = 0; r < x.size() / n; ++r) {
      const float* row = x.data() + r * n;
      const double max = *std::max_element(row, row + n);
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) sum += std::exp(row[i] - max);
      for (int64_t i = 0; i < n; ++i) y[r * n + i] = static_cast<float>(std::exp(row[i] - max) / sum);
    }
    return absl::OkStatus();
  }

  absl::Status TopK(std::span<const float> x, int64_t n, int64_t k, std::span<int32_t> indices,
                    std::span<float> values) override {
    SHOAL_RETURN_IF_ERROR(CheckRows(x.size(), n, "top_k"));
    std::vector<int32_t> order(n);
    for (size_t r = 0; r < x.size() / n; ++r) {
      const float* row = x.data() + r * n;
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [row](int32_t a, int32_t b) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
      });
      for (int64_t j = 0; j < k; ++j) {
        indices[r * k + j] = order[j];
        values[r * k + j] = row[order[j]];
      }
    }
    return absl::OkStatus();
  }

  absl::Status Argmax(std::span<const float> x, int64_t n, std::span<int32_t> out) override {
    SHOAL_RETURN_IF_ERROR(CheckRows(x.size(), n, "argmax"));
    for (size_t r = 0; r < x.size() / n; ++r) {
      const float* row = x.data() + r * n;
      out[r] = static_cast<int32_t>(std::max_element(row, row + n) - row);  // first of the max
    }
    return absl::OkStatus();
  }

  absl::Status GetRows(const WeightMatrix& table, std::span<const int32_t> ids,
                       std::span<float> out) override {
    for (size_t i = 0; i < ids.size(); ++i) {
      SHOAL_RETURN_IF_ERROR(
          DequantizeMatrixRow(table, ids[i], out.subspan(i * table.n_cols, table.n_cols)));
    }
    return absl::OkStatus();
  }

  absl::Status MatMul(const WeightMatrix& w, std::span<const float> x, int64_t n_tokens,
                      std::span<float> y) override {
    return Product(w, x, n_tokens, y, /*bf16=*/false);
  }

  absl::Status MatMulBf16(const WeightMatrix& w, std::span<const float> x, int64_t n_tokens,
                          std::span<float> y) override {
    std::vector<float> rounded(x.begin(), x.end());
    for (float& v : rounded) v = Bf16ToFloat(FloatToBf16(v));
    return Product(w, rounded, n_tokens, y, /*bf16=*/true);
  }

  // Σ_k x[t][k]·W[r][k] in float64 over the dequantized (with bf16: then rounded) weights.
  static absl::Status Product(const WeightMatrix& w, std::span<const float> x, int64_t n_tokens,
                              std::span<float> y, bool bf16) {
    std::vector<float> row(w.n_cols);
    for (int64_t r = 0; r < w.n_rows; ++r) {
      SHOAL_RETURN_IF_ERROR(DequantizeMatrixRow(w, r, row));
      if (bf16) {
        for (float& v : row) v = Bf16ToFloat(FloatToBf16(v));
      }
      for (int64_t t = 0; t < n_tokens; ++t) {
        double sum = 0.0;
        for (int64_t k = 0; k < w.n_cols; ++k) sum += double(row[k]) * x[t * w.n_cols + k];
        y[t * w.n_rows + r] = static_cast<float>(sum);
      }
    }
    return absl::OkStatus();
  }

  absl::Status WriteKv(const KvLayer& layer, std::span<const int64_t> slots,
                       std::span<const float> k, std::span<const float> v) override {
    const int64_t k_row = layer.n_kv_heads * layer.head_dim, v_row = layer.n_kv_heads * layer.value_dim;
    for (size_t i = 0; i < slots.size(); ++i) {
      kernels::WriteKv(layer, slots[i], k.data() + i * k_row, v.data() + i * v_row);
    }
    return absl::OkStatus();
  }

  // The CPU decoder's loops, in the same order of float operations.
  absl::Status ScaleAdd(std::span<const float> y, float scale, std::span<float> x) override {
    if (y.size() != x.size()) return absl::InvalidArgumentError("scale_add: sizes differ");
    for (size_t i = 0; i < x.size(); ++i) x[i] = y[i] + x[i] * scale;
    return absl::OkStatus();
  }

  absl::Status Softcap(float cap, std::span<float> x) override {
    for (float& v : x) v = cap * std::tanh(v / cap);
    return absl::OkStatus();
  }

  absl::Status MoeCombine(std::span<const float> x, int64_t row_len, int64_t k,
                          std::span<const int32_t> order, std::span<const float> weights,
                          std::span<float> out) override {
    SHOAL_RETURN_IF_ERROR(CheckRows(x.size(), row_len, "moe_combine"));
    const int64_t n_tokens = static_cast<int64_t>(x.size()) / row_len;
    if (k <= 0 || static_cast<int64_t>(order.size()) != n_tokens * k ||
        weights.size() != order.size() || out.size() != x.size()) {
      return absl::InvalidArgumentError("moe_combine: sizes do not match");
    }
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t c = 0; c < row_len; ++c) {
        float sum = x[t * row_len + c] * weights[t * k];
        for (int64_t j = 1; j < k; ++j) sum += x[t * row_len + c] * weights[t * k + j];
        out[t * row_len + c] = sum;
      }
    }
    return absl::OkStatus();
  }

  // One head of one token at a time through the scalar reference (AttendOneHead).
  absl::Status PagedAttention(const AttentionShape& shape, const KvLayer& layer,
                              std::span<const AttentionSequence> sequences,
                              std::span<const float> q, std::span<float> out) override {
    std::vector<float> scores;
    for (const AttentionSequence& s : sequences) {
      for (int64_t i = 0; i < s.n_tokens; ++i) {
        const int64_t token = s.first_token + i, position = s.start_position + i;
        scores.resize(position + 1);
        for (int64_t h = 0; h < shape.n_heads; ++h) {
          AttendOneHead(shape, layer, s.block_table, position, h,
                        q.data() + (token * shape.n_heads + h) * shape.head_dim, scores.data(),
                        out.data() + (token * shape.n_heads + h) * shape.value_dim);
        }
      }
    }
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<OpBackend> MakeCpuReferenceBackend() {
  return std::make_unique<CpuReferenceBackend>();
}

}  // namespace shoal::kernels::selftest
