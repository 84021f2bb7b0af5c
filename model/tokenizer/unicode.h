// Unicode helpers for the tokenizers: UTF-8 decoding that treats invalid input the way
// llama.cpp does (src/unicode.cpp), UTF-8 encoding, and the code point classes its
// pre-tokenizers test (\p{L}, \p{N}, \s, ...).
//
// The classes come from utf8proc (Unicode 15.0) plus the code points Unicode 15.1
// assigned, because llama.cpp's generated table (src/unicode-data.cpp) is Unicode 15.1:
// U+2FFC..U+2FFF and U+31EF (So) and CJK Extension I, U+2EBF0..U+2EE5D (Lo). With those
// the two agree on every code point (checked over all 0x110000 of them).
#ifndef SHOAL_MODEL_TOKENIZER_UNICODE_H_
#define SHOAL_MODEL_TOKENIZER_UNICODE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::model {

inline constexpr uint32_t kReplacementCharacter = 0xFFFD;
inline constexpr uint32_t kMaxCodepoint = 0x10FFFF;

// The general-category class of a code point plus White_Space, as bits.
class CodepointFlags {
 public:
  enum : uint16_t {
    kUndefined = 0x0001,    // Cn, and anything outside the code space
    kNumber = 0x0002,       // \p{N}
    kLetter = 0x0004,       // \p{L}
    kSeparator = 0x0008,    // \p{Z}
    kMark = 0x0010,         // \p{M}
    kPunctuation = 0x0020,  // \p{P}
    kSymbol = 0x0040,       // \p{S}
    kControl = 0x0080,      // \p{C} other than Cn
    kCategoryMask = 0x00FF,
    kWhitespace = 0x0100,  // the White_Space property (\s)
  };

  constexpr CodepointFlags() = default;  // "no code point": every test is false
  constexpr explicit CodepointFlags(uint16_t bits) : bits_(bits) {}

  bool any() const { return bits_ != 0; }
  bool is_letter() const { return (bits_ & kLetter) != 0; }
  bool is_number() const { return (bits_ & kNumber) != 0; }
  bool is_whitespace() const { return (bits_ & kWhitespace) != 0; }
  uint16_t category() const { return bits_ & kCategoryMask; }
  uint16_t bits() const { return bits_; }

 private:
  uint16_t bits_ = 0;
};

CodepointFlags FlagsOf(uint32_t cpt);

// Lower-cases ASCII letters only. That is all llama.cpp's case-insensitive
// contraction matching can observe: no other code point lower-cases to one of the
// letters it compares with (s, t, m, d, r, e, v, l).
inline uint32_t AsciiLower(uint32_t cpt) { return cpt >= 'A' && cpt <= 'Z' ? cpt + 32 : cpt; }

// The length of the UTF-8 sequence a lead byte announces, from its high four bits
// alone, as llama.cpp's SPM tokenizer splits text: 1 for ASCII and for stray
// continuation bytes, 2, 3, or 4 (also for the invalid leads 0xF8..0xFF).
inline size_t Utf8LengthFromLead(uint8_t lead) {
  static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[lead >> 4];
}

// Decodes `text` into code points. Like llama.cpp, it checks only that continuation
// bytes are present and of the form 10xxxxxx (overlong forms and surrogates decode to
// their values); each byte that does not start such a sequence becomes U+FFFD and
// decoding resumes at the next byte. Unlike llama.cpp, a 4-byte form above U+10FFFF is
// also invalid here (llama.cpp decodes it and then throws when re-encoding it).
void DecodeUtf8(std::string_view text, std::vector<uint32_t>* cpts);

// Appends the UTF-8 encoding of `cpt` (which must be <= U+10FFFF).
void AppendUtf8(uint32_t cpt, std::string* out);

// The number of leading bytes of `bytes` that form complete UTF-8 sequences or
// definitely-invalid bytes, i.e. everything except a trailing prefix of a sequence
// that more bytes could still complete.
size_t CompleteUtf8Prefix(std::string_view bytes);

// Appends `bytes` to `out` with every ill-formed subsequence replaced by U+FFFD,
// following the W3C/WHATWG "maximal subpart" practice (what Python's
// bytes.decode("utf-8", "replace") does): strict UTF-8, no overlongs, no surrogates.
void AppendValidUtf8(std::string_view bytes, std::string* out);

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_UNICODE_H_
