// GoogleTest matchers for absl::Status / absl::StatusOr, which Debian 12's Abseil
// does not ship: EXPECT_THAT(s, IsOk()), EXPECT_THAT(s, StatusIs(code, HasSubstr(..))),
// ASSERT_OK_AND_ASSIGN(auto v, MakeV()).
#ifndef SHOAL_TESTS_SUPPORT_STATUS_MATCHERS_H_
#define SHOAL_TESTS_SUPPORT_STATUS_MATCHERS_H_

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shoal::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = ::shoal::testing::GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + ::testing::PrintToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = ::shoal::testing::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

}  // namespace shoal::testing

#define SHOAL_TEST_CONCAT_INNER_(a, b) a##b
#define SHOAL_TEST_CONCAT_(a, b) SHOAL_TEST_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::shoal::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::shoal::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(SHOAL_TEST_CONCAT_(shoal_test_statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  ASSERT_TRUE(statusor.ok()) << statusor.status();      \
  lhs = *std::move(statusor)

#endif  // SHOAL_TESTS_SUPPORT_STATUS_MATCHERS_H_
