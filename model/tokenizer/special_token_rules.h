// llama.cpp's detection of special tokens by their text (src/llama-vocab.cpp, the
// "auto-detect special tokens by text" part of `load`): end-of-turn, end-of-message and
// fill-in-the-middle tokens not given by keys, "unused" control tokens, and the
// end-of-generation (EOG) set with its model-specific exceptions. Tokens found this way
// are forced to CONTROL, which also changes how text is split on them.
#ifndef SHOAL_MODEL_TOKENIZER_SPECIAL_TOKEN_RULES_H_
#define SHOAL_MODEL_TOKENIZER_SPECIAL_TOKEN_RULES_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "model/tokenizer/vocab.h"

namespace shoal::model {

struct TokenTextAccess {
  absl::FunctionRef<int32_t(std::string_view)> find;  // text -> id or kNoToken
  absl::FunctionRef<std::string_view(int32_t)> text;  // id -> text
};

// Updates `attrs` and the unset ids in `ids`, and returns the EOG ids, ascending.
//
// Where llama.cpp picks one of several candidate texts for an id (say both "<PRE>" and
// "<|fim_prefix|>" exist), it takes the first it meets in a hash map's iteration order;
// this takes the lowest id, so the choice is deterministic. No real vocabulary we know
// of has two candidates for one id except EOT, and every EOT candidate is also in the
// EOG list, so the EOG set and attributes agree with llama.cpp either way.
std::vector<int32_t> ApplyTokenTextRules(const TokenTextAccess& access,
                                         std::vector<uint32_t>* attrs, SpecialTokenIds* ids);

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_SPECIAL_TOKEN_RULES_H_
