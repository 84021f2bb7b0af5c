// SentencePiece-style encoding (tokenizer.ggml.model = "llama") as llama.cpp does it
// (`llm_tokenizer_spm_session`, REFERENCE.md §6.3): start from single characters,
// repeatedly merge the adjacent pair whose concatenation is the token with the highest
// score (leftmost on ties), then map symbols that are no token to byte tokens.
#ifndef SHOAL_MODEL_TOKENIZER_SPM_ENCODER_H_
#define SHOAL_MODEL_TOKENIZER_SPM_ENCODER_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/tokenizer/vocab.h"

namespace shoal::model {

// Appends the tokens of `text`, which already has its spaces replaced by U+2581.
// "Characters" are cut by the length their lead byte announces, as llama.cpp does, so
// invalid UTF-8 never fails: unmatched bytes fall back to byte tokens.
void EncodeSpm(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out);

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_SPM_ENCODER_H_
