#include "model/tokenizer/bpe_encoder.h"

#include <algorithm>
#include <queue>

#include "model/tokenizer/byte_level.h"
#include "model/tokenizer/pre_tokenizer.h"
#include "model/tokenizer/unicode.h"

namespace shoal::model {
namespace {

struct Symbol {
  size_t begin;
  size_t size;  // 0 once merged into its left neighbour
  int64_t prev;
  int64_t next;
};

struct Bigram {
  int32_t rank;
  int64_t left;
  int64_t right;
  size_t size;  // of both symbols when the pair was seen; a mismatch marks it stale
};

// Orders the heap so that the lowest rank, then the leftmost pair, comes first.
struct BigramGreater {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

class WordSession {
 public:
  WordSession(const Vocab& vocab, std::string_view word) : vocab_(vocab), word_(word) {}

  // Merges and returns the surviving symbols in order.
  const std::vector<Symbol>& Run() {
    size_t pos = 0;
    while (pos < word_.size()) {  // the word is valid UTF-8: split into characters
      const size_t size =
          std::min(Utf8LengthFromLead(static_cast<uint8_t>(word_[pos])), word_.size() - pos);
      const auto index = static_cast<int64_t>(symbols_.size());
      symbols_.push_back({pos, size, index - 1, pos + size == word_.size() ? -1 : index + 1});
      pos += size;
    }
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
    return symbols_;
  }

 private:
  void TryAddBigram(int64_t left, int64_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols_[left];
    const Symbol& r = symbols_[right];
    const int32_t rank =
        vocab_.MergeRank(word_.substr(l.begin, l.size), word_.substr(r.begin, r.size));
    if (rank < 0) return;
    queue_.push({rank, left, right, l.size + r.size});
  }

  const Vocab& vocab_;
  std::string_view word_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramGreater> queue_;
};

}  // namespace

BpeEncoder::BpeEncoder(const Vocab& vocab) : vocab_(vocab) {
  for (int byte = 0; byte < 256; ++byte) {
    single_byte_tokens_[byte] = vocab.Find(std::string(1, static_cast<char>(byte)));
  }
}

void BpeEncoder::Encode(std::string_view text, std::vector<int32_t>* out) const {
  std::vector<uint32_t> cpts;
  DecodeUtf8(text, &cpts);
  const std::vector<size_t> lengths = SplitWords(vocab_.pre_tokenizer(), cpts);
  std::string utf8;
  std::string word;
  size_t begin = 0;
  for (size_t length : lengths) {
    utf8.clear();
    for (size_t i = begin; i < begin + length; ++i) AppendUtf8(cpts[i], &utf8);
    begin += length;
    word.clear();
    AppendByteLevel(utf8, &word);
    EncodeWord(word, out);
  }
}

void BpeEncoder::EncodeWord(std::string_view word, std::vector<int32_t>* out) const {
  if (vocab_.ignore_merges()) {
    const int32_t whole = vocab_.Find(word);
    if (whole != kNoToken) {
      out->push_back(whole);
      return;
    }
  }
  WordSession session(vocab_, word);
  for (const Symbol& symbol : session.Run()) {
    if (symbol.size == 0) continue;
    const std::string_view piece = word.substr(symbol.begin, symbol.size);
    const int32_t token = vocab_.Find(piece);
    if (token != kNoToken) {
      out->push_back(token);
      continue;
    }
    for (char c : piece) {
      const int32_t byte_token = single_byte_tokens_[static_cast<uint8_t>(c)];
      if (byte_token != kNoToken) out->push_back(byte_token);
    }
  }
}

}  // namespace shoal::model
