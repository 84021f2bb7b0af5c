// Splits text on special tokens before the model's encoder sees it, with the result of
// llama.cpp's `tokenizer_st_partition`: special tokens are taken in the vocabulary's
// order (longest text first), each claiming its leftmost non-overlapping occurrences
// in the text not yet claimed. USER_DEFINED tokens are always split out; CONTROL and
// UNKNOWN ones only when parsing special tokens.
//
// llama.cpp scans the text once per special token (6,414 of them for Gemma 3). This
// finds every occurrence in one pass over a trie and then replays the claiming order,
// which gives the same fragments.
#ifndef SHOAL_MODEL_TOKENIZER_SPECIAL_SPLITTER_H_
#define SHOAL_MODEL_TOKENIZER_SPECIAL_SPLITTER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "model/tokenizer/vocab.h"

namespace shoal::model {

// A piece of the input: a special token, or raw text [begin, begin + size).
struct Fragment {
  int32_t token = kNoToken;
  size_t begin = 0;
  size_t size = 0;
  bool is_token() const { return token != kNoToken; }
};

class SpecialSplitter {
 public:
  explicit SpecialSplitter(const Vocab& vocab);

  // Appends the fragments of `text` to `out` (nothing for empty text).
  void Split(std::string_view text, bool parse_special, std::vector<Fragment>* out) const;

 private:
  struct Node {
    int32_t token = kNoToken;  // the special token ending here, if any
    uint32_t first_edge = 0;
    uint32_t num_edges = 0;
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  struct Match {
    uint32_t rank;  // position in the claiming order
    size_t begin;
    size_t size;
    int32_t token;
  };

  int32_t Child(uint32_t node, uint8_t byte) const;
  void FindMatches(std::string_view text, bool parse_special, std::vector<Match>* matches) const;

  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<Edge> edges_;  // each node's edges sorted by byte
  std::array<int32_t, 256> root_children_{};
  std::vector<uint32_t> rank_;        // per token id; meaningful for special tokens
  std::vector<uint8_t> needs_parse_;  // per token id: CONTROL or UNKNOWN
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_SPECIAL_SPLITTER_H_
