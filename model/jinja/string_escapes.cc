#include "model/jinja/string_escapes.h"

#include <cstdio>

#include "model/jinja/str_util.h"
#include "model/jinja/utf8.h"

namespace shoal::model::jinja {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> DecodePythonEscapes(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char e = s[++i];
    switch (e) {
      case '\n':
        continue;
      case '\\':
      case '\'':
      case '"':
        out.push_back(e);
        continue;
      case 'a':
        out.push_back('\a');
        continue;
      case 'b':
        out.push_back('\b');
        continue;
      case 'f':
        out.push_back('\f');
        continue;
      case 'n':
        out.push_back('\n');
        continue;
      case 'r':
        out.push_back('\r');
        continue;
      case 't':
        out.push_back('\t');
        continue;
      case 'v':
        out.push_back('\v');
        continue;
      case 'N':
        return absl::InvalidArgumentError("unsupported \\N{...} escape");
      default:
        break;
    }
    if (e >= '0' && e <= '7') {
      char32_t cp = 0;
      size_t k = i;
      for (; k < s.size() && k < i + 3 && s[k] >= '0' && s[k] <= '7'; ++k)
        cp = cp * 8 + (s[k] - '0');
      utf8::Append(cp, &out);
      i = k - 1;
      continue;
    }
    const int width = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
    if (width > 0) {
      char32_t cp = 0;
      for (int k = 1; k <= width; ++k) {
        const int v = i + k < s.size() ? HexValue(s[i + k]) : -1;
        if (v < 0)
          return absl::InvalidArgumentError(Cat("truncated \\", std::string(1, e), " escape"));
        cp = cp * 16 + static_cast<char32_t>(v);
      }
      if (cp > 0x10FFFF) return absl::InvalidArgumentError("illegal Unicode character in escape");
      utf8::Append(cp, &out);
      i += width;
      continue;
    }
    // Unknown escapes stay as written. A non-ASCII character after the backslash comes
    // out in its backslashreplace form, as jinja2's ASCII round trip produces.
    out.push_back('\\');
    if (static_cast<unsigned char>(e) < 0x80) {
      out.push_back(e);
      continue;
    }
    size_t pos = i;
    const char32_t cp = utf8::Next(s, &pos);
    char buf[16];
    if (cp <= 0xFF || (cp >= 0xDC80 && cp <= 0xDCFF)) {
      std::snprintf(buf, sizeof(buf), "x%02x",
                    static_cast<unsigned>(cp >= 0xDC00 ? cp - 0xDC00 : cp));
    } else if (cp <= 0xFFFF) {
      std::snprintf(buf, sizeof(buf), "u%04x", static_cast<unsigned>(cp));
    } else {
      std::snprintf(buf, sizeof(buf), "U%08x", static_cast<unsigned>(cp));
    }
    out.append(buf);
    i = pos - 1;
  }
  return out;
}

}  // namespace shoal::model::jinja
