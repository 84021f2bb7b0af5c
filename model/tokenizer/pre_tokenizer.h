// Pre-tokenizers of byte-level BPE vocabularies: they split text into words before BPE
// merges run inside each word. Each reproduces llama.cpp's hand-written splitter for
// the regex (src/unicode.cpp), including where that differs from a regex engine, e.g.
// `\s+(?!\S)` at the end of text keeps the whole whitespace run.
#ifndef SHOAL_MODEL_TOKENIZER_PRE_TOKENIZER_H_
#define SHOAL_MODEL_TOKENIZER_PRE_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace shoal::model {

enum class PreTokenizerKind {
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
  //   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+     (tokenizer.ggml.pre llama3, llama-bpe)
  kLlama3,
  // The same with \p{N} (single digits)                    (qwen2)
  kQwen2,
  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)   (gpt-2)
  kGpt2,
  // llama.cpp's fallback: [\p{P}\$\+<=>\^~\|]+, then the gpt-2 regex, then \p{N}+, then
  // [0-9][0-9][0-9], each splitting the pieces of the one before           (default)
  kDefault,
};

// Splits `cpts` into words and returns their lengths in code points (all > 0, summing
// to cpts.size()).
std::vector<size_t> SplitWords(PreTokenizerKind kind, std::span<const uint32_t> cpts);

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_PRE_TOKENIZER_H_
