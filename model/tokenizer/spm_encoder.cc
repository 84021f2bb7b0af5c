#include "model/tokenizer/spm_encoder.h"

#include <algorithm>
#include <queue>

#include "model/tokenizer/unicode.h"

namespace shoal::model {
namespace {

struct Symbol {
  int64_t prev;
  int64_t next;
  size_t begin;
  size_t size;  // 0 once merged into its left neighbour
};

struct Bigram {
  float score;
  int64_t left;
  int64_t right;
  size_t size;  // of both symbols when the pair was seen; a mismatch marks it stale
};

// Orders the max-heap: highest score first, then leftmost.
struct BigramLess {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

class SpmSession {
 public:
  SpmSession(const Vocab& vocab, std::string_view text) : vocab_(vocab), text_(text) {}

  void Run(std::vector<int32_t>* out) {
    Split();
    for (int64_t i = 1; i < static_cast<int64_t>(symbols_.size()); ++i) TryAddBigram(i - 1, i);
    while (!queue_.empty()) {
      const Bigram bigram = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[bigram.left];
      Symbol& right = symbols_[bigram.right];
      if (left.size == 0 || right.size == 0 || left.size + right.size != bigram.size) continue;
      left.size += right.size;
      right.size = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = bigram.left;
      TryAddBigram(left.prev, bigram.left);
      TryAddBigram(bigram.left, left.next);
    }
    for (int64_t i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[i].next) {
      Emit(symbols_[i], out);
    }
  }

 private:
  void Split() {
    symbols_.reserve(text_.size());
    size_t pos = 0;
    const size_t n = text_.size();
    while (pos < n) {
      const size_t size = std::min(Utf8LengthFromLead(static_cast<uint8_t>(text_[pos])), n - pos);
      const auto index = static_cast<int64_t>(symbols_.size());
      symbols_.push_back({index - 1, pos + size == n ? -1 : index + 1, pos, size});
      pos += size;
    }
  }

  void TryAddBigram(int64_t left, int64_t right) {
    if (left < 0 || right < 0) return;
    const size_t size = symbols_[left].size + symbols_[right].size;
    const int32_t token = vocab_.Find(text_.substr(symbols_[left].begin, size));
    if (token == kNoToken) return;
    queue_.push({vocab_.score(token), left, right, size});
  }

  // Every merged symbol is a token; a lone character may not be, and then each of its
  // bytes becomes a byte token.
  void Emit(const Symbol& symbol, std::vector<int32_t>* out) const {
    const std::string_view piece = text_.substr(symbol.begin, symbol.size);
    const int32_t token = vocab_.Find(piece);
    if (token != kNoToken) {
      out->push_back(token);
      return;
    }
    for (char c : piece) {
      const int32_t byte_token = vocab_.ByteToken(static_cast<uint8_t>(c));
      if (byte_token != kNoToken) out->push_back(byte_token);
    }
  }

  const Vocab& vocab_;
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramLess> queue_;
};

}  // namespace

void EncodeSpm(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) {
  SpmSession(vocab, text).Run(out);
}

}  // namespace shoal::model
