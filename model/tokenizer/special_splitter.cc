#include "model/tokenizer/special_splitter.h"

#include <algorithm>
#include <map>

namespace shoal::model {

SpecialSplitter::SpecialSplitter(const Vocab& vocab)
    : rank_(vocab.size(), 0), needs_parse_(vocab.size(), 0) {
  // Build a pointer trie, then flatten it with sorted edges.
  struct BuildNode {
    int32_t token = kNoToken;
    std::map<uint8_t, uint32_t> children;
  };
  std::vector<BuildNode> build(1);
  const std::vector<int32_t>& specials = vocab.special_tokens();
  for (size_t rank = 0; rank < specials.size(); ++rank) {
    const int32_t id = specials[rank];
    rank_[id] = static_cast<uint32_t>(rank);
    needs_parse_[id] = (vocab.attr(id) & (kAttrControl | kAttrUnknown)) != 0;
    uint32_t node = 0;
    for (char c : vocab.text(id)) {
      auto [it, inserted] = build[node].children.emplace(static_cast<uint8_t>(c),
                                                         static_cast<uint32_t>(build.size()));
      if (inserted) build.emplace_back();
      node = it->second;
    }
    build[node].token = id;
  }
  nodes_.resize(build.size());
  for (size_t i = 0; i < build.size(); ++i) {
    nodes_[i].token = build[i].token;
    nodes_[i].first_edge = static_cast<uint32_t>(edges_.size());
    nodes_[i].num_edges = static_cast<uint32_t>(build[i].children.size());
    for (const auto& [byte, child] : build[i].children) edges_.push_back({byte, child});
  }
  root_children_.fill(-1);
  for (const auto& [byte, child] : build[0].children) {
    root_children_[byte] = static_cast<int32_t>(child);
  }
}

int32_t SpecialSplitter::Child(uint32_t node, uint8_t byte) const {
  const Node& n = nodes_[node];
  const Edge* begin = edges_.data() + n.first_edge;
  const Edge* end = begin + n.num_edges;
  const Edge* it =
      std::lower_bound(begin, end, byte, [](const Edge& e, uint8_t b) { return e.byte < b; });
  return it != end && it->byte == byte ? static_cast<int32_t>(it->child) : -1;
}

void SpecialSplitter::FindMatches(std::string_view text, bool parse_special,
                                  std::vector<Match>* matches) const {
  for (size_t begin = 0; begin < text.size(); ++begin) {
    int32_t node = root_children_[static_cast<uint8_t>(text[begin])];
    size_t end = begin + 1;
    while (node >= 0) {
      const int32_t token = nodes_[node].token;
      if (token != kNoToken && (parse_special || !needs_parse_[token])) {
        matches->push_back({rank_[token], begin, end - begin, token});
      }
      if (end == text.size()) break;
      node = Child(static_cast<uint32_t>(node), static_cast<uint8_t>(text[end++]));
    }
  }
}

void SpecialSplitter::Split(std::string_view text, bool parse_special,
                            std::vector<Fragment>* out) const {
  if (text.empty()) return;
  std::vector<Match> matches;
  FindMatches(text, parse_special, &matches);
  if (matches.empty()) {
    out->push_back({kNoToken, 0, text.size()});
    return;
  }
  // Replay llama.cpp's order: token by token, each left to right.
  std::sort(matches.begin(), matches.end(), [](const Match& a, const Match& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.begin < b.begin;
  });
  std::vector<uint8_t> claimed(text.size(), 0);
  std::vector<Match> accepted;
  for (size_t i = 0; i < matches.size();) {
    size_t free_from = 0;  // a token's own occurrences do not overlap
    const uint32_t rank = matches[i].rank;
    for (; i < matches.size() && matches[i].rank == rank; ++i) {
      const Match& m = matches[i];
      if (m.begin < free_from) continue;
      const auto first = claimed.begin() + static_cast<ptrdiff_t>(m.begin);
      if (std::find(first, first + static_cast<ptrdiff_t>(m.size), 1) != first + m.size) continue;
      std::fill(first, first + static_cast<ptrdiff_t>(m.size), 1);
      accepted.push_back(m);
      free_from = m.begin + m.size;
    }
  }
  std::sort(accepted.begin(), accepted.end(),
            [](const Match& a, const Match& b) { return a.begin < b.begin; });
  size_t pos = 0;
  for (const Match& m : accepted) {
    if (m.begin > pos) out->push_back({kNoToken, pos, m.begin - pos});
    out->push_back({m.token, m.begin, m.size});
    pos = m.begin + m.size;
  }
  if (pos < text.size()) out->push_back({kNoToken, pos, text.size() - pos});
}

}  // namespace shoal::model
