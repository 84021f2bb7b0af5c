// Small helpers for building absl::Status values.
#ifndef SHOAL_COMMON_STATUS_UTIL_H_
#define SHOAL_COMMON_STATUS_UTIL_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace shoal {

// The status with "`context`: " put in front of its message; OK stays OK.
inline absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  std::string message(context);
  message += ": ";
  message.append(status.message().data(), status.message().size());
  return absl::Status(status.code(), message);
}

// The message of a status as a std::string (Debian's Abseil has its own string_view).
inline std::string MessageOf(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

}  // namespace shoal

#endif  // SHOAL_COMMON_STATUS_UTIL_H_
