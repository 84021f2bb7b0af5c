// The backend self-test: every op on random inputs of many shapes (awkward ones
// included) through a candidate backend and the CPU reference, compared with per-op
// tolerances; a table of the results; an exit code. It is the first thing a GPU run
// executes (`shoal selftest --backend cuda`).
#ifndef SHOAL_KERNELS_SELFTEST_SELFTEST_H_
#define SHOAL_KERNELS_SELFTEST_SELFTEST_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/selftest/op_backend.h"

namespace shoal::kernels::selftest {

enum class CaseStatus { kPass, kFail, kError, kNotRun };

struct CaseResult {
  std::string op;
  std::string shape;  // what varied: sizes, types, conventions
  CaseStatus status = CaseStatus::kNotRun;
  double max_abs_error = 0.0;
  double max_rel_error = 0.0;
  std::string tolerance;  // as printed, e.g. "abs 1e-06 + rel 1e-05"
  std::string detail;     // the first mismatch, the error, or why it did not run
};

// One case per (op, shape); inputs from `seed`, so a failure can be rerun exactly.
std::vector<CaseResult> RunOpCases(OpBackend& candidate, OpBackend& reference, uint32_t seed);

// Every case of RunOpCases, not run, with `reason` (no device, built without CUDA).
std::vector<CaseResult> NotRunCases(std::string_view reason);

// A fixed-width table, one line per case, and a summary line.
std::string FormatTable(std::string_view backend, std::span<const CaseResult> results);

// 0 when every case passed; 1 when any failed or errored; 2 when none failed but some
// did not run (an incomplete check is not a pass).
int ExitCode(std::span<const CaseResult> results);

}  // namespace shoal::kernels::selftest

#endif  // SHOAL_KERNELS_SELFTEST_SELFTEST_H_
