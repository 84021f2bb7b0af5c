#include "router/utf8.h"

namespace shoal::router {

std::string ToValidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    const int length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = length > 0 && i + length <= bytes.size();
    for (int k = 1; ok && k < length; ++k) ok = (static_cast<unsigned char>(bytes[i + k]) & 0xC0) == 0x80;
    if (ok && length > 1) {
      // No overlong forms, surrogates or code points above U+10FFFF.
      const auto c1 = static_cast<unsigned char>(bytes[i + 1]);
      ok = !(length == 2 && c < 0xC2) && !(length == 3 && c == 0xE0 && c1 < 0xA0) &&
           !(length == 3 && c == 0xED && c1 >= 0xA0) && !(length == 4 && c == 0xF0 && c1 < 0x90) &&
           !(length == 4 && (c > 0xF4 || (c == 0xF4 && c1 >= 0x90)));
    }
    if (ok) {
      out.append(bytes.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace shoal::router
