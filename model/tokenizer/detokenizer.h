// Token ids back to text as llama.cpp does it (`llama_vocab::impl::detokenize` and
// `token_to_piece`, REFERENCE.md §6.2-6.3).
#ifndef SHOAL_MODEL_TOKENIZER_DETOKENIZER_H_
#define SHOAL_MODEL_TOKENIZER_DETOKENIZER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "model/tokenizer/vocab.h"

namespace shoal::model {

// llama_token_to_piece with lstrip 0: the text of a valid token id; CONTROL and UNKNOWN
// tokens give "" unless `special`.
inline std::string_view TokenPiece(const Vocab& vocab, int32_t id, bool special) {
  if (!special && (vocab.attr(id) & (kAttrControl | kAttrUnknown)) != 0) return {};
  return vocab.piece(id);
}

// llama_detokenize of valid ids: with `remove_special`, a leading BOS (when the vocab
// adds one) and a trailing EOS (when it adds one) are dropped; with add_space_prefix the
// first piece loses one leading space unless a BOS was dropped; BPE vocabularies other
// than qwen2 then get CleanUpSpaces.
std::string Detokenize(const Vocab& vocab, std::span<const int32_t> ids, bool remove_special,
                       bool unparse_special);

// llama.cpp's clean_up_tokenization_spaces, in its three passes: drop a space before
// ? ! . , ; turn " ' " into "'"; drop the space before 's 'm 're 've.
void CleanUpSpaces(std::string* text);

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_DETOKENIZER_H_
