// The backend self-test (kernels/selftest): the tolerance logic; that the CPU reference
// passes against itself while a backend that is wrong in one op fails exactly those
// cases (and one that errors is reported as errors); the exit codes; and, on a machine
// with a GPU, the CUDA backend itself. Without a GPU that last test is skipped with the
// reason, so ctest lists it as not run rather than passed.
#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/selftest/compare.h"
#include "kernels/selftest/op_backend.h"
#include "kernels/selftest/selftest.h"

namespace shoal::kernels::selftest {
namespace {

using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
using F = std::vector<float>;
using I = std::vector<int32_t>;

TEST(CompareValues, PassesWithinAbsolutePlusRelativeBound) {
  const std::vector<float> e = {1.0f, -2.0f, 0.0f};
  EXPECT_TRUE(CompareValues(e, F{1.001f, -2.002f, 1e-4f}, {1e-4, 1e-3}).pass);
  const Comparison c = CompareValues(e, F{1.0f, -2.01f, 0.0f}, {1e-4, 1e-3});
  EXPECT_FALSE(c.pass);
  EXPECT_EQ(c.worst_index, 1);
  EXPECT_THAT(c.problem, HasSubstr("element 1"));
  EXPECT_NEAR(c.max_abs_error, 0.01, 1e-6);
}

TEST(CompareValues, UsesGivenScalesInsteadOfTheExpectedMagnitude) {
  // A matmul output near zero is judged against Σ|w·x|, not against its own size.
  const std::vector<float> e = {1e-6f}, a = {1e-4f};
  EXPECT_FALSE(CompareValues(e, a, {0, 1e-3}).pass);
  const std::vector<double> scales = {1.0};
  EXPECT_TRUE(CompareValues(e, a, {0, 1e-3}, scales).pass);
}

TEST(CompareValues, NanAndInfinityMustMatchExactly) {
  EXPECT_TRUE(CompareValues(F{kNaN, kInf, -kInf}, F{kNaN, kInf, -kInf}, {}).pass);
  EXPECT_FALSE(CompareValues(F{1.0f}, F{kNaN}, {1, 1}).pass);
  EXPECT_FALSE(CompareValues(F{kNaN}, F{1.0f}, {1, 1}).pass);
  EXPECT_FALSE(CompareValues(F{kInf}, F{-kInf}, {1, 1}).pass);
  EXPECT_FALSE(CompareValues(F{kInf}, F{3e38f}, {1, 1}).pass);
}

TEST(CompareValues, SizeMismatchFails) {
  EXPECT_THAT(CompareValues(F{1.0f, 2.0f}, F{1.0f}, {1, 1}).problem, HasSubstr("1 values, expected 2"));
  EXPECT_FALSE(CompareIndices(I{1, 2}, I{1}).pass);
  EXPECT_FALSE(CompareIndices(I{1, 2}, I{1, 3}).pass);
  EXPECT_TRUE(CompareIndices(I{1, 2}, I{1, 2}).pass);
}

TEST(Selftest, CpuReferenceAgainstItselfPassesEveryCase) {
  auto a = MakeCpuReferenceBackend(), b = MakeCpuReferenceBackend();
  const std::vector<CaseResult> results = RunOpCases(*a, *b, 1);
  ASSERT_GT(results.size(), 100u);
  for (const CaseResult& r : results) {
    EXPECT_EQ(r.status, CaseStatus::kPass) << r.op << " " << r.shape << ": " << r.detail;
  }
  EXPECT_EQ(ExitCode(results), 0);
}

// The CPU reference with one op made wrong, one slightly off, and one missing.
class BrokenBackend : public OpBackend {
 public:
  std::string name() const override { return "broken"; }
  absl::Status RmsNorm(std::span<const float> x, std::span<const float> w, NormWeight c, float eps,
                       int64_t n, std::span<float> y) override {
    return cpu_->RmsNorm(x, w, c, eps, n, y);
  }
  absl::Status Rope(const RopeParams& p, std::span<const int64_t> pos, int64_t h, int64_t d,
                    std::span<float> x) override {
    return cpu_->Rope(p, pos, h, d, x);
  }
  // 1e-4 relative: inside nobody's rounding, outside swiglu's 4e-6 tolerance.
  absl::Status SwiGlu(std::span<const float> g, std::span<const float> u,
                      std::span<float> out) override {
    absl::Status s = cpu_->SwiGlu(g, u, out);
    for (float& v : out) v *= 1.0001f;
    return s;
  }
  absl::Status GeGluTanh(std::span<const float> g, std::span<const float> u,
                         std::span<float> out) override {
    return cpu_->GeGluTanh(g, u, out);
  }
  absl::Status Softmax(std::span<const float> x, int64_t n, std::span<float> y) override {
    return cpu_->Softmax(x, n, y);
  }
  absl::Status TopK(std::span<const float> x, int64_t n, int64_t k, std::span<int32_t> i,
                    std::span<float> v) override {
    return cpu_->TopK(x, n, k, i, v);
  }
  // Ties broken the wrong way: the last maximum instead of the first.
  absl::Status Argmax(std::span<const float> x, int64_t n, std::span<int32_t> out) override {
    for (size_t r = 0; r < out.size(); ++r) {
      int32_t best = 0;
      for (int64_t i = 0; i < n; ++i) {
        if (x[r * n + i] >= x[r * n + best]) best = static_cast<int32_t>(i);
      }
      out[r] = best;
    }
    return absl::OkStatus();
  }
  absl::Status GetRows(const WeightMatrix& t, std::span<const int32_t> ids,
                       std::span<float> out) override {
    return cpu_->GetRows(t, ids, out);
  }
  absl::Status MatMul(const WeightMatrix&, std::span<const float>, int64_t,
                      std::span<float>) override {
    return absl::UnimplementedError("no matmul here");
  }
  absl::Status MatMulBf16(const WeightMatrix& w, std::span<const float> x, int64_t n,
                          std::span<float> y) override {
    return cpu_->MatMulBf16(w, x, n, y);
  }
  absl::Status WriteKv(const KvLayer& layer, std::span<const int64_t> slots,
                       std::span<const float> k, std::span<const float> v) override {
    return cpu_->WriteKv(layer, slots, k, v);
  }
  absl::Status PagedAttention(const AttentionShape& shape, const KvLayer& layer,
                              std::span<const AttentionSequence> seqs, std::span<const float> q,
                              std::span<float> out) override {
    return cpu_->PagedAttention(shape, layer, seqs, q, out);
  }
  absl::Status ScaleAdd(std::span<const float> y, float scale, std::span<float> x) override {
    return cpu_->ScaleAdd(y, scale, x);
  }
  absl::Status Softcap(float cap, std::span<float> x) override { return cpu_->Softcap(cap, x); }
  // The classic gather/scatter slip: the i-th visited slot takes the i-th weight rather
  // than its own slot's.
  absl::Status MoeCombine(std::span<const float> x, int64_t row_len, int64_t k,
                          std::span<const int32_t> order, std::span<const float> weights,
                          std::span<float> out) override {
    std::vector<float> misrouted(weights.size());
    for (size_t i = 0; i < order.size(); ++i) misrouted[order[i]] = weights[i];
    return cpu_->MoeCombine(x, row_len, k, order, misrouted, out);
  }

 private:
  std::unique_ptr<OpBackend> cpu_ = MakeCpuReferenceBackend();
};

TEST(Selftest, CatchesAWrongBackendOpByOp) {
  BrokenBackend broken;
  auto reference = MakeCpuReferenceBackend();
  const std::vector<CaseResult> results = RunOpCases(broken, *reference, 1);
  for (const CaseResult& r : results) {
    SCOPED_TRACE(r.op + " " + r.shape);
    // One token with one slot has nothing to mix up.
    const bool misrouted = r.op == "moe_combine" && !r.shape.starts_with("1 tokens");
    if (r.op == "swiglu" || r.op == "argmax" || misrouted) {
      EXPECT_EQ(r.status, CaseStatus::kFail);
      EXPECT_FALSE(r.detail.empty());
    } else if (r.op == "matmul") {
      EXPECT_EQ(r.status, CaseStatus::kError);
      EXPECT_THAT(r.detail, HasSubstr("no matmul here"));
    } else {
      EXPECT_EQ(r.status, CaseStatus::kPass) << r.detail;
    }
  }
  EXPECT_EQ(ExitCode(results), 1);
  const std::string table = FormatTable(broken.name(), results);
  EXPECT_THAT(table, HasSubstr("FAIL"));
  EXPECT_THAT(table, HasSubstr("ERROR"));
}

TEST(Selftest, NothingRunIsNotAPass) {
  const std::vector<CaseResult> results = NotRunCases("no CUDA device");
  EXPECT_EQ(ExitCode(results), 2);
  EXPECT_EQ(ExitCode(std::vector<CaseResult>{}), 2);
  const std::string table = FormatTable("cuda:0", results);
  EXPECT_THAT(table, HasSubstr("not run"));
  EXPECT_THAT(table, HasSubstr("no CUDA device"));
  EXPECT_THAT(table, HasSubstr(std::to_string(results.size()) + " cases: 0 passed"));
  // Passing op cases with a model forward that did not run still is incomplete.
  auto a = MakeCpuReferenceBackend(), b = MakeCpuReferenceBackend();
  std::vector<CaseResult> mixed = RunOpCases(*a, *b, 2);
  mixed.push_back({.op = "model forward", .shape = "llama-q8_0", .status = CaseStatus::kNotRun});
  EXPECT_EQ(ExitCode(mixed), 2);
}

TEST(CudaSelftest, EveryOpMatchesTheCpuReference) {
  absl::StatusOr<std::unique_ptr<OpBackend>> cuda = MakeCudaBackend(0);
  if (!cuda.ok()) GTEST_SKIP() << "not run: " << cuda.status().message();
  auto reference = MakeCpuReferenceBackend();
  const std::vector<CaseResult> results = RunOpCases(**cuda, *reference, 1);
  for (const CaseResult& r : results) {
    EXPECT_EQ(r.status, CaseStatus::kPass) << r.op << " " << r.shape << ": " << r.detail;
  }
  std::printf("%s", FormatTable((*cuda)->name(), results).c_str());
}

}  // namespace
}  // namespace shoal::kernels::selftest
