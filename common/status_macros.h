// Status propagation helpers. Debian 12's Abseil (20220623) ships no status macros,
// so Shoal defines its own here; every library returns absl::Status/StatusOr at its
// boundaries and uses these to pass errors up.
#ifndef SHOAL_COMMON_STATUS_MACROS_H_
#define SHOAL_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SHOAL_STATUS_CONCAT_INNER_(a, b) a##b
#define SHOAL_STATUS_CONCAT_(a, b) SHOAL_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define SHOAL_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status shoal_status_ = (expr);         \
    if (!shoal_status_.ok()) return shoal_status_; \
  } while (0)

// `SHOAL_ASSIGN_OR_RETURN(auto x, MakeX());` declares/assigns `x` from a StatusOr, or
// returns its error from the enclosing function.
#define SHOAL_ASSIGN_OR_RETURN(lhs, expr) \
  SHOAL_ASSIGN_OR_RETURN_IMPL_(SHOAL_STATUS_CONCAT_(shoal_statusor_, __LINE__), lhs, expr)

#define SHOAL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)  \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // SHOAL_COMMON_STATUS_MACROS_H_
