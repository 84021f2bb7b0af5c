#include "model/tokenizer/pre_tokenizer.h"

#include <algorithm>

#include "model/tokenizer/unicode.h"

namespace shoal::model {
namespace {

constexpr uint32_t kOutOfRange = 0xFFFFFFFF;

// One piece of text being split. Positions past `end` read as "no code point", which
// is how the splitters see the edge of the piece.
class Segment {
 public:
  Segment(std::span<const uint32_t> cpts, std::span<const CodepointFlags> flags, size_t begin,
          size_t end)
      : cpts_(cpts), flags_(flags), begin_(begin), end_(end) {}

  size_t begin() const { return begin_; }
  size_t end() const { return end_; }
  uint32_t Cpt(size_t pos) const { return pos < end_ ? cpts_[pos] : kOutOfRange; }
  CodepointFlags Flags(size_t pos) const { return pos < end_ ? flags_[pos] : CodepointFlags(); }

 private:
  std::span<const uint32_t> cpts_;
  std::span<const CodepointFlags> flags_;
  size_t begin_;
  size_t end_;
};

// Appends word lengths while walking a segment left to right.
class WordSink {
 public:
  WordSink(size_t begin, std::vector<size_t>* out) : pos_(begin), out_(out) {}
  size_t pos() const { return pos_; }
  void EmitTo(size_t end) {
    if (end > pos_) out_->push_back(end - pos_);
    pos_ = end;
  }

 private:
  size_t pos_;
  std::vector<size_t>* out_;
};

bool IsOther(CodepointFlags f) {  // [^\s\p{L}\p{N}], and a code point at all
  return f.any() && !(f.is_whitespace() || f.is_letter() || f.is_number());
}

bool IsLineBreak(uint32_t cpt) { return cpt == '\r' || cpt == '\n'; }

// 's|'t|'re|'ve|'m|'ll|'d at `pos`: the match length, or 0.
size_t ContractionLength(const Segment& s, size_t pos, bool ignore_case) {
  if (s.Cpt(pos) != '\'' || pos + 1 >= s.end()) return 0;
  auto letter = [&](size_t p) { return ignore_case ? AsciiLower(s.Cpt(p)) : s.Cpt(p); };
  const uint32_t c1 = letter(pos + 1);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (pos + 2 >= s.end()) return 0;
  const uint32_t c2 = letter(pos + 2);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// \s+(?!\S)|\s+ as llama.cpp matches it: a run followed by more text gives back its
// last whitespace code point; a run that ends the segment is kept whole.
size_t WhitespaceRunEnd(const Segment& s, size_t pos) {
  size_t n = 0;
  while (s.Flags(pos + n).is_whitespace()) ++n;
  if (n > 1 && s.Cpt(pos + n) != kOutOfRange) return pos + n - 1;
  if (n > 0) return pos + n;
  return pos + 1;  // no alternative matched: the code point stands alone
}

// llama3 (max_digits 3) and qwen2 (max_digits 1).
void SplitLlama3Like(const Segment& s, size_t max_digits, std::vector<size_t>* out) {
  WordSink sink(s.begin(), out);
  while (sink.pos() < s.end()) {
    const size_t pos = sink.pos();
    const uint32_t c = s.Cpt(pos);
    const CodepointFlags f = s.Flags(pos);
    if (size_t n = ContractionLength(s, pos, /*ignore_case=*/true)) {
      sink.EmitTo(pos + n);
      continue;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!(IsLineBreak(c) || f.is_number()) && (f.is_letter() || s.Flags(pos + 1).is_letter())) {
      size_t end = pos + 1;
      while (s.Flags(end).is_letter()) ++end;
      sink.EmitTo(end);
      continue;
    }
    // \p{N}{1,max_digits}, repeatedly
    if (f.is_number()) {
      size_t end = pos;
      while (s.Flags(end).is_number()) ++end;
      while (sink.pos() < end) sink.EmitTo(std::min(sink.pos() + max_digits, end));
      continue;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    const CodepointFlags f2 = c == ' ' ? s.Flags(pos + 1) : f;
    if (!(f2.is_whitespace() || f2.is_letter() || f2.is_number()) && f.any()) {
      size_t end = pos + (c == ' ' ? 1 : 0);
      while (IsOther(s.Flags(end))) ++end;
      while (IsLineBreak(s.Cpt(end))) ++end;
      sink.EmitTo(end);
      continue;
    }
    // \s*[\r\n]+ : up to the last line break of the whitespace run
    size_t n = 0;
    size_t after_last_break = 0;
    while (s.Flags(pos + n).is_whitespace()) {
      if (IsLineBreak(s.Cpt(pos + n))) after_last_break = pos + n + 1;
      ++n;
    }
    sink.EmitTo(after_last_break > 0 ? after_last_break : WhitespaceRunEnd(s, pos));
  }
}

void SplitGpt2(const Segment& s, std::vector<size_t>* out) {
  WordSink sink(s.begin(), out);
  while (sink.pos() < s.end()) {
    const size_t pos = sink.pos();
    const uint32_t c = s.Cpt(pos);
    if (size_t n = ContractionLength(s, pos, /*ignore_case=*/false)) {
      sink.EmitTo(pos + n);
      continue;
    }
    // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'
    const size_t start = pos + (c == ' ' ? 1 : 0);
    const CodepointFlags first = s.Flags(start);
    bool (*same_class)(CodepointFlags) = nullptr;
    if (first.is_letter()) {
      same_class = [](CodepointFlags f) { return f.is_letter(); };
    } else if (first.is_number()) {
      same_class = [](CodepointFlags f) { return f.is_number(); };
    } else if (IsOther(first)) {
      same_class = IsOther;
    }
    if (same_class != nullptr) {
      size_t end = start;
      while (same_class(s.Flags(end))) ++end;
      sink.EmitTo(end);
      continue;
    }
    sink.EmitTo(WhitespaceRunEnd(s, pos));
  }
}

// Splits a segment into maximal runs of code points in and out of a class (what
// std::regex_iterator over "[class]+" yields, matches and the text between them).
template <typename InClass>
void SplitRuns(const Segment& s, InClass in_class, std::vector<size_t>* out) {
  size_t pos = s.begin();
  while (pos < s.end()) {
    const bool inside = in_class(pos);
    size_t end = pos + 1;
    while (end < s.end() && in_class(end) == inside) ++end;
    out->push_back(end - pos);
    pos = end;
  }
}

// [0-9][0-9][0-9]: each leftmost run of three ASCII digits, and the text between.
void SplitDigitTriples(const Segment& s, std::vector<size_t>* out) {
  auto digit = [&](size_t p) { return s.Cpt(p) >= '0' && s.Cpt(p) <= '9'; };
  WordSink sink(s.begin(), out);
  size_t pos = s.begin();
  while (pos + 3 <= s.end()) {
    if (digit(pos) && digit(pos + 1) && digit(pos + 2)) {
      sink.EmitTo(pos);
      sink.EmitTo(pos + 3);
      pos += 3;
    } else {
      ++pos;
    }
  }
  sink.EmitTo(s.end());
}

// llama.cpp runs this regex on a copy of the text where each code point >= 128 is
// collapsed to a byte naming its class, so for those only the class counts.
bool IsDefaultPunctuation(uint32_t c, CodepointFlags f) {
  if (c < 128) {  // ASCII punctuation and symbols except '`'
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x5F) ||
           (c >= 0x7B && c <= 0x7E);
  }
  return !f.is_whitespace() && f.category() == CodepointFlags::kPunctuation;
}

bool IsDefaultNumber(uint32_t c, CodepointFlags f) {
  if (c < 128) return c >= '0' && c <= '9';
  return !f.is_whitespace() && f.category() == CodepointFlags::kNumber;
}

using Pass = void (*)(const Segment&, std::vector<size_t>*);

std::vector<size_t> RunPasses(std::span<const uint32_t> cpts, std::span<const CodepointFlags> flags,
                              std::span<const Pass> passes) {
  std::vector<size_t> pieces = {cpts.size()};
  std::vector<size_t> next;
  for (Pass pass : passes) {
    next.clear();
    size_t begin = 0;
    for (size_t length : pieces) {
      pass(Segment(cpts, flags, begin, begin + length), &next);
      begin += length;
    }
    pieces.swap(next);
  }
  return pieces;
}

}  // namespace

std::vector<size_t> SplitWords(PreTokenizerKind kind, std::span<const uint32_t> cpts) {
  if (cpts.empty()) return {};
  std::vector<CodepointFlags> flags(cpts.size());
  for (size_t i = 0; i < cpts.size(); ++i) flags[i] = FlagsOf(cpts[i]);

  static constexpr Pass kLlama3[] = {
      [](const Segment& s, std::vector<size_t>* out) { SplitLlama3Like(s, 3, out); }};
  static constexpr Pass kQwen2[] = {
      [](const Segment& s, std::vector<size_t>* out) { SplitLlama3Like(s, 1, out); }};
  static constexpr Pass kGpt2[] = {SplitGpt2};
  static constexpr Pass kDefault[] = {
      [](const Segment& s, std::vector<size_t>* out) {
        SplitRuns(
            s, [&](size_t p) { return IsDefaultPunctuation(s.Cpt(p), s.Flags(p)); }, out);
      },
      SplitGpt2,
      [](const Segment& s, std::vector<size_t>* out) {
        SplitRuns(
            s, [&](size_t p) { return IsDefaultNumber(s.Cpt(p), s.Flags(p)); }, out);
      },
      SplitDigitTriples,
  };
  switch (kind) {
    case PreTokenizerKind::kLlama3:
      return RunPasses(cpts, flags, kLlama3);
    case PreTokenizerKind::kQwen2:
      return RunPasses(cpts, flags, kQwen2);
    case PreTokenizerKind::kGpt2:
      return RunPasses(cpts, flags, kGpt2);
    case PreTokenizerKind::kDefault:
      return RunPasses(cpts, flags, kDefault);
  }
  return {cpts.size()};
}

}  // namespace shoal::model
