// Small helpers for building absl::Status values.
#ifndef SHOAL_COMMON_STATUS_UTIL_H_
#define SHOAL_COMMON_STATUS_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"

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

// How long a caller refused for load should wait before trying again, carried on the
// status (RESOURCE_EXHAUSTED, UNAVAILABLE) as a payload, so that the one mapping to
// each protocol can add a "retry-after" trailer or Retry-After header.
inline constexpr char kRetryAfterPayloadUrl[] = "shoal.dev/retry-after-seconds";

inline absl::Status WithRetryAfter(absl::Status status, int seconds) {
  status.SetPayload(kRetryAfterPayloadUrl, absl::Cord(std::to_string(seconds)));
  return status;
}

// The seconds WithRetryAfter put on the status; 0 when none.
inline int RetryAfterSeconds(const absl::Status& status) {
  const auto payload = status.GetPayload(kRetryAfterPayloadUrl);  // absl::optional
  if (!payload) return 0;
  int seconds = 0;
  for (char c : std::string(*payload)) {
    if (c < '0' || c > '9' || seconds > 86400) return 0;
    seconds = seconds * 10 + (c - '0');
  }
  return seconds;
}

}  // namespace shoal

#endif  // SHOAL_COMMON_STATUS_UTIL_H_
