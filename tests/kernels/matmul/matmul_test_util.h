// Shared inputs and references for the matmul kernel tests: random weight matrices of
// every type (random quant bits under realistic block scales, as
// tests/data_gen/quant_cases.py makes them), random activation rows with outliers and
// edge cases, the float64 reference product, and the error bounds the tests use.
#ifndef SHOAL_TESTS_KERNELS_MATMUL_MATMUL_TEST_UTIL_H_
#define SHOAL_TESTS_KERNELS_MATMUL_MATMUL_TEST_UTIL_H_

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "common/ggml_types.h"
#include "kernels/cpu_features.h"
#include "kernels/matmul/activations.h"
#include "tests/support/cpu_level.h"  // PrintTo(CpuLevel)

namespace shoal::kernels::matmul::testing {

// Every weight type MatMul accepts.
const std::vector<GgmlType>& MatMulTypes();

// The seed of this run: --gtest_random_seed when given, else a fixed one. Tests mix in
// their parameters and print the result with SCOPED_TRACE.
uint32_t BaseSeed();

// n_rows rows of n_cols values of `type`. Quantized types: random bytes with the half
// scale fields replaced by realistic values (both signs, some subnormal). Float types:
// normal values at a random scale per row.
std::vector<uint8_t> RandomWeights(GgmlType type, int64_t n_rows, int64_t n_cols,
                                   std::mt19937& rng);

// n_tokens rows of n_cols activations: normal values at a random scale per row, 1%
// outliers 20x larger; row 0 also has a zero first block and its largest magnitude
// present with both signs (the negative first), which Q8_K must resolve like ggml.
std::vector<float> RandomActivations(int64_t n_tokens, int64_t n_cols, std::mt19937& rng);

// Weights as floats through model/quant's reference dequantization (row-major).
std::vector<float> DequantizeWeights(GgmlType type, const std::vector<uint8_t>& data,
                                     int64_t n_rows, int64_t n_cols);

// The activation values a quantized row stands for (q·d, or the rounded floats).
std::vector<double> DequantizeActivationRow(const ActivationLayout& layout,
                                            const uint8_t* row);

// Per-element magnitudes |w| plus the part the kernels handle through offsets or mins
// (Q4_0: 8|d|, Q5_0: 16|d|, Q8_0: 128|d|, Q4_1/Q5_1: |m|, Q4_K/Q5_K: |dmin·min|, Q6_K:
// 32|d·scale|), so Σ magnitude·|a| bounds every partial sum the kernels form.
std::vector<double> WeightMagnitudes(GgmlType type, const std::vector<uint8_t>& data,
                                     const std::vector<float>& dequantized, int64_t n_rows,
                                     int64_t n_cols);

// Quantizes n_tokens rows with the reference quantizer into one buffer.
std::vector<uint8_t> QuantizeRows(const ActivationLayout& layout, const std::vector<float>& x,
                                  int64_t n_tokens);

std::string ShapeName(GgmlType type, int64_t n_rows, int64_t n_cols, int64_t n_tokens);

}  // namespace shoal::kernels::matmul::testing

namespace shoal {
// Readable test parameters in GoogleTest messages.
inline void PrintTo(GgmlType type, std::ostream* os) { *os << GgmlTypeName(type); }
}  // namespace shoal

#endif  // SHOAL_TESTS_KERNELS_MATMUL_MATMUL_TEST_UTIL_H_
