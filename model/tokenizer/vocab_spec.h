// What a GGUF file says about its tokenizer (the tokenizer.ggml.* keys, REFERENCE.md
// §1.3), read but not yet checked or interpreted. Vocab::Create turns it into a Vocab.
// Tests build specs directly.
#ifndef SHOAL_MODEL_TOKENIZER_VOCAB_SPEC_H_
#define SHOAL_MODEL_TOKENIZER_VOCAB_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shoal::model {

// tokenizer.ggml.token_type values (gguf-py TokenType).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct VocabSpec {
  std::string model;               // tokenizer.ggml.model: "llama" (SPM) or "gpt2" (BPE)
  std::optional<std::string> pre;  // tokenizer.ggml.pre
  std::vector<std::string> tokens;
  std::vector<float> scores;         // empty: all 0
  std::vector<int32_t> token_types;  // empty: all NORMAL
  std::vector<std::string> merges;   // "left right", rank = index

  // Special token ids from their keys; absent keys keep llama.cpp's defaults.
  std::optional<int64_t> bos_id, eos_id, eot_id, eom_id, unk_id, sep_id, pad_id, mask_id;
  std::optional<int64_t> fim_pre_id, fim_suf_id, fim_mid_id, fim_pad_id, fim_rep_id, fim_sep_id;

  std::optional<bool> add_bos, add_eos, add_space_prefix, remove_extra_whitespaces;
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_VOCAB_SPEC_H_
