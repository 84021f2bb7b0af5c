// Byte-level BPE encoding (tokenizer.ggml.model = "gpt2") as llama.cpp does it
// (`llm_tokenizer_bpe_session`, REFERENCE.md §6.2): pre-tokenize into words, write each
// word in GPT-2's byte alphabet, merge adjacent symbols by lowest merge rank (leftmost
// on ties), and map the final symbols to tokens.
#ifndef SHOAL_MODEL_TOKENIZER_BPE_ENCODER_H_
#define SHOAL_MODEL_TOKENIZER_BPE_ENCODER_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/tokenizer/vocab.h"

namespace shoal::model {

class BpeEncoder {
 public:
  explicit BpeEncoder(const Vocab& vocab);

  // Appends the tokens of `text` (raw text between special tokens). Invalid UTF-8 is
  // read as llama.cpp reads it: each bad byte becomes U+FFFD.
  void Encode(std::string_view text, std::vector<int32_t>* out) const;

 private:
  void EncodeWord(std::string_view word, std::vector<int32_t>* out) const;

  const Vocab& vocab_;
  // The token whose text is this one byte, if any: llama.cpp's fallback for a symbol
  // that is no token (only ASCII bytes can match, as token texts are byte-level).
  std::array<int32_t, 256> single_byte_tokens_{};
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_BPE_ENCODER_H_
