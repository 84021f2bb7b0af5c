// UTF-8 helpers for the Jinja interpreter. Python's str works on code points and ours on
// UTF-8 bytes, so length, indexing, slicing, case mapping and whitespace tests decode here.
// An invalid byte counts as one code point of its own (like Python's surrogateescape) and
// is written back unchanged, so no input can make these functions fail.
#ifndef SHOAL_MODEL_JINJA_UTF8_H_
#define SHOAL_MODEL_JINJA_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::model::jinja::utf8 {

// Decodes the code point at s[*pos] and advances *pos past it. An invalid byte b decodes
// to 0xDC00 + b and advances by one.
char32_t Next(std::string_view s, size_t* pos);

// Appends the UTF-8 encoding of `cp`; 0xDC80..0xDCFF (an escaped invalid byte) is
// written back as that raw byte.
void Append(char32_t cp, std::string* out);

// Number of code points.
size_t Length(std::string_view s);

// Byte offsets of each code point start, plus s.size() at the end.
std::vector<size_t> Offsets(std::string_view s);

// Python's str.isspace / str.isprintable / str.isalnum / str.isalpha / str.isdigit for one
// code point (categories from utf8proc, so very new code points may differ from Python).
bool IsSpace(char32_t cp);
bool IsPrintable(char32_t cp);
bool IsAlpha(char32_t cp);
bool IsDigit(char32_t cp);
bool IsAlnum(char32_t cp);
bool IsCased(char32_t cp);
bool IsLowerChar(char32_t cp);
bool IsUpperChar(char32_t cp);

// Simple (one to one) case mappings.
char32_t ToUpper(char32_t cp);
char32_t ToLower(char32_t cp);
char32_t ToTitle(char32_t cp);

// Python's full case mappings of one code point: the simple mapping plus SpecialCasing's
// unconditional one-to-many entries ("ß" upper-cases to "SS", "ﬁ" to "FI").
void AppendUpper(char32_t cp, std::string* out);
void AppendLower(char32_t cp, std::string* out);
void AppendTitle(char32_t cp, std::string* out);

std::string Upper(std::string_view s);
std::string Lower(std::string_view s);
// Python str.title(): a cased character after an uncased one is title-cased, others
// lowered.
std::string PyTitle(std::string_view s);
// Python str.capitalize(): the first character title-cased, the rest lowered.
std::string Capitalize(std::string_view s);

// Python str.strip/lstrip/rstrip. With `chars` null, strips whitespace (IsSpace);
// otherwise strips any code point contained in *chars.
std::string_view Strip(std::string_view s, const std::string_view* chars, bool left, bool right);

// Python str.splitlines() (without keepends).
std::vector<std::string_view> SplitLines(std::string_view s);

}  // namespace shoal::model::jinja::utf8

#endif  // SHOAL_MODEL_JINJA_UTF8_H_
