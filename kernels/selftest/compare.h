// How the backend self-test decides that a backend's output matches the reference's:
// element by element, within an absolute plus a relative tolerance, NaN only where the
// reference has NaN and infinities only where it has the same one.
#ifndef SHOAL_KERNELS_SELFTEST_COMPARE_H_
#define SHOAL_KERNELS_SELFTEST_COMPARE_H_

#include <cstdint>
#include <span>
#include <string>

namespace shoal::kernels::selftest {

struct Tolerance {
  double abs = 0.0;
  double rel = 0.0;
};

struct Comparison {
  bool pass = true;
  double max_abs_error = 0.0;
  double max_rel_error = 0.0;  // |a − e| / scale at the worst element
  int64_t worst_index = -1;    // the element furthest over (or nearest to) its bound
  std::string problem;         // why it failed, for the table
};

// Element i passes iff |actual − expected| ≤ tol.abs + tol.rel · scale_i, where scale_i
// is |expected_i|, or scales[i] when given (a matmul's Σ|w·x|, the size of its rounding
// error); or both are NaN; or both are the same infinity.
Comparison CompareValues(std::span<const float> expected, std::span<const float> actual,
                         Tolerance tol, std::span<const double> scales = {});

// Exact equality (indices, token ids).
Comparison CompareIndices(std::span<const int32_t> expected, std::span<const int32_t> actual);

}  // namespace shoal::kernels::selftest

#endif  // SHOAL_KERNELS_SELFTEST_COMPARE_H_
