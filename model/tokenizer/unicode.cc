#include "model/tokenizer/unicode.h"

#include <array>

#include "utf8proc.h"

namespace shoal::model {
namespace {

// The White_Space property (Unicode PropList.txt); stable across Unicode versions.
bool IsWhiteSpace(uint32_t cpt) {
  if (cpt <= 0x20) return cpt == 0x20 || (cpt >= 0x09 && cpt <= 0x0D);
  if (cpt < 0x85) return false;
  switch (cpt) {
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
      return cpt >= 0x2000 && cpt <= 0x200A;
  }
}

uint16_t CategoryBits(uint32_t cpt) {
  // Assigned in Unicode 15.1, which utf8proc 2.8 (Unicode 15.0) does not know yet.
  if ((cpt >= 0x2FFC && cpt <= 0x2FFF) || cpt == 0x31EF) return CodepointFlags::kSymbol;
  if (cpt >= 0x2EBF0 && cpt <= 0x2EE5D) return CodepointFlags::kLetter;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cpt))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return CodepointFlags::kLetter;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return CodepointFlags::kMark;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CodepointFlags::kNumber;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return CodepointFlags::kPunctuation;
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
      return CodepointFlags::kSymbol;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return CodepointFlags::kSeparator;
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
      return CodepointFlags::kControl;
    default:
      return CodepointFlags::kUndefined;
  }
}

uint16_t ComputeFlags(uint32_t cpt) {
  uint16_t bits = CategoryBits(cpt);
  if (IsWhiteSpace(cpt)) bits |= CodepointFlags::kWhitespace;
  return bits;
}

// The Basic Multilingual Plane, where nearly all text lives, as a table built once.
constexpr uint32_t kTableSize = 0x10000;

const std::array<uint16_t, kTableSize>& BmpTable() {
  static const auto* table = [] {
    auto* t = new std::array<uint16_t, kTableSize>();
    for (uint32_t cpt = 0; cpt < kTableSize; ++cpt) (*t)[cpt] = ComputeFlags(cpt);
    return t;
  }();
  return *table;
}

bool IsContinuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

// For a strict UTF-8 lead byte: the sequence length and the allowed range of the
// second byte (Unicode Table 3-7). Returns 0 for bytes that cannot start a sequence.
size_t StrictLead(uint8_t lead, uint8_t* lo, uint8_t* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (lead == 0xE0) *lo = 0xA0;
    if (lead == 0xED) *hi = 0x9F;
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (lead == 0xF0) *lo = 0x90;
    if (lead == 0xF4) *hi = 0x8F;
    return 4;
  }
  return 0;
}

// The length of the longest prefix of bytes[pos..] that is a valid beginning of a
// strict UTF-8 sequence (at most the full sequence), and the full length in `*need`.
size_t StrictPrefix(std::string_view bytes, size_t pos, size_t* need) {
  uint8_t lo, hi;
  *need = StrictLead(static_cast<uint8_t>(bytes[pos]), &lo, &hi);
  if (*need == 0) return 0;
  size_t k = 1;
  if (pos + 1 < bytes.size()) {
    const auto second = static_cast<uint8_t>(bytes[pos + 1]);
    if (second < lo || second > hi) return k;
    k = 2;
    while (k < *need && pos + k < bytes.size() && IsContinuation(bytes[pos + k])) ++k;
  }
  return k;
}

}  // namespace

CodepointFlags FlagsOf(uint32_t cpt) {
  if (cpt < kTableSize) return CodepointFlags(BmpTable()[cpt]);
  if (cpt > kMaxCodepoint) return CodepointFlags(CodepointFlags::kUndefined);
  return CodepointFlags(ComputeFlags(cpt));
}

void DecodeUtf8(std::string_view text, std::vector<uint32_t>* cpts) {
  cpts->reserve(cpts->size() + text.size());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    if (b0 < 0x80) {
      cpts->push_back(b0);
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cpt = 0;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2;
      cpt = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3;
      cpt = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4;
      cpt = b0 & 0x07;
    }
    bool valid = len != 0 && i + len <= n;
    for (size_t k = 1; valid && k < len; ++k) {
      const auto b = static_cast<uint8_t>(text[i + k]);
      valid = IsContinuation(b);
      cpt = (cpt << 6) | (b & 0x3F);
    }
    if (valid && cpt <= kMaxCodepoint) {
      cpts->push_back(cpt);
      i += len;
    } else {
      cpts->push_back(kReplacementCharacter);
      ++i;
    }
  }
}

void AppendUtf8(uint32_t cpt, std::string* out) {
  if (cpt < 0x80) {
    out->push_back(static_cast<char>(cpt));
  } else if (cpt < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cpt >> 6)));
    out->push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cpt >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cpt >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  }
}

size_t CompleteUtf8Prefix(std::string_view bytes) {
  const size_t n = bytes.size();
  // A sequence still open at the end starts at most 3 bytes before it.
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const size_t pos = n - back;
    const auto byte = static_cast<uint8_t>(bytes[pos]);
    if (IsContinuation(byte)) continue;
    size_t need = 0;
    const size_t have = StrictPrefix(bytes, pos, &need);
    return (need != 0 && have == back && have < need) ? pos : n;
  }
  return n;
}

void AppendValidUtf8(std::string_view bytes, std::string* out) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    if (static_cast<uint8_t>(bytes[i]) < 0x80) {
      out->push_back(bytes[i++]);
      continue;
    }
    size_t need = 0;
    const size_t have = StrictPrefix(bytes, i, &need);
    if (need != 0 && have == need) {
      out->append(bytes.substr(i, need));
      i += need;
    } else {
      out->append(kReplacement);
      i += have == 0 ? 1 : have;
    }
  }
}

}  // namespace shoal::model
