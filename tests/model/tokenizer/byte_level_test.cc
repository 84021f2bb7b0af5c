#include "model/tokenizer/byte_level.h"

#include <set>

#include "gtest/gtest.h"

namespace shoal::model {
namespace {

TEST(ByteLevelTest, PrintableBytesMapToThemselves) {
  EXPECT_EQ(ByteToCodepoint('a'), static_cast<uint32_t>('a'));
  EXPECT_EQ(ByteToCodepoint('!'), static_cast<uint32_t>('!'));
  EXPECT_EQ(ByteToCodepoint(0xE9), 0xE9u);
}

TEST(ByteLevelTest, OtherBytesMapAboveU0100InOrder) {
  EXPECT_EQ(ByteToCodepoint(0x00), 0x100u);
  EXPECT_EQ(ByteToCodepoint('\n'), 0x10Au);
  EXPECT_EQ(ByteToCodepoint(' '), 0x120u);
  EXPECT_EQ(ByteToCodepoint(0x7F), 0x121u);
  EXPECT_EQ(ByteToCodepoint(0xA0), 0x142u);
  EXPECT_EQ(ByteToCodepoint(0xAD), 0x143u);
  EXPECT_EQ(ByteToUtf8(' '), "\xC4\xA0");  // Ġ
}

TEST(ByteLevelTest, IsABijection) {
  std::set<uint32_t> seen;
  for (int byte = 0; byte < 256; ++byte) {
    const uint32_t cpt = ByteToCodepoint(static_cast<uint8_t>(byte));
    EXPECT_TRUE(seen.insert(cpt).second);
    EXPECT_EQ(CodepointToByte(cpt), byte);
  }
  EXPECT_EQ(CodepointToByte(0x2581), std::nullopt);
  EXPECT_EQ(CodepointToByte(0x144), std::nullopt);
}

TEST(ByteLevelTest, AppendsEachByte) {
  std::string out;
  AppendByteLevel("a b\n\xC3\xA9", &out);
  EXPECT_EQ(out,
            "a\xC4\xA0"
            "b\xC4\x8A\xC3\x83\xC2\xA9");  // aĠbĊÃ©
}

}  // namespace
}  // namespace shoal::model
