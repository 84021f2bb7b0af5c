#include "model/tokenizer/bpe_encoder.h"

#include "model/tokenizer/byte_level.h"
#include "model/tokenizer/pre_tokenizer.h"
#include "model/tokenizer/symbol_merger.h"
#include "model/tokenizer/unicode.h"

namespace shoal::model {
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
  // Lower merge ranks go first: the priority is the negated rank.
  const auto rank_priority = [&](std::string_view pair,
                                 size_t left_size) -> std::optional<int32_t> {
    const int32_t rank = vocab_.MergeRank(pair.substr(0, left_size), pair.substr(left_size));
    return rank < 0 ? std::nullopt : std::optional<int32_t>(-rank);
  };
  for (const MergedPiece& merged : MergeSymbols<int32_t>(word, rank_priority)) {
    const std::string_view piece = word.substr(merged.begin, merged.size);
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
