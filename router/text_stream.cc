#include "router/text_stream.h"

#include <algorithm>
#include <utility>

namespace shoal::router {
namespace {

// failure[k] for k in [1, size]: the longest proper border of text[0, k) (the KMP
// prefix function, shifted by one); failure[0] is unused.
std::vector<int> FailureFunction(const std::string& text) {
  std::vector<int> failure(text.size() + 1, 0);
  int border = 0;
  for (size_t i = 1; i < text.size(); ++i) {
    while (border > 0 && text[i] != text[border]) border = failure[border];
    if (text[i] == text[border]) ++border;
    failure[i + 1] = border;
  }
  return failure;
}

bool IsUtf8Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

TextStream::TextStream(const model::Tokenizer& tokenizer, TextStreamOptions options)
    : options_(std::move(options)), decoder_(tokenizer, !options_.skip_special_tokens) {
  for (const std::string& stop : options_.stop) {
    if (stop.empty()) continue;  // would match everywhere; the request parser refuses it
    matchers_.push_back({.text = stop, .failure = FailureFunction(stop), .state = 0});
  }
}

int TextStream::Match(size_t from, size_t* match_start) {
  const bool honour = num_tokens_ >= options_.min_tokens;
  int best = -1;
  for (size_t i = 0; i < matchers_.size(); ++i) {
    StopMatcher& m = matchers_[i];
    const int size = static_cast<int>(m.text.size());
    for (size_t pos = from; pos < held_.size(); ++pos) {
      const char c = held_[pos];
      while (m.state > 0 && m.text[m.state] != c) m.state = m.failure[m.state];
      if (m.text[m.state] == c) ++m.state;
      if (m.state < size) continue;
      m.state = m.failure[size];
      // Before min_tokens a match is just text; afterwards the first match of each stop
      // string is the one that counts (a later one starts later).
      if (!honour) continue;
      const size_t end = pos + 1;
      const size_t start = end >= m.text.size() ? end - m.text.size() : 0;
      if (best < 0 || start < *match_start ||
          (start == *match_start && m.text.size() < matchers_[best].text.size())) {
        best = static_cast<int>(i);
        *match_start = start;
      }
      break;
    }
  }
  return best;
}

void TextStream::ReleaseSafePrefix(std::string* out) {
  size_t keep = 0;
  for (const StopMatcher& m : matchers_) keep = std::max(keep, static_cast<size_t>(m.state));
  size_t cut = held_.size() - std::min(keep, held_.size());
  // Never split a character (a stop string that starts with a continuation byte).
  while (cut > 0 && cut < held_.size() && IsUtf8Continuation(held_[cut])) --cut;
  out->append(held_, 0, cut);
  held_.erase(0, cut);
}

bool TextStream::Append(int32_t token, std::string* out) {
  if (stopped()) return true;
  ++num_tokens_;
  const size_t from = held_.size();
  // An id the tokenizer does not know adds no text (the decoder reports it; nothing to
  // tell the client that the token count does not already say).
  (void)decoder_.Append(token, &held_);
  if (matchers_.empty()) {
    out->append(held_);
    held_.clear();
    return false;
  }
  size_t start = 0;
  const int stop = Match(from, &start);
  if (stop < 0) {
    ReleaseSafePrefix(out);
    return false;
  }
  const std::string& text = matchers_[stop].text;
  out->append(held_, 0, options_.include_stop_str_in_output ? start + text.size() : start);
  held_.clear();
  matched_stop_ = text;
  return true;
}

void TextStream::Finish(std::string* out) {
  if (stopped()) return;
  decoder_.Finish(&held_);
  out->append(held_);
  held_.clear();
}

}  // namespace shoal::router
