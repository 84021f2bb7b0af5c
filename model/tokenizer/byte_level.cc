#include "model/tokenizer/byte_level.h"

#include <array>

#include "model/tokenizer/unicode.h"

namespace shoal::model {
namespace {

bool MapsToItself(int byte) {
  return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

struct ByteTables {
  std::array<uint32_t, 256> codepoint{};
  std::array<std::string, 256> utf8;
  std::array<int16_t, 0x144> byte_of{};  // every code point in the alphabet is < U+0144
};

const ByteTables& Tables() {
  static const ByteTables* tables = [] {
    auto* t = new ByteTables();
    t->byte_of.fill(-1);
    uint32_t next = 0x100;
    for (int byte = 0; byte < 256; ++byte) {
      const uint32_t cpt = MapsToItself(byte) ? static_cast<uint32_t>(byte) : next++;
      t->codepoint[byte] = cpt;
      AppendUtf8(cpt, &t->utf8[byte]);
      t->byte_of[cpt] = static_cast<int16_t>(byte);
    }
    return t;
  }();
  return *tables;
}

}  // namespace

uint32_t ByteToCodepoint(uint8_t byte) { return Tables().codepoint[byte]; }

std::string_view ByteToUtf8(uint8_t byte) { return Tables().utf8[byte]; }

std::optional<uint8_t> CodepointToByte(uint32_t cpt) {
  const ByteTables& tables = Tables();
  if (cpt >= tables.byte_of.size() || tables.byte_of[cpt] < 0) return std::nullopt;
  return static_cast<uint8_t>(tables.byte_of[cpt]);
}

void AppendByteLevel(std::string_view bytes, std::string* out) {
  const ByteTables& tables = Tables();
  for (char c : bytes) out->append(tables.utf8[static_cast<uint8_t>(c)]);
}

}  // namespace shoal::model
