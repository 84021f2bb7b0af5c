#include "model/tokenizer/spm_encoder.h"

#include "model/tokenizer/symbol_merger.h"

namespace shoal::model {

void EncodeSpm(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) {
  // A pair may merge when the concatenation is a token; higher scores merge first.
  const auto score_priority = [&](std::string_view pair, size_t) -> std::optional<float> {
    const int32_t token = vocab.Find(pair);
    return token == kNoToken ? std::nullopt : std::optional<float>(vocab.score(token));
  };
  for (const MergedPiece& merged : MergeSymbols<float>(text, score_priority)) {
    // Every merged symbol is a token; a lone character may not be, and then each of
    // its bytes becomes a byte token.
    const std::string_view piece = text.substr(merged.begin, merged.size);
    const int32_t token = vocab.Find(piece);
    if (token != kNoToken) {
      out->push_back(token);
      continue;
    }
    for (char c : piece) {
      const int32_t byte_token = vocab.ByteToken(static_cast<uint8_t>(c));
      if (byte_token != kNoToken) out->push_back(byte_token);
    }
  }
}

}  // namespace shoal::model
