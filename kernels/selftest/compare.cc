#include "kernels/selftest/compare.h"

#include <cmath>

#include "fmt/format.h"

namespace shoal::kernels::selftest {

Comparison CompareValues(std::span<const float> expected, std::span<const float> actual,
                         Tolerance tol, std::span<const double> scales) {
  Comparison c;
  if (expected.size() != actual.size() || (!scales.empty() && scales.size() != expected.size())) {
    c.pass = false;
    c.problem = fmt::format("{} values, expected {}", actual.size(), expected.size());
    return c;
  }
  double worst_excess = -INFINITY;
  for (size_t i = 0; i < expected.size(); ++i) {
    const float e = expected[i], a = actual[i];
    if (std::isnan(e) || std::isnan(a) || std::isinf(e) || std::isinf(a)) {
      const bool same = (std::isnan(e) && std::isnan(a)) || (std::isinf(e) && a == e);
      if (!same && c.pass) {
        c.pass = false;
        c.worst_index = static_cast<int64_t>(i);
        c.problem = fmt::format("element {} is {}, expected {}", i, a, e);
      }
      continue;
    }
    const double error = std::fabs(double(a) - double(e));
    const double scale = scales.empty() ? std::fabs(double(e)) : scales[i];
    const double bound = tol.abs + tol.rel * scale;
    c.max_abs_error = std::max(c.max_abs_error, error);
    if (scale > 0) c.max_rel_error = std::max(c.max_rel_error, error / scale);
    if (error - bound > worst_excess) {
      worst_excess = error - bound;
      if (c.pass) c.worst_index = static_cast<int64_t>(i);
    }
    if (error > bound && c.pass) {
      c.pass = false;
      c.worst_index = static_cast<int64_t>(i);
      c.problem = fmt::format("element {} is {}, expected {} (error {:.3g} > bound {:.3g})", i, a,
                              e, error, bound);
    }
  }
  return c;
}

Comparison CompareIndices(std::span<const int32_t> expected, std::span<const int32_t> actual) {
  Comparison c;
  if (expected.size() != actual.size()) {
    c.pass = false;
    c.problem = fmt::format("{} values, expected {}", actual.size(), expected.size());
    return c;
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != actual[i]) {
      c.pass = false;
      c.worst_index = static_cast<int64_t>(i);
      c.max_abs_error = 1;
      c.problem = fmt::format("element {} is {}, expected {}", i, actual[i], expected[i]);
      return c;
    }
  }
  return c;
}

}  // namespace shoal::kernels::selftest
