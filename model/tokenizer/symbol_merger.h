// Best-first pair merging over the UTF-8 characters of a text: the loop that both the
// SentencePiece-style (scores) and the byte-level BPE (merge ranks) encoders run, as
// llama.cpp's tokenizer sessions do. Adjacent symbols whose concatenation has a
// priority are merged, highest priority first and the leftmost pair on ties, until no
// adjacent pair has one.
#ifndef SHOAL_MODEL_TOKENIZER_SYMBOL_MERGER_H_
#define SHOAL_MODEL_TOKENIZER_SYMBOL_MERGER_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <queue>
#include <string_view>
#include <vector>

#include "model/tokenizer/unicode.h"

namespace shoal::model {

// A surviving symbol: text[begin, begin + size).
struct MergedPiece {
  size_t begin;
  size_t size;
};

// `priority(pair, left_size)` gives the priority of merging the adjacent symbols whose
// concatenation is `pair` (the left one being its first `left_size` bytes), or nullopt
// when they may not merge. Returns the final symbols in text order.
template <typename Priority, typename PriorityFn>
std::vector<MergedPiece> MergeSymbols(std::string_view text, PriorityFn priority) {
  struct Symbol {
    size_t begin;
    size_t size;  // 0 once merged into its left neighbour
    int64_t prev;
    int64_t next;
  };
  struct Candidate {
    Priority priority;
    int64_t left;
    int64_t right;
    size_t size;  // of both symbols when the pair was seen; a mismatch marks it stale
  };
  struct WorseThan {  // max-heap order: best priority, then leftmost
    bool operator()(const Candidate& a, const Candidate& b) const {
      return a.priority < b.priority || (a.priority == b.priority && a.left > b.left);
    }
  };

  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const size_t size =
        std::min(Utf8LengthFromLead(static_cast<uint8_t>(text[pos])), text.size() - pos);
    const auto index = static_cast<int64_t>(symbols.size());
    symbols.push_back({pos, size, index - 1, pos + size == text.size() ? -1 : index + 1});
    pos += size;
  }

  std::priority_queue<Candidate, std::vector<Candidate>, WorseThan> queue;
  auto consider = [&](int64_t left, int64_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[left];
    const size_t size = l.size + symbols[right].size;
    if (std::optional<Priority> p = priority(text.substr(l.begin, size), l.size)) {
      queue.push({*p, left, right, size});
    }
  };
  for (int64_t i = 1; i < static_cast<int64_t>(symbols.size()); ++i) consider(i - 1, i);
  while (!queue.empty()) {
    const Candidate candidate = queue.top();
    queue.pop();
    Symbol& left = symbols[candidate.left];
    Symbol& right = symbols[candidate.right];
    if (left.size == 0 || right.size == 0 || left.size + right.size != candidate.size) continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = candidate.left;
    consider(left.prev, candidate.left);
    consider(candidate.left, left.next);
  }

  std::vector<MergedPiece> pieces;
  for (const Symbol& symbol : symbols) {
    if (symbol.size > 0) pieces.push_back({symbol.begin, symbol.size});
  }
  return pieces;
}

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_SYMBOL_MERGER_H_
