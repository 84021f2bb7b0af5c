#include "model/jinja/utf8.h"

#include <algorithm>

#include "utf8proc.h"

namespace shoal::model::jinja::utf8 {
namespace {

constexpr char32_t kEscapeBase = 0xDC00;

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

utf8proc_category_t Category(char32_t cp) {
  if (cp > 0x10FFFF) return UTF8PROC_CATEGORY_CN;
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

bool InSet(char32_t cp, const std::vector<char32_t>& set) {
  return std::find(set.begin(), set.end(), cp) != set.end();
}

bool IsEscapedByte(char32_t cp) { return cp >= kEscapeBase + 0x80 && cp <= kEscapeBase + 0xFF; }

}  // namespace

char32_t Next(std::string_view s, size_t* pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const size_t i = *pos;
  const unsigned char c = p[i];
  if (c < 0x80) {
    *pos = i + 1;
    return c;
  }
  int len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  }
  if (len == 0 || i + len > n) {
    *pos = i + 1;
    return kEscapeBase + c;
  }
  for (int k = 1; k < len; ++k) {
    if (!IsContinuation(p[i + k])) {
      *pos = i + 1;
      return kEscapeBase + c;
    }
    cp = (cp << 6) | (p[i + k] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF) {
    *pos = i + 1;
    return kEscapeBase + c;
  }
  *pos = i + len;
  return cp;
}

void Append(char32_t cp, std::string* out) {
  if (IsEscapedByte(cp)) {
    out->push_back(static_cast<char>(cp - kEscapeBase));
  } else if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    cp = std::min<char32_t>(cp, 0x10FFFF);
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t Length(std::string_view s) {
  size_t count = 0;
  for (size_t pos = 0; pos < s.size(); ++count) Next(s, &pos);
  return count;
}

std::vector<size_t> Offsets(std::string_view s) {
  std::vector<size_t> offsets;
  size_t pos = 0;
  while (pos < s.size()) {
    offsets.push_back(pos);
    Next(s, &pos);
  }
  offsets.push_back(s.size());
  return offsets;
}

bool IsSpace(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool IsPrintable(char32_t cp) {
  if (cp == ' ') return true;
  if (IsEscapedByte(cp)) return false;
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return false;
    default:
      return true;
  }
}

bool IsAlpha(char32_t cp) {
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

bool IsDigit(char32_t cp) { return Category(cp) == UTF8PROC_CATEGORY_ND; }

bool IsAlnum(char32_t cp) {
  const auto cat = Category(cp);
  return IsAlpha(cp) || cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL ||
         cat == UTF8PROC_CATEGORY_NO;
}

bool IsCased(char32_t cp) {
  return IsLowerChar(cp) || IsUpperChar(cp) || Category(cp) == UTF8PROC_CATEGORY_LT;
}
bool IsLowerChar(char32_t cp) { return Category(cp) == UTF8PROC_CATEGORY_LL; }
bool IsUpperChar(char32_t cp) { return Category(cp) == UTF8PROC_CATEGORY_LU; }

char32_t ToUpper(char32_t cp) {
  if (cp > 0x10FFFF || IsEscapedByte(cp) || cp == 0xDF) return cp;
  return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(cp)));
}
char32_t ToLower(char32_t cp) {
  if (cp > 0x10FFFF || IsEscapedByte(cp)) return cp;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}
char32_t ToTitle(char32_t cp) {
  if (cp > 0x10FFFF || IsEscapedByte(cp)) return cp;
  return static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(cp)));
}

namespace {

// SpecialCasing.txt's unconditional multi-character mappings (upper, title), without the
// Greek iota-subscript forms.
struct SpecialCase {
  char32_t cp;
  const char* upper;
  const char* title;
};
constexpr SpecialCase kSpecialCases[] = {
    {0x00DF, "SS", "Ss"},
    {0x0149, "\u02bcN", "\u02bcN"},
    {0x01F0, "J\u030c", "J\u030c"},
    {0x0390, "\u0399\u0308\u0301", "\u0399\u0308\u0301"},
    {0x03B0, "\u03a5\u0308\u0301", "\u03a5\u0308\u0301"},
    {0x0587, "\u0535\u0552", "\u0535\u0582"},
    {0x1E96, "H\u0331", "H\u0331"},
    {0x1E97, "T\u0308", "T\u0308"},
    {0x1E98, "W\u030a", "W\u030a"},
    {0x1E99, "Y\u030a", "Y\u030a"},
    {0x1E9A, "A\u02be", "A\u02be"},
    {0xFB00, "FF", "Ff"},
    {0xFB01, "FI", "Fi"},
    {0xFB02, "FL", "Fl"},
    {0xFB03, "FFI", "Ffi"},
    {0xFB04, "FFL", "Ffl"},
    {0xFB05, "ST", "St"},
    {0xFB06, "ST", "St"},
    {0xFB13, "\u0544\u0546", "\u0544\u0576"},
    {0xFB14, "\u0544\u0535", "\u0544\u0565"},
    {0xFB15, "\u0544\u053b", "\u0544\u056b"},
    {0xFB16, "\u054e\u0546", "\u054e\u0576"},
    {0xFB17, "\u0544\u053d", "\u0544\u056d"},
};

const SpecialCase* FindSpecialCase(char32_t cp) {
  for (const SpecialCase& c : kSpecialCases) {
    if (c.cp == cp) return &c;
  }
  return nullptr;
}

}  // namespace

void AppendUpper(char32_t cp, std::string* out) {
  if (const SpecialCase* c = cp >= 0xDF ? FindSpecialCase(cp) : nullptr) {
    out->append(c->upper);
  } else {
    Append(ToUpper(cp), out);
  }
}

void AppendLower(char32_t cp, std::string* out) {
  if (cp == 0x130) {
    out->append("i\u0307");  // İ
  } else {
    Append(ToLower(cp), out);
  }
}

void AppendTitle(char32_t cp, std::string* out) {
  if (const SpecialCase* c = cp >= 0xDF ? FindSpecialCase(cp) : nullptr) {
    out->append(c->title);
  } else {
    Append(ToTitle(cp), out);
  }
}

std::string Upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) AppendUpper(Next(s, &pos), &out);
  return out;
}

std::string Lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) AppendLower(Next(s, &pos), &out);
  return out;
}

std::string PyTitle(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool previous_cased = false;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = Next(s, &pos);
    if (previous_cased) {
      AppendLower(cp, &out);
    } else {
      AppendTitle(cp, &out);
    }
    previous_cased = IsCased(cp);
  }
  return out;
}

std::string Capitalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool first = true;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = Next(s, &pos);
    if (first) {
      AppendTitle(cp, &out);
    } else {
      AppendLower(cp, &out);
    }
    first = false;
  }
  return out;
}

std::string_view Strip(std::string_view s, const std::string_view* chars, bool left, bool right) {
  std::vector<char32_t> set;
  if (chars != nullptr) {
    for (size_t pos = 0; pos < chars->size();) set.push_back(Next(*chars, &pos));
  }
  auto strippable = [&](char32_t cp) { return chars ? InSet(cp, set) : IsSpace(cp); };
  const std::vector<size_t> offsets = Offsets(s);
  size_t begin = 0;                 // index into offsets
  size_t end = offsets.size() - 1;  // exclusive code point index
  auto cp_at = [&](size_t i) {
    size_t pos = offsets[i];
    return Next(s, &pos);
  };
  if (left) {
    while (begin < end && strippable(cp_at(begin))) ++begin;
  }
  if (right) {
    while (end > begin && strippable(cp_at(end - 1))) --end;
  }
  return s.substr(offsets[begin], offsets[end] - offsets[begin]);
}

std::vector<std::string_view> SplitLines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t cp_start = pos;
    const char32_t cp = Next(s, &pos);
    bool is_break = false;
    switch (cp) {
      case '\n':
      case '\r':
      case 0x0B:
      case 0x0C:
      case 0x1C:
      case 0x1D:
      case 0x1E:
      case 0x85:
      case 0x2028:
      case 0x2029:
        is_break = true;
        break;
      default:
        break;
    }
    if (!is_break) continue;
    lines.push_back(s.substr(start, cp_start - start));
    if (cp == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
    start = pos;
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  return lines;
}

}  // namespace shoal::model::jinja::utf8
