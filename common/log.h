// Logging for every role: one line per event on stderr, as text
//
//   2026-12-01T09:30:00.123Z INFO [scheduler] grpc listening on 0.0.0.0:50051
//
// or, with LogOptions::json, one JSON object per line
//
//   {"time":"2026-12-01T09:30:00.123Z","level":"info","role":"scheduler","msg":"..."}
//
// (UTC times; the role is left out when empty). A thin layer over spdlog, whose types
// stay out of this header. Messages are fmt format strings, checked at compile time:
//
//   SHOAL_LOG_INFO("request {} finished: {} tokens", id, n);
//   SHOAL_LOG_WARN_EVERY_N_SECONDS(10, "worker step took {:.1f} s", seconds);  // hot paths
//
// CONVENTIONS.md: log a request once when it completes; never per token or per step on
// the hot path (use the rate-limited form for warnings there); never a secret or a whole
// prompt at INFO.
//
// Threads: every function and macro here is thread-safe. Init may run while others log:
// a line goes wholly to the old or the new destination. Lines from different threads
// never interleave.
#ifndef SHOAL_COMMON_LOG_H_
#define SHOAL_COMMON_LOG_H_

#include <atomic>
#include <cstdint>
#include <iterator>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace shoal::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

struct LogOptions {
  bool json = false;  // one JSON object per line instead of text
  // The least severe level written: "debug", "info", "warn" (or "warning"), "error",
  // "off".
  std::string level = "info";
  std::string role;  // on every line: "router", "scheduler", "worker", "serve"; may be empty
  // Where lines go instead of stderr (tests). Must outlive the logging until the next
  // Init.
  std::ostream* sink = nullptr;
};

// Replaces the process's log destination and format (before Init: text on stderr at
// info, no role). InvalidArgument for an unknown level, leaving the logger as it was.
absl::Status Init(const LogOptions& options);

// The level Init set: messages below it are dropped before they are formatted.
Level CurrentLevel();

// Per call site of SHOAL_LOG_WARN_EVERY_N_SECONDS: lets one message through per period
// and counts the ones it held back. Lock-free.
class RateLimiter {
 public:
  // True when a message may go out at `now_nanos` (a steady clock), at most once per
  // `seconds`; then `*suppressed` is how many were held back since the last one.
  bool Allow(double seconds, int64_t now_nanos, int64_t* suppressed);
  bool Allow(double seconds, int64_t* suppressed);  // now from std::chrono::steady_clock

 private:
  std::atomic<int64_t> next_nanos_{INT64_MIN};
  std::atomic<int64_t> suppressed_{0};
};

namespace internal {

extern std::atomic<int> g_level;  // a Level, read before formatting

inline bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

// Writes one formatted message (the line's time, level and role are added here).
void Write(Level level, std::string_view message);

template <typename... Args>
void Log(Level level, fmt::format_string<Args...> format, Args&&... args) {
  if (!Enabled(level)) return;
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), format, std::forward<Args>(args)...);
  Write(level, std::string_view(buffer.data(), buffer.size()));
}

template <typename... Args>
void LogSuppressed(Level level, int64_t suppressed, fmt::format_string<Args...> format,
                   Args&&... args) {
  if (!Enabled(level)) return;
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), format, std::forward<Args>(args)...);
  if (suppressed > 0) {
    fmt::format_to(std::back_inserter(buffer), " ({} similar messages suppressed)", suppressed);
  }
  Write(level, std::string_view(buffer.data(), buffer.size()));
}

}  // namespace internal
}  // namespace shoal::log

#define SHOAL_LOG_DEBUG(...) ::shoal::log::internal::Log(::shoal::log::Level::kDebug, __VA_ARGS__)
#define SHOAL_LOG_INFO(...) ::shoal::log::internal::Log(::shoal::log::Level::kInfo, __VA_ARGS__)
#define SHOAL_LOG_WARN(...) ::shoal::log::internal::Log(::shoal::log::Level::kWarn, __VA_ARGS__)
#define SHOAL_LOG_ERROR(...) ::shoal::log::internal::Log(::shoal::log::Level::kError, __VA_ARGS__)

// A warning at most once per `seconds` from this call site; the next one that goes out
// says how many were held back in between.
#define SHOAL_LOG_WARN_EVERY_N_SECONDS(seconds, ...)                                           \
  do {                                                                                         \
    static ::shoal::log::RateLimiter shoal_log_rate_limiter_;                                  \
    int64_t shoal_log_suppressed_ = 0;                                                         \
    if (::shoal::log::internal::Enabled(::shoal::log::Level::kWarn) &&                         \
        shoal_log_rate_limiter_.Allow((seconds), &shoal_log_suppressed_)) {                    \
      ::shoal::log::internal::LogSuppressed(::shoal::log::Level::kWarn, shoal_log_suppressed_, \
                                            __VA_ARGS__);                                      \
    }                                                                                          \
  } while (0)

#endif  // SHOAL_COMMON_LOG_H_
