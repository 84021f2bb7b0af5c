// common/log.h: the text and JSON line shapes (UTC time, level, role, message), JSON
// escaping that keeps every line parseable, level filtering before formatting, the
// rate-limited warning, and whole lines from concurrent threads.
#include "common/log.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/status_matchers.h"

namespace shoal::log {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kTimePattern[] = R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)";

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_OK(Init({})); }  // back to stderr before out_ goes

  void Capture(LogOptions options) {
    options.sink = &out_;
    ASSERT_OK(Init(options));
  }

  std::vector<std::string> Lines() {
    std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n');
    EXPECT_EQ(lines.back(), "") << "the last line has no newline";
    lines.pop_back();
    return lines;
  }

  std::ostringstream out_;
};

TEST_F(LogTest, TextLineHasUtcTimeLevelRoleAndMessage) {
  Capture({.json = false, .level = "info", .role = "scheduler"});
  SHOAL_LOG_INFO("grpc listening on {}:{}", "0.0.0.0", 50051);
  SHOAL_LOG_WARN("slow step: {:.1f} s", 2.25);
  SHOAL_LOG_ERROR("worker {} failed", 3);
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(3));
  const std::string t = kTimePattern;
  EXPECT_TRUE(std::regex_match(
      lines[0], std::regex(t + R"( INFO \[scheduler\] grpc listening on 0\.0\.0\.0:50051)")))
      << lines[0];
  EXPECT_TRUE(
      std::regex_match(lines[1], std::regex(t + R"( WARN \[scheduler\] slow step: 2\.2 s)")))
      << lines[1];
  EXPECT_TRUE(std::regex_match(lines[2], std::regex(t + R"( ERROR \[scheduler\] worker 3 failed)")))
      << lines[2];
}

TEST_F(LogTest, TextLineWithoutRoleLeavesItOut) {
  Capture({.level = "debug"});
  SHOAL_LOG_DEBUG("x={}", 1);
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(std::string(kTimePattern) + " DEBUG x=1")))
      << lines[0];
}

TEST_F(LogTest, TimeIsUtcNow) {
  // A zone far from UTC, so that a local time would show.
  const char* old_tz = std::getenv("TZ");
  const std::string saved = old_tz != nullptr ? old_tz : "";
  setenv("TZ", "Pacific/Kiritimati", 1);  // UTC+14
  tzset();
  Capture({});
  const std::time_t before = std::time(nullptr);
  SHOAL_LOG_INFO("now");
  const std::time_t after = std::time(nullptr);
  std::tm tm{};
  const std::string line = Lines().at(0);
  ASSERT_NE(strptime(line.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << line;
  const std::time_t logged = timegm(&tm);
  EXPECT_GE(logged, before);
  EXPECT_LE(logged, after);
  if (old_tz != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

TEST_F(LogTest, JsonLineIsOneObjectWithTheFields) {
  Capture({.json = true, .level = "info", .role = "router"});
  SHOAL_LOG_WARN("request {} refused", "r-1");
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(1));
  const nlohmann::json j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j.size(), 4u) << lines[0];
  EXPECT_EQ(j.at("level"), "warn");
  EXPECT_EQ(j.at("role"), "router");
  EXPECT_EQ(j.at("msg"), "request r-1 refused");
  EXPECT_TRUE(std::regex_match(j.at("time").get<std::string>(), std::regex(kTimePattern)));
  EXPECT_EQ(lines[0].substr(0, 9), R"({"time":")");
}

TEST_F(LogTest, JsonEscapesQuotesControlCharactersAndInvalidUtf8) {
  Capture({.json = true, .role = "a\"b"});
  constexpr char kMessage[] = "say \"hi\"\\ \n\t\x01 caf\xC3\xA9 \xF0\x9F\x90\x9F bad:\xFF\xC3";
  SHOAL_LOG_INFO("{}", kMessage);
  SHOAL_LOG_INFO("{}", std::string("nul:\0.", 6));
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(2));
  const nlohmann::json j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j.at("role").get<std::string>(), "a\"b");
  EXPECT_EQ(j.at("msg").get<std::string>(),
            "say \"hi\"\\ \n\t\x01 caf\xC3\xA9 \xF0\x9F\x90\x9F bad:\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(nlohmann::json::parse(lines[1]).at("msg").get<std::string>(),
            std::string("nul:\0.", 6));
}

TEST_F(LogTest, MessagesBelowTheLevelAreDropped) {
  Capture({.level = "warn"});
  EXPECT_EQ(CurrentLevel(), Level::kWarn);
  SHOAL_LOG_DEBUG("d");
  SHOAL_LOG_INFO("i");
  SHOAL_LOG_WARN("w");
  SHOAL_LOG_ERROR("e");
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_THAT(lines[0], HasSubstr(" WARN w"));
  EXPECT_THAT(lines[1], HasSubstr(" ERROR e"));

  Capture({.level = "off"});
  SHOAL_LOG_ERROR("e");
  EXPECT_THAT(Lines(), SizeIs(2));
}

TEST_F(LogTest, UnknownLevelIsRefusedAndKeepsTheLogger) {
  Capture({.level = "error"});
  EXPECT_THAT(Init({.level = "verbose"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'verbose'")));
  EXPECT_EQ(CurrentLevel(), Level::kError);
  SHOAL_LOG_ERROR("still here");
  ASSERT_THAT(Lines(), SizeIs(1));
}

TEST_F(LogTest, RateLimitedWarningGoesOutOncePerPeriod) {
  Capture({});
  for (int i = 0; i < 5; ++i) SHOAL_LOG_WARN_EVERY_N_SECONDS(3600, "hot path warning {}", i);
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], HasSubstr(" WARN hot path warning 0"));
}

TEST_F(LogTest, RateLimiterCountsWhatItHeldBack) {
  RateLimiter limiter;
  int64_t suppressed = -1;
  constexpr int64_t kSecond = 1'000'000'000;
  EXPECT_TRUE(limiter.Allow(2, 10 * kSecond, &suppressed));
  EXPECT_EQ(suppressed, 0);
  EXPECT_FALSE(limiter.Allow(2, 10 * kSecond + 1, &suppressed));
  EXPECT_FALSE(limiter.Allow(2, 12 * kSecond - 1, &suppressed));
  EXPECT_TRUE(limiter.Allow(2, 12 * kSecond, &suppressed));
  EXPECT_EQ(suppressed, 2);
  EXPECT_FALSE(limiter.Allow(2, 13 * kSecond, &suppressed));
  EXPECT_TRUE(limiter.Allow(2, 20 * kSecond, &suppressed));
  EXPECT_EQ(suppressed, 1);
}

TEST_F(LogTest, SuppressedCountIsReported) {
  Capture({});
  internal::LogSuppressed(Level::kWarn, 2, "w {}", 1);
  internal::LogSuppressed(Level::kWarn, 0, "w {}", 2);
  // Through the macro: a tight loop over more than one period lets a second line out,
  // which counts the ones held back in between.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (Lines().size() < 4 && std::chrono::steady_clock::now() < deadline) {
    SHOAL_LOG_WARN_EVERY_N_SECONDS(0.1, "x");
  }
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(4));
  EXPECT_THAT(lines[0], ::testing::EndsWith(" WARN w 1 (2 similar messages suppressed)"));
  EXPECT_THAT(lines[1], ::testing::EndsWith(" WARN w 2"));
  EXPECT_THAT(lines[2], ::testing::EndsWith(" WARN x"));
  EXPECT_TRUE(std::regex_search(lines[3],
                                std::regex(R"( WARN x \([1-9]\d* similar messages suppressed\)$)")))
      << lines[3];
}

TEST_F(LogTest, ConcurrentThreadsWriteWholeLines) {
  Capture({.json = true});
  constexpr int kThreads = 8, kLines = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i)
        SHOAL_LOG_INFO("thread {} line {} {}", t, i, std::string(50, 'x'));
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(kThreads * kLines));
  std::vector<int> next(kThreads, 0);
  for (const std::string& line : lines) {
    const std::string msg = nlohmann::json::parse(line).at("msg");
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(msg.c_str(), "thread %d line %d", &t, &i), 2) << msg;
    ASSERT_EQ(i, next.at(t)++) << "lines of one thread out of order";
  }
}

}  // namespace
}  // namespace shoal::log
