#include "router/utf8.h"

#include "gtest/gtest.h"

namespace shoal::router {
namespace {

TEST(ToValidUtf8Test, KeepsWellFormedText) {
  EXPECT_EQ(ToValidUtf8("plain"), "plain");
  EXPECT_EQ(ToValidUtf8("\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8C\x8A"),
            "\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8C\x8A");
}

TEST(ToValidUtf8Test, ReplacesEachBadByte) {
  EXPECT_EQ(ToValidUtf8("a\xE2\x82"), "a\xEF\xBF\xBD\xEF\xBF\xBD");      // truncated euro sign
  EXPECT_EQ(ToValidUtf8("\x80x"), "\xEF\xBF\xBDx");                        // lone continuation
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");          // overlong '/'
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(ToValidUtf8("\xF4\x90\x80\x80").substr(0, 3), "\xEF\xBF\xBD");  // above U+10FFFF
  EXPECT_EQ(ToValidUtf8("\xFF"), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace shoal::router
