// String helpers that take std::string_view. Debian 12's Abseil has its own string_view
// type, so absl::StrCat and absl's heterogeneous hash lookups do not accept
// std::string_view; the interpreter uses these instead.
#ifndef SHOAL_MODEL_JINJA_STR_UTIL_H_
#define SHOAL_MODEL_JINJA_STR_UTIL_H_

#include <charconv>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

namespace shoal::model::jinja {
namespace str_internal {

inline void Append(std::string* out, std::string_view s) { out->append(s); }
inline void Append(std::string* out, const char* s) { out->append(s); }
inline void Append(std::string* out, const std::string& s) { out->append(s); }
inline void Append(std::string* out, char c) { out->push_back(c); }
#ifndef ABSL_USES_STD_STRING_VIEW
inline void Append(std::string* out, absl::string_view s) { out->append(s.data(), s.size()); }
#endif
template <typename T,
          typename = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, char> &&
                                      !std::is_same_v<T, bool>>>
void Append(std::string* out, T value) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, result.ptr);
}

}  // namespace str_internal

// Concatenates strings, characters and integers.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (str_internal::Append(&out, args), ...);
  return out;
}

template <typename... Args>
void CatTo(std::string* out, const Args&... args) {
  (str_internal::Append(out, args), ...);
}

// Splits on `sep`, keeping empty pieces (like absl::StrSplit).
inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = s.find(sep); i != std::string_view::npos; i = s.find(sep, start)) {
    parts.push_back(s.substr(start, i - start));
    start = i + 1;
  }
  parts.push_back(s.substr(start));
  return parts;
}

// Parses a whole string of ASCII decimal digits (optionally signed).
template <typename T>
bool ParseDecimal(std::string_view s, T* out) {
  if (s.empty()) return false;
  const auto result = std::from_chars(s.data(), s.data() + s.size(), *out);
  return result.ec == std::errc() && result.ptr == s.data() + s.size();
}

inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Transparent hash and equality so that maps keyed by std::string accept std::string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_STR_UTIL_H_
