#include "common/log.h"

#include <chrono>
#include <ctime>
#include <iterator>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "spdlog/formatter.h"
#include "spdlog/logger.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace shoal::log {
namespace internal {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
}  // namespace internal

namespace {

using Buffer = spdlog::memory_buf_t;

std::string_view LevelName(spdlog::level::level_enum level, bool upper) {
  switch (level) {
    case spdlog::level::debug:
      return upper ? "DEBUG" : "debug";
    case spdlog::level::info:
      return upper ? "INFO" : "info";
    case spdlog::level::warn:
      return upper ? "WARN" : "warn";
    default:
      return upper ? "ERROR" : "error";
  }
}

void AppendUtcTime(std::chrono::system_clock::time_point time, Buffer& out) {
  const auto since_epoch = time.time_since_epoch();
  const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 millis);
}

// The length of the valid UTF-8 sequence at the start of `s`, or 0.
size_t Utf8SequenceLength(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  size_t length;
  uint32_t min;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  uint32_t code = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

// `s` as the contents of a JSON string: quotes, backslashes and control characters
// escaped, bytes that are not UTF-8 replaced by U+FFFD, so every line parses.
void AppendJsonString(std::string_view s, Buffer& out) {
  auto it = std::back_inserter(out);
  while (!s.empty()) {
    const unsigned char c = static_cast<unsigned char>(s[0]);
    size_t n = 1;
    if (c == '"' || c == '\\') {
      fmt::format_to(it, "\\{}", static_cast<char>(c));
    } else if (c == '\n') {
      fmt::format_to(it, "\\n");
    } else if (c == '\t') {
      fmt::format_to(it, "\\t");
    } else if (c == '\r') {
      fmt::format_to(it, "\\r");
    } else if (c < 0x20 || c == 0x7F) {
      fmt::format_to(it, "\\u{:04x}", c);
    } else if ((n = Utf8SequenceLength(s)) == 0) {
      fmt::format_to(it, "\\ufffd");
      n = 1;
    } else {
      out.append(s.data(), s.data() + n);
    }
    s.remove_prefix(n);
  }
}

class LineFormatter final : public spdlog::formatter {
 public:
  LineFormatter(bool json, std::string role) : json_(json), role_(std::move(role)) {}

  void format(const spdlog::details::log_msg& msg, Buffer& out) override {
    const std::string_view message(msg.payload.data(), msg.payload.size());
    if (json_) {
      out.append(std::string_view("{\"time\":\""));
      AppendUtcTime(msg.time, out);
      fmt::format_to(std::back_inserter(out), "\",\"level\":\"{}\"", LevelName(msg.level, false));
      if (!role_.empty()) {
        out.append(std::string_view(",\"role\":\""));
        AppendJsonString(role_, out);
        out.push_back('"');
      }
      out.append(std::string_view(",\"msg\":\""));
      AppendJsonString(message, out);
      out.append(std::string_view("\"}\n"));
      return;
    }
    AppendUtcTime(msg.time, out);
    fmt::format_to(std::back_inserter(out), " {}", LevelName(msg.level, true));
    if (!role_.empty()) fmt::format_to(std::back_inserter(out), " [{}]", role_);
    out.push_back(' ');
    out.append(message);
    out.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(json_, role_);
  }

 private:
  const bool json_;
  const std::string role_;
};

absl::StatusOr<Level> ParseLevel(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  if (name == "off") return Level::kOff;
  return absl::InvalidArgumentError(
      fmt::format("unknown log level '{}' (expected debug, info, warn, error or off)", name));
}

std::shared_ptr<spdlog::logger> MakeLogger(const LogOptions& options) {
  spdlog::sink_ptr sink;
  if (options.sink != nullptr) {
    sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*options.sink, /*force_flush=*/true);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  // Not in spdlog's registry: nobody reaches it by name, and it needs no shutdown.
  auto logger = std::make_shared<spdlog::logger>("shoal", std::move(sink));
  logger->set_formatter(std::make_unique<LineFormatter>(options.json, options.role));
  logger->set_level(spdlog::level::trace);  // filtered by g_level before formatting
  logger->flush_on(spdlog::level::trace);
  return logger;
}

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    default:
      return spdlog::level::err;
  }
}

absl::Mutex g_mu;
std::shared_ptr<spdlog::logger>& LoggerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
  static auto* logger = new std::shared_ptr<spdlog::logger>(MakeLogger({}));  // never freed
  return *logger;
}

std::shared_ptr<spdlog::logger> CurrentLogger() {
  absl::MutexLock lock(&g_mu);
  return LoggerLocked();
}

}  // namespace

absl::Status Init(const LogOptions& options) {
  absl::StatusOr<Level> level = ParseLevel(options.level);
  if (!level.ok()) return level.status();
  std::shared_ptr<spdlog::logger> logger = MakeLogger(options);
  absl::MutexLock lock(&g_mu);
  LoggerLocked() = std::move(logger);
  internal::g_level.store(static_cast<int>(*level), std::memory_order_relaxed);
  return absl::OkStatus();
}

Level CurrentLevel() {
  return static_cast<Level>(internal::g_level.load(std::memory_order_relaxed));
}

bool RateLimiter::Allow(double seconds, int64_t now_nanos, int64_t* suppressed) {
  const auto period = static_cast<int64_t>(seconds * 1e9);
  int64_t next = next_nanos_.load(std::memory_order_relaxed);
  while (true) {
    if (now_nanos < next) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (next_nanos_.compare_exchange_weak(next, now_nanos + period, std::memory_order_relaxed)) {
      *suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
      return true;
    }
  }
}

bool RateLimiter::Allow(double seconds, int64_t* suppressed) {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  return Allow(seconds, now, suppressed);
}

namespace internal {

void Write(Level level, std::string_view message) {
  if (level == Level::kOff) return;
  CurrentLogger()->log(ToSpdlog(level), spdlog::string_view_t(message.data(), message.size()));
}

}  // namespace internal
}  // namespace shoal::log
