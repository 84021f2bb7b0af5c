#include "model/jinja/lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "model/jinja/str_util.h"
#include "model/jinja/string_escapes.h"
#include "model/jinja/utf8.h"

namespace shoal::model::jinja {

std::string Position::ToString() const { return Cat(line, ":", column); }

namespace {

bool IsDigitChar(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsNameChar(char c) { return IsNameStart(c) || IsDigitChar(c); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// jinja2 converts \r\n and \r to \n and drops one trailing newline before lexing.
std::string NormalizeNewlines(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  Lexer(std::string source, const LexerOptions& options)
      : src_(std::move(source)), options_(options) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  absl::StatusOr<std::vector<Token>> Run() {
    size_t pos = 0;
    const size_t n = src_.size();
    while (pos < n) {
      const size_t tag = FindTag(pos);
      if (tag == std::string::npos) {
        Emit(TokenKind::kText, src_.substr(pos), pos);
        break;
      }
      const char type = src_[tag + 1];
      size_t p = tag + 2;
      char sign = 0;
      if (p < n && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
      size_t raw_start = 0;
      const bool raw = type == '%' && MatchRawBegin(p, &raw_start);
      Emit(TokenKind::kText,
           StripBefore(std::string_view(src_).substr(pos, tag - pos), sign, type != '{'), pos);
      line_starting_ = false;
      absl::StatusOr<size_t> next;
      if (raw) {
        next = LexRaw(tag, raw_start);
      } else if (type == '#') {
        next = LexComment(tag, p);
      } else {
        next = LexTag(type == '%', tag, p);
      }
      if (!next.ok()) return next.status();
      pos = *next;
    }
    Token end;
    end.kind = TokenKind::kEnd;
    end.pos = PosAt(n);
    tokens_.push_back(std::move(end));
    return std::move(tokens_);
  }

 private:
  Position PosAt(size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());
    Position pos;
    pos.line = static_cast<int>(line);
    pos.column = static_cast<int>(offset - line_starts_[line - 1]) + 1;
    return pos;
  }

  absl::Status Error(size_t offset, std::string_view message) const {
    return absl::InvalidArgumentError(Cat(message, " at ", PosAt(offset).ToString()));
  }

  Token& Emit(TokenKind kind, std::string_view text, size_t offset) {
    if (kind == TokenKind::kText && text.empty()) return dummy_;
    Token token;
    token.kind = kind;
    token.text = std::string(text);
    token.pos = PosAt(offset);
    tokens_.push_back(std::move(token));
    return tokens_.back();
  }

  size_t FindTag(size_t pos) const {
    for (size_t i = src_.find('{', pos); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
        return i;
      }
    }
    return std::string::npos;
  }

  // Python's \s: Unicode whitespace.
  size_t SkipWhitespace(size_t p) const {
    while (p < src_.size()) {
      size_t next = p;
      if (!utf8::IsSpace(utf8::Next(src_, &next))) break;
      p = next;
    }
    return p;
  }

  bool Matches(size_t p, std::string_view s) const {
    return p <= src_.size() && src_.compare(p, s.size(), s) == 0;
  }

  // Whitespace control for the text before a tag: `-` strips all of it, otherwise
  // lstrip_blocks strips the spaces between a line start and a block or comment tag.
  std::string_view StripBefore(std::string_view text, char sign, bool block_like) const {
    if (sign == '-') return utf8::Strip(text, nullptr, false, true);
    if (sign == '+' || !options_.lstrip_blocks || !block_like) return text;
    const size_t newline = text.rfind('\n');
    const size_t l_pos = newline == std::string_view::npos ? 0 : newline + 1;
    if (l_pos == 0 && !line_starting_) return text;
    const std::string_view tail = text.substr(l_pos);
    if (tail.empty() || !utf8::Strip(tail, nullptr, true, false).empty()) return text;
    return text.substr(0, l_pos);
  }

  // The end of a block-like tag at p ("+%}", "-%}" + whitespace, "%}" + one newline with
  // trim_blocks); returns npos when there is none at p.
  size_t MatchBlockEnd(size_t p, char close) {
    const std::string end = std::string(1, close) + "}";
    if (p < src_.size() && src_[p] == '+' && Matches(p + 1, end)) {
      line_starting_ = false;
      return p + 3;
    }
    if (p < src_.size() && src_[p] == '-' && Matches(p + 1, end)) {
      const size_t q = SkipWhitespace(p + 3);
      line_starting_ = q > p + 3 && src_[q - 1] == '\n';
      return q;
    }
    if (Matches(p, end)) {
      size_t q = p + 2;
      line_starting_ = false;
      if (options_.trim_blocks && q < src_.size() && src_[q] == '\n') {
        ++q;
        line_starting_ = true;
      }
      return q;
    }
    return std::string::npos;
  }

  bool MatchRawBegin(size_t p, size_t* content_start) {
    p = SkipWhitespace(p);
    if (!Matches(p, "raw")) return false;
    p = SkipWhitespace(p + 3);
    if (Matches(p, "-%}")) {
      const size_t q = SkipWhitespace(p + 3);
      raw_line_starting_ = q > p + 3 && src_[q - 1] == '\n';
      *content_start = q;
      return true;
    }
    if (Matches(p, "%}")) {
      raw_line_starting_ = false;
      *content_start = p + 2;
      return true;
    }
    return false;
  }

  absl::StatusOr<size_t> LexRaw(size_t tag, size_t start) {
    // Like jinja2, an opened raw block that ends the template is empty.
    if (start >= src_.size()) return start;
    for (size_t q = src_.find("{%", start); q != std::string::npos; q = src_.find("{%", q + 1)) {
      size_t r = q + 2;
      char sign = 0;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) sign = src_[r++];
      r = SkipWhitespace(r);
      if (!Matches(r, "endraw")) continue;
      r = SkipWhitespace(r + 6);
      const bool saved = raw_line_starting_;
      const size_t end = MatchBlockEnd(r, '%');
      if (end == std::string::npos) continue;
      const bool after = line_starting_;
      line_starting_ = saved;
      Emit(TokenKind::kText,
           StripBefore(std::string_view(src_).substr(start, q - start), sign, true), start);
      line_starting_ = after;
      return end;
    }
    return Error(tag, "missing end of raw directive");
  }

  absl::StatusOr<size_t> LexComment(size_t tag, size_t p) {
    // jinja2 accepts an opened comment that ends the template.
    if (p >= src_.size()) return p;
    for (size_t q = p; q < src_.size(); ++q) {
      if (src_[q] != '+' && src_[q] != '-' && src_[q] != '#') continue;
      if (src_[q] == '#' && !Matches(q, "#}")) continue;
      if (src_[q] != '#' && !Matches(q + 1, "#}")) continue;
      return MatchBlockEnd(q, '#');
    }
    return Error(tag, "missing end of comment tag");
  }

  absl::StatusOr<size_t> LexTag(bool block, size_t tag, size_t p) {
    Emit(block ? TokenKind::kBlockBegin : TokenKind::kVariableBegin, "", tag);
    std::vector<char> brackets;
    while (true) {
      if (p >= src_.size()) {
        return Error(tag, block ? "unclosed block tag '{%'" : "unclosed variable tag '{{'");
      }
      if (brackets.empty()) {
        size_t end = std::string::npos;
        if (block) {
          end = MatchBlockEnd(p, '%');
        } else if (src_[p] == '-' && Matches(p + 1, "}}")) {
          end = SkipWhitespace(p + 3);
          line_starting_ = end > p + 3 && src_[end - 1] == '\n';
        } else if (Matches(p, "}}")) {
          end = p + 2;
          line_starting_ = false;
        }
        if (end != std::string::npos) {
          Emit(block ? TokenKind::kBlockEnd : TokenKind::kVariableEnd, "", p);
          return end;
        }
      }
      const size_t ws_end = SkipWhitespace(p);
      if (ws_end != p) {
        p = ws_end;
        continue;
      }
      absl::StatusOr<size_t> next = LexOne(p, &brackets);
      if (!next.ok()) return next.status();
      p = *next;
    }
  }

  // `(\d+_)*\d+`: returns the end, or npos when no digit is at p.
  size_t ScanDigits(size_t p, int base = 10) const {
    auto is_digit = [&](size_t i) {
      if (i >= src_.size()) return false;
      const int v = HexValue(src_[i]);
      return v >= 0 && v < base;
    };
    if (!is_digit(p)) return std::string::npos;
    while (is_digit(p) || (src_[p] == '_' && is_digit(p + 1))) ++p;
    return p;
  }

  size_t ScanExponent(size_t p) const {
    if (p >= src_.size() || (src_[p] != 'e' && src_[p] != 'E')) return std::string::npos;
    ++p;
    if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
    return ScanDigits(p);
  }

  std::string WithoutUnderscores(size_t begin, size_t end) const {
    std::string s;
    for (size_t i = begin; i < end; ++i) {
      if (src_[i] != '_') s.push_back(src_[i]);
    }
    return s;
  }

  absl::StatusOr<size_t> LexNumber(size_t p) {
    const size_t int_end = ScanDigits(p);
    size_t float_end = std::string::npos;
    if (p == 0 || src_[p - 1] != '.') {
      const size_t frac_end = Matches(int_end, ".") ? ScanDigits(int_end + 1) : std::string::npos;
      const size_t exp_from = frac_end != std::string::npos ? frac_end : int_end;
      const size_t exp_end = ScanExponent(exp_from);
      if (exp_end != std::string::npos) {
        float_end = exp_end;
      } else if (frac_end != std::string::npos) {
        float_end = frac_end;
      }
    }
    if (float_end != std::string::npos) {
      Token& t = Emit(TokenKind::kFloat, "", p);
      t.float_value = std::strtod(WithoutUnderscores(p, float_end).c_str(), nullptr);
      return float_end;
    }
    int base = 10;
    size_t digits = p;
    size_t end = int_end;
    if (src_[p] == '0' && p + 1 < src_.size()) {
      const char prefix = absl::ascii_tolower(static_cast<unsigned char>(src_[p + 1]));
      base = prefix == 'b' ? 2 : prefix == 'o' ? 8 : prefix == 'x' ? 16 : 10;
      if (base != 10) {
        digits = p + 2;
        if (digits < src_.size() && src_[digits] == '_') ++digits;
        end = ScanDigits(digits, base);
        if (end == std::string::npos) return Error(p, "invalid integer literal");
      } else {
        // `0(_?0)*`: a leading zero is followed only by zeros.
        end = p + 1;
        while (Matches(end, "0") || (Matches(end, "_") && Matches(end + 1, "0"))) ++end;
      }
    }
    const std::string text = WithoutUnderscores(digits, end);
    char* parse_end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text.c_str(), &parse_end, base);
    if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX)) {
      return Error(p, "integer literal too large");
    }
    Token& t = Emit(TokenKind::kInteger, "", p);
    t.int_value = static_cast<int64_t>(v);
    return end;
  }

  absl::StatusOr<size_t> LexString(size_t p) {
    const char quote = src_[p];
    size_t q = p + 1;
    while (q < src_.size() && src_[q] != quote) q += src_[q] == '\\' ? 2 : 1;
    if (q >= src_.size()) return Error(p, "unterminated string literal");
    absl::StatusOr<std::string> decoded =
        DecodePythonEscapes(std::string_view(src_).substr(p + 1, q - p - 1));
    if (!decoded.ok()) return Error(p, ToStd(decoded.status().message()));
    Token& t = Emit(TokenKind::kString, "", p);
    t.text = *std::move(decoded);
    return q + 1;
  }

  absl::StatusOr<size_t> LexOne(size_t p, std::vector<char>* brackets) {
    const char c = src_[p];
    if (IsDigitChar(c)) return LexNumber(p);
    if (IsNameStart(c)) {
      size_t q = p + 1;
      while (q < src_.size() && IsNameChar(src_[q])) ++q;
      Emit(TokenKind::kName, std::string_view(src_).substr(p, q - p), p);
      return q;
    }
    if (c == '\'' || c == '"') return LexString(p);
    static constexpr std::string_view kTwoChar[] = {"//", "**", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwoChar) {
      if (Matches(p, op)) {
        Emit(TokenKind::kOperator, op, p);
        return p + 2;
      }
    }
    static constexpr std::string_view kOneChar = "+-/*%~[](){}><=.:|,;";
    if (kOneChar.find(c) == std::string_view::npos) {
      size_t next = p;
      std::string shown;
      utf8::Append(utf8::Next(src_, &next), &shown);
      return Error(p, Cat("unexpected character '", shown, "'"));
    }
    if (c == '(' || c == '[' || c == '{') {
      brackets->push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (brackets->empty()) return Error(p, Cat("unexpected '", std::string(1, c), "'"));
      if (brackets->back() != c) {
        return Error(p, Cat("unexpected '", std::string(1, c), "', expected '",
                            std::string(1, brackets->back()), "'"));
      }
      brackets->pop_back();
    }
    Emit(TokenKind::kOperator, std::string_view(&src_[p], 1), p);
    return p + 1;
  }

  std::string src_;
  LexerOptions options_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  bool line_starting_ = true;
  bool raw_line_starting_ = false;
  Token dummy_;
};

}  // namespace

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view source, const LexerOptions& options) {
  return Lexer(NormalizeNewlines(source, options.keep_trailing_newline), options).Run();
}

}  // namespace shoal::model::jinja
