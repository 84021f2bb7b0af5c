// The self-test's cases: per op, the shapes (sizes off the powers of two, single rows,
// vocabulary-sized rows, partial rotations, every weight type) and the tolerance the
// op's float32 arithmetic allows against the reference.
#include "kernels/selftest/selftest.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <algorithm>
#include <numeric>
#include <random>
#include <tuple>

#include "common/half.h"
#include "fmt/format.h"
#include "kernels/interleave.h"
#include "kernels/selftest/compare.h"

namespace shoal::kernels::selftest {
namespace {

using Rng = std::mt19937;

std::vector<float> Uniform(Rng& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A weight matrix of `type` with random quants and finite, moderate scales.
struct RandomMatrix {
  std::vector<uint8_t> bytes;
  WeightMatrix view;
};

RandomMatrix MakeMatrix(GgmlType type, int64_t rows, int64_t cols, Rng& rng) {
  RandomMatrix m;
  m.view = {.type = type, .n_rows = rows, .n_cols = cols};
  m.bytes.resize(rows * m.view.row_bytes());
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& b : m.bytes) b = static_cast<uint8_t>(byte(rng));
  auto put_half = [&](size_t offset, float v) {
    const uint16_t h = FloatToFp16(v);
    std::memcpy(m.bytes.data() + offset, &h, 2);
  };
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  const GgmlTypeTraits& traits = TraitsOf(type);
  const size_t n_blocks = m.bytes.size() / traits.type_size;
  for (size_t b = 0; b < n_blocks; ++b) {
    const size_t at = b * traits.type_size;
    switch (type) {
      case GgmlType::kF32: {
        const float v = scale(rng) * 20 - 0.5f;
        std::memcpy(m.bytes.data() + at, &v, 4);
        break;
      }
      case GgmlType::kF16: put_half(at, scale(rng) * 20 - 0.5f); break;
      case GgmlType::kQ4_K: put_half(at, scale(rng)); put_half(at + 2, scale(rng)); break;
      case GgmlType::kQ6_K: put_half(at + 208, scale(rng)); break;
      default: put_half(at, scale(rng)); break;  // Q4_0, Q5_0, Q8_0: d first
    }
  }
  m.view.data = m.bytes.data();
  return m;
}

std::string Fmt(Tolerance t) { return fmt::format("abs {:.0e} + rel {:.0e}", t.abs, t.rel); }

CaseResult FromComparison(const Comparison& c, Tolerance t) {
  CaseResult r;
  r.status = c.pass ? CaseStatus::kPass : CaseStatus::kFail;
  r.max_abs_error = c.max_abs_error;
  r.max_rel_error = c.max_rel_error;
  r.tolerance = Fmt(t);
  r.detail = c.problem;
  return r;
}

CaseResult FromError(const absl::Status& status, const char* side) {
  CaseResult r;
  r.status = CaseStatus::kError;
  r.detail = fmt::format("{}: {}", side, status.ToString());
  return r;
}

struct Case {
  std::string op, shape;
  std::function<CaseResult(OpBackend& candidate, OpBackend& reference, Rng& rng)> run;
};

// Runs `call` on both backends (each on its own copy of the outputs) and compares.
template <class Call>
CaseResult Both(OpBackend& candidate, OpBackend& reference, size_t out_size, Tolerance tol,
                Call call, std::span<const double> scales = {}) {
  std::vector<float> expected(out_size), actual(out_size);
  if (absl::Status s = call(reference, std::span<float>(expected)); !s.ok()) return FromError(s, "reference");
  if (absl::Status s = call(candidate, std::span<float>(actual)); !s.ok()) return FromError(s, "candidate");
  return FromComparison(CompareValues(expected, actual, tol, scales), tol);
}

void AddNormCases(std::vector<Case>& cases) {
  constexpr Tolerance kTol{1e-6, 2e-6};
  for (NormWeight convention : {NormWeight::kNone, NormWeight::kPlain, NormWeight::kOnePlus}) {
    const char* name = convention == NormWeight::kNone    ? "none"
                       : convention == NormWeight::kPlain ? "w"
                                                          : "1+w";
    for (int64_t n : {1, 7, 64, 640, 1000, 4096}) {
      for (int64_t rows : {1, 17}) {
        cases.push_back({"rms_norm", fmt::format("{} x {}, weight {}", rows, n, name),
                         [=](OpBackend& c, OpBackend& r, Rng& rng) {
                           const auto x = Uniform(rng, rows * n, -3, 3);
                           const auto w = Uniform(rng, n, -1, 1);
                           return Both(c, r, x.size(), kTol, [&](OpBackend& b, std::span<float> y) {
                             return b.RmsNorm(x, w, convention, 1e-6f, n, y);
                           });
                         }});
      }
    }
  }
}

void AddRopeCases(std::vector<Case>& cases) {
  constexpr Tolerance kTol{2e-6, 2e-6};  // both rotate with the reference's angles
  for (RopeStyle style : {RopeStyle::kNorm, RopeStyle::kNeox}) {
    for (auto [head_dim, n_rot] : {std::pair<int64_t, int64_t>{64, 64}, {128, 128}, {256, 256},
                                   {128, 64}, {80, 32}}) {
      for (bool factors : {false, true}) {
        if (factors && head_dim != 128) continue;
        cases.push_back(
            {"rope", fmt::format("{} dim {} rot {}{}", style == RopeStyle::kNorm ? "norm" : "neox",
                                 head_dim, n_rot, factors ? ", freq factors" : ""),
             [=](OpBackend& c, OpBackend& r, Rng& rng) {
               const int64_t tokens = 5, heads = 3;
               std::vector<int64_t> positions = {0, 1, 17, 4095, 32767};
               const auto ff = Uniform(rng, n_rot / 2, 1.0f, 8.0f);
               const RopeParams params{.style = style, .n_rot = n_rot,
                                       .freq_base = factors ? 500000.0f : 10000.0f,
                                       .freq_factors = factors ? ff.data() : nullptr};
               const auto x = Uniform(rng, tokens * heads * head_dim, -2, 2);
               return Both(c, r, x.size(), kTol, [&](OpBackend& b, std::span<float> y) {
                 std::copy(x.begin(), x.end(), y.begin());
                 return b.Rope(params, positions, heads, head_dim, y);
               });
             }});
      }
    }
  }
}

void AddActivationCases(std::vector<Case>& cases) {
  for (int64_t n : {1, 31, 4096, 10007}) {
    cases.push_back({"swiglu", fmt::format("{}", n), [=](OpBackend& c, OpBackend& r, Rng& rng) {
                       const auto gate = Uniform(rng, n, -20, 20), up = Uniform(rng, n, -3, 3);
                       constexpr Tolerance kTol{1e-6, 4e-6};
                       return Both(c, r, n, kTol, [&](OpBackend& b, std::span<float> y) {
                         return b.SwiGlu(gate, up, y);
                       });
                     }});
    // The reference looks GELU up by the input rounded to half and rounds the result to
    // half (ggml's table); a device computing the same gets within half an fp16 step.
    cases.push_back({"geglu_tanh", fmt::format("{}", n), [=](OpBackend& c, OpBackend& r, Rng& rng) {
                       const auto gate = Uniform(rng, n, -12, 12), up = Uniform(rng, n, -3, 3);
                       constexpr Tolerance kTol{4e-6, 1e-3};  // abs: tanhf's ulps where 1 + tanh cancels
                       return Both(c, r, n, kTol, [&](OpBackend& b, std::span<float> y) {
                         return b.GeGluTanh(gate, up, y);
                       });
                     }});
  }
}

void AddRowReductionCases(std::vector<Case>& cases) {
  for (int64_t n : {1, 8, 128, 1000, 262144}) {
    for (int64_t rows : {1, 4}) {
      cases.push_back({"softmax", fmt::format("{} x {}", rows, n),
                       [=](OpBackend& c, OpBackend& r, Rng& rng) {
                         const auto x = Uniform(rng, rows * n, -30, 30);
                         constexpr Tolerance kTol{1e-9, 1e-5};
                         return Both(c, r, x.size(), kTol, [&](OpBackend& b, std::span<float> y) {
                           return b.Softmax(x, n, y);
                         });
                       }});
    }
  }
  for (int64_t n : {2, 1000, 151936, 262144}) {
    for (int64_t rows : {1, 5}) {
      cases.push_back({"argmax", fmt::format("{} x {}, with ties", rows, n),
                       [=](OpBackend& c, OpBackend& r, Rng& rng) {
                         // Integer-valued, so values repeat, and each row's maximum is
                         // planted twice at random places: the lower index must win.
                         std::uniform_int_distribution<int> v(-50, 50);
                         std::uniform_int_distribution<int64_t> place(0, n - 1);
                         std::vector<float> x(rows * n);
                         for (float& f : x) f = static_cast<float>(v(rng));
                         for (int64_t row = 0; row < rows; ++row) {
                           int64_t i = place(rng), j = place(rng);
                           while (j == i) j = place(rng);
                           x[row * n + i] = x[row * n + j] = 51.0f;
                         }
                         std::vector<int32_t> expected(rows), actual(rows);
                         if (auto s = r.Argmax(x, n, expected); !s.ok()) return FromError(s, "reference");
                         if (auto s = c.Argmax(x, n, actual); !s.ok()) return FromError(s, "candidate");
                         CaseResult out = FromComparison(CompareIndices(expected, actual), {});
                         out.tolerance = "exact";
                         return out;
                       }});
    }
  }
  for (int64_t n : {8, 64, 128}) {
    for (int64_t k : {1, 2, 4, 8}) {
      cases.push_back({"top_k", fmt::format("33 x {}, k {}", n, k),
                       [=](OpBackend& c, OpBackend& r, Rng& rng) {
                         const int64_t rows = 33;
                         auto x = Uniform(rng, rows * n, -4, 4);
                         x[0] = x[1] = 9.0f;  // a tie in the first row
                         std::vector<int32_t> ei(rows * k), ai(rows * k);
                         std::vector<float> ev(rows * k), av(rows * k);
                         if (auto s = r.TopK(x, n, k, ei, ev); !s.ok()) return FromError(s, "reference");
                         if (auto s = c.TopK(x, n, k, ai, av); !s.ok()) return FromError(s, "candidate");
                         CaseResult out = FromComparison(CompareIndices(ei, ai), {});
                         if (out.status == CaseStatus::kPass) {
                           out = FromComparison(CompareValues(ev, av, {}), {});
                         }
                         out.tolerance = "exact";
                         return out;
                       }});
    }
  }
}

// The forward pass's glue between ops: scales and residual adds, the logit softcap, and
// the MoE layer's gather, scaled scatter and slot sums. Each is the CPU decoder's float
// operations in the same order: only a fused multiply-add (where a compiler contracts
// one) and tanh's ulps may differ.
void AddRowCases(std::vector<Case>& cases) {
  constexpr Tolerance kTol{1e-6, 1e-6};
  for (int64_t n : {1, 640, 100003}) {
    for (float scale : {1.0f, 0.125f, 25.298f}) {  // the residual, a query scale, sqrt(640)
      cases.push_back({"scale_add", fmt::format("{}, scale {}", n, scale),
                       [=](OpBackend& c, OpBackend& r, Rng& rng) {
                         const auto x = Uniform(rng, n, -4, 4), y = Uniform(rng, n, -4, 4);
                         return Both(c, r, n, kTol, [&](OpBackend& b, std::span<float> out) {
                           std::copy(x.begin(), x.end(), out.begin());
                           return b.ScaleAdd(y, scale, out);
                         });
                       }});
    }
    cases.push_back({"softcap", fmt::format("{}, cap 30", n), [=](OpBackend& c, OpBackend& r, Rng& rng) {
                       const auto x = Uniform(rng, n, -200, 200);
                       constexpr Tolerance kCapTol{1e-5, 1e-6};  // tanhf's ulps, times the cap
                       return Both(c, r, n, kCapTol, [&](OpBackend& b, std::span<float> out) {
                         std::copy(x.begin(), x.end(), out.begin());
                         return b.Softcap(30.0f, out);
                       });
                     }});
  }
  for (auto [tokens, k, row_len] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 7}, {5, 2, 640},
                                    {37, 4, 1024}, {3, 8, 2048}}) {
    cases.push_back({"moe_combine", fmt::format("{} tokens, k {}, rows of {}", tokens, k, row_len),
                     [=](OpBackend& c, OpBackend& r, Rng& rng) {
                       const auto x = Uniform(rng, tokens * row_len, -3, 3);
                       const auto weights = Uniform(rng, tokens * k, 0, 1);
                       // Slots visited expert by expert: a shuffled order, as routing gives.
                       std::vector<int32_t> order(tokens * k);
                       std::iota(order.begin(), order.end(), 0);
                       std::shuffle(order.begin(), order.end(), rng);
                       return Both(c, r, x.size(), kTol, [&](OpBackend& b, std::span<float> out) {
                         return b.MoeCombine(x, row_len, k, order, weights, out);
                       });
                     }});
  }
}

constexpr GgmlType kWeightTypes[] = {GgmlType::kF32,  GgmlType::kF16,  GgmlType::kQ8_0,
                                     GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ4_K,
                                     GgmlType::kQ6_K};

void AddWeightCases(std::vector<Case>& cases) {
  for (GgmlType type : kWeightTypes) {
    const std::string name(GgmlTypeName(type));
    for (int64_t cols : {256, 768, 2048}) {
      cases.push_back({"get_rows", fmt::format("{} x {}", name, cols),
                       [=](OpBackend& c, OpBackend& r, Rng& rng) {
                         const RandomMatrix m = MakeMatrix(type, 1000, cols, rng);
                         const std::vector<int32_t> ids = {0, 999, 17, 17, 512};
                         constexpr Tolerance kTol{1e-7, 1e-6};
                         return Both(c, r, ids.size() * cols, kTol,
                                     [&](OpBackend& b, std::span<float> y) {
                                       return b.GetRows(m.view, ids, y);
                                     });
                       }});
    }
    // matmul_bf16 (weights and activations rounded to bf16, then float32 sums) for the
    // types a bf16-at-load worker would convert.
    const bool with_bf16 = type == GgmlType::kF32 || type == GgmlType::kQ8_0 || type == GgmlType::kQ4_K;
    for (bool bf16 : {false, true}) {
      if (bf16 && !with_bf16) continue;
      for (auto [rows, cols, tokens] : {std::tuple<int64_t, int64_t, int64_t>{1, 256, 1},
                                        {37, 256, 3}, {256, 768, 16}, {1000, 2048, 5}}) {
        cases.push_back(
            {bf16 ? "matmul_bf16" : "matmul",
             fmt::format("{} {} x {}, {} tokens", name, rows, cols, tokens),
             [=](OpBackend& c, OpBackend& r, Rng& rng) {
               const RandomMatrix m = MakeMatrix(type, rows, cols, rng);
               const auto x = Uniform(rng, tokens * cols, -1, 1);
               // Scale of each output's rounding error: Σ|w·x| over its dot product.
               std::vector<double> scales(tokens * rows, 0.0);
               std::vector<float> w(cols);
               for (int64_t row = 0; row < rows; ++row) {
                 if (auto s = DequantizeMatrixRow(m.view, row, w); !s.ok()) return FromError(s, "setup");
                 for (int64_t t = 0; t < tokens; ++t) {
                   for (int64_t k = 0; k < cols; ++k) {
                     scales[t * rows + row] += std::fabs(double(w[k]) * x[t * cols + k]);
                   }
                 }
               }
               // float32 accumulation over ≤ 2048 terms, in any order (cuBLAS splits k);
               // bf16 products are exact in float32, so the same bound holds for them.
               constexpr Tolerance kTol{1e-30, 3e-5};
               return Both(
                   c, r, tokens * rows, kTol,
                   [&](OpBackend& b, std::span<float> y) {
                     return bf16 ? b.MatMulBf16(m.view, x, tokens, y) : b.MatMul(m.view, x, tokens, y);
                   },
                   scales);
             }});
      }
    }
  }
}

// A paged KV cache in host memory filled with random values (so attention reads
// finite keys wherever a table points).
struct HostCache {
  std::vector<uint8_t> k, v;
  KvLayer layer;
};

HostCache MakeCache(KvType type, int64_t n_kv_heads, int64_t head_dim, Rng& rng) {
  HostCache c;
  c.layer = {.type = type, .num_blocks = 16, .block_size = 16, .n_kv_heads = n_kv_heads,
             .head_dim = head_dim, .value_dim = head_dim};
  const size_t values = 16 * 16 * n_kv_heads * head_dim, element = type == KvType::kF16 ? 2 : 4;
  c.k.resize(values * element);
  c.v.resize(values * element);
  for (std::vector<uint8_t>* bytes : {&c.k, &c.v}) {
    const std::vector<float> x = Uniform(rng, values, -1, 1);
    for (size_t i = 0; i < values; ++i) {
      if (type == KvType::kF16) {
        const uint16_t h = FloatToFp16(x[i]);
        std::memcpy(bytes->data() + 2 * i, &h, 2);
      } else {
        std::memcpy(bytes->data() + 4 * i, &x[i], 4);
      }
    }
  }
  c.layer.k = c.k.data();
  c.layer.v = c.v.data();
  return c;
}

std::vector<float> CacheValues(const HostCache& c) {
  std::vector<float> out;
  for (const std::vector<uint8_t>* bytes : {&c.k, &c.v}) {
    if (c.layer.type == KvType::kF32) {
      const size_t n = bytes->size() / 4;
      const size_t at = out.size();
      out.resize(at + n);
      std::memcpy(out.data() + at, bytes->data(), bytes->size());
    } else {
      for (size_t i = 0; i < bytes->size() / 2; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes->data() + 2 * i, 2);
        out.push_back(Fp16ToFloat(h));
      }
    }
  }
  return out;
}

void AddAttentionCases(std::vector<Case>& cases) {
  for (KvType type : {KvType::kF16, KvType::kF32}) {
    const char* type_name = type == KvType::kF16 ? "f16" : "f32";
    for (auto [n_kv, dim] : {std::pair<int64_t, int64_t>{2, 64}, {1, 256}, {8, 128}}) {
      cases.push_back({"write_kv", fmt::format("{} cache, {} kv heads x {}", type_name, n_kv, dim),
                       [=](OpBackend& c, OpBackend& r, Rng& rng) {
                         HostCache expected = MakeCache(type, n_kv, dim, rng);
                         HostCache actual = expected;
                         actual.layer.k = actual.k.data();
                         actual.layer.v = actual.v.data();
                         const std::vector<int64_t> slots = {0, 255, 17, 100, 31, 32, 201};
                         const auto k = Uniform(rng, slots.size() * n_kv * dim, -4, 4);
                         const auto v = Uniform(rng, slots.size() * n_kv * dim, -4, 4);
                         if (auto s = r.WriteKv(expected.layer, slots, k, v); !s.ok()) return FromError(s, "reference");
                         if (auto s = c.WriteKv(actual.layer, slots, k, v); !s.ok()) return FromError(s, "candidate");
                         CaseResult out = FromComparison(CompareValues(CacheValues(expected), CacheValues(actual), {}), {});
                         out.tolerance = "exact";
                         return out;
                       }});
    }
    struct Shape {
      int64_t heads, kv_heads, dim, window;
    };
    for (Shape sh : {Shape{8, 2, 64, 0}, Shape{4, 4, 128, 0}, Shape{8, 1, 256, 0},
                     Shape{6, 2, 64, 7}, Shape{14, 2, 64, 0}}) {
      cases.push_back(
          {"paged_attention",
           fmt::format("{} cache, {}/{} heads x {}{}", type_name, sh.heads, sh.kv_heads, sh.dim,
                       sh.window > 0 ? fmt::format(", window {}", sh.window) : ""),
           [=](OpBackend& c, OpBackend& r, Rng& rng) {
             const HostCache cache = MakeCache(type, sh.kv_heads, sh.dim, rng);
             // Four sequences: a first token, a decode at 37, a prefill chunk at 13..17, and
             // three tokens at 60..62; each with its own shuffled blocks.
             std::vector<int32_t> blocks(16);
             for (int32_t i = 0; i < 16; ++i) blocks[i] = i;
             std::shuffle(blocks.begin(), blocks.end(), rng);
             const std::vector<int32_t> t0(blocks.begin(), blocks.begin() + 1);
             const std::vector<int32_t> t1(blocks.begin() + 1, blocks.begin() + 4);
             const std::vector<int32_t> t2(blocks.begin() + 4, blocks.begin() + 6);
             const std::vector<int32_t> t3(blocks.begin() + 6, blocks.begin() + 10);
             const std::vector<AttentionSequence> seqs = {
                 {.block_table = t0, .first_token = 0, .n_tokens = 1, .start_position = 0},
                 {.block_table = t1, .first_token = 1, .n_tokens = 1, .start_position = 37},
                 {.block_table = t2, .first_token = 2, .n_tokens = 5, .start_position = 13},
                 {.block_table = t3, .first_token = 7, .n_tokens = 3, .start_position = 60}};
             const int64_t tokens = 10;
             const AttentionShape shape{.n_heads = sh.heads, .n_kv_heads = sh.kv_heads,
                                        .head_dim = sh.dim, .value_dim = sh.dim,
                                        .scale = 1.0f / std::sqrt(static_cast<float>(sh.dim)),
                                        .sliding_window = sh.window};
             const auto q = Uniform(rng, tokens * sh.heads * sh.dim, -1, 1);
             constexpr Tolerance kTol{1e-6, 1e-5};  // expf's last bits
             return Both(c, r, tokens * sh.heads * sh.dim, kTol, [&](OpBackend& b, std::span<float> y) {
               return b.PagedAttention(shape, cache.layer, seqs, q, y);
             });
           }});
    }
  }
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = [] {
    std::vector<Case> all;
    AddNormCases(all);
    AddRopeCases(all);
    AddActivationCases(all);
    AddRowReductionCases(all);
    AddRowCases(all);
    AddWeightCases(all);
    AddAttentionCases(all);
    return all;
  }();
  return cases;
}

const char* StatusName(CaseStatus s) {
  switch (s) {
    case CaseStatus::kPass: return "pass";
    case CaseStatus::kFail: return "FAIL";
    case CaseStatus::kError: return "ERROR";
    case CaseStatus::kNotRun: return "not run";
  }
  return "?";
}

}  // namespace

std::vector<CaseResult> RunOpCases(OpBackend& candidate, OpBackend& reference, uint32_t seed) {
  std::vector<CaseResult> results;
  for (size_t i = 0; i < Cases().size(); ++i) {
    const Case& c = Cases()[i];
    Rng rng(seed + static_cast<uint32_t>(i) * 7919u);
    CaseResult r = c.run(candidate, reference, rng);
    r.op = c.op;
    r.shape = c.shape;
    results.push_back(std::move(r));
  }
  return results;
}

std::vector<CaseResult> NotRunCases(std::string_view reason) {
  std::vector<CaseResult> results;
  for (const Case& c : Cases()) {
    results.push_back({.op = c.op, .shape = c.shape, .status = CaseStatus::kNotRun,
                       .detail = std::string(reason)});
  }
  return results;
}

std::string FormatTable(std::string_view backend, std::span<const CaseResult> results) {
  std::string out = fmt::format("backend self-test: {} against the cpu reference\n", backend);
  out += fmt::format("{:<15} {:<36} {:<8} {:>10} {:>10}  {:<28} {}\n", "op", "shape", "status",
                     "max abs", "max rel", "tolerance", "detail");
  int counts[4] = {};
  for (const CaseResult& r : results) {
    ++counts[static_cast<int>(r.status)];
    const bool ran = r.status == CaseStatus::kPass || r.status == CaseStatus::kFail;
    out += fmt::format("{:<15} {:<36} {:<8} {:>10} {:>10}  {:<28} {}\n", r.op, r.shape,
                       StatusName(r.status), ran ? fmt::format("{:.2e}", r.max_abs_error) : "-",
                       ran ? fmt::format("{:.2e}", r.max_rel_error) : "-", r.tolerance, r.detail);
  }
  out += fmt::format("{} cases: {} passed, {} failed, {} errors, {} not run\n", results.size(),
                     counts[0], counts[1], counts[2], counts[3]);
  return out;
}

int ExitCode(std::span<const CaseResult> results) {
  bool not_run = results.empty();
  for (const CaseResult& r : results) {
    if (r.status == CaseStatus::kFail || r.status == CaseStatus::kError) return 1;
    not_run |= r.status == CaseStatus::kNotRun;
  }
  return not_run ? 2 : 0;
}

}  // namespace shoal::kernels::selftest
