// SHOAL_CHECK: fatal assertion for internal invariants. Never use it on external input
// (files, requests, flags): those get an absl::Status instead.
#ifndef SHOAL_COMMON_CHECK_H_
#define SHOAL_COMMON_CHECK_H_

namespace shoal::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);
}  // namespace shoal::internal

#define SHOAL_CHECK(condition)                                        \
  do {                                                                \
    if (!(condition)) [[unlikely]] {                                  \
      ::shoal::internal::CheckFailed(__FILE__, __LINE__, #condition); \
    }                                                                 \
  } while (0)

#endif  // SHOAL_COMMON_CHECK_H_
