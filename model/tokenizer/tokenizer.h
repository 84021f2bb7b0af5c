// Text <-> token ids for a GGUF model, token for token what llama.cpp does with the same
// file (llama_tokenize, llama_detokenize, llama_token_to_piece; REFERENCE.md §6).
// Supported: tokenizer.ggml.model "llama" (SentencePiece-style: Gemma 3, Llama 2) and
// "gpt2" (byte-level BPE) with tokenizer.ggml.pre llama3 / llama-v3 / llama-bpe
// (Llama 3), qwen2 / deepseek-r1-qwen (Qwen 2/2.5/3), gpt-2 and default. Anything else
// is refused with an error that names the key.
//
// Thread safety: a Tokenizer is immutable after creation; any number of threads may
// call its const methods at once. An IncrementalDecoder belongs to one stream (one
// thread at a time).
//
// Known differences from llama.cpp, all on input llama.cpp cannot handle: where
// llama.cpp aborts or throws (an SPM byte with no byte token, a 4-byte UTF-8 form above
// U+10FFFF in BPE input, add_bos without a BOS token, duplicate token texts) this either
// returns an error when the vocabulary is loaded or, for input text, uses the unknown
// token / U+FFFD; per-model LSTRIP/RSTRIP attributes that llama.cpp sets by model name
// (phi-3, jina, modern-bert) are not applied.
#ifndef SHOAL_MODEL_TOKENIZER_TOKENIZER_H_
#define SHOAL_MODEL_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/gguf/gguf_file.h"
#include "model/tokenizer/vocab.h"
#include "model/tokenizer/vocab_spec.h"

namespace shoal::model {

class BpeEncoder;
class SpecialSplitter;

struct EncodeOptions {
  // Add BOS/EOS when the vocabulary asks for them (tokenizer.ggml.add_bos_token, ...).
  bool add_special = true;
  // Turn the text of CONTROL tokens ("<start_of_turn>", "<|im_start|>") into those
  // tokens. USER_DEFINED tokens are always matched. Only for trusted text, such as a
  // rendered chat template.
  bool parse_special = false;
};

struct DecodeOptions {
  // Drop a leading BOS / trailing EOS that the vocabulary adds.
  bool remove_special = false;
  // Render CONTROL and UNKNOWN tokens as their text instead of nothing.
  bool unparse_special = false;
};

class Tokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromGguf(const GgufFile& file);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromSpec(const VocabSpec& spec);
  ~Tokenizer();

  // Any bytes are accepted; invalid UTF-8 is tokenized as llama.cpp does.
  std::vector<int32_t> Encode(std::string_view text, const EncodeOptions& options = {}) const;

  // The bytes the ids stand for (like llama_detokenize; not necessarily valid UTF-8 when
  // the ids split a character). An id out of range is an error.
  absl::StatusOr<std::string> Decode(std::span<const int32_t> ids,
                                     const DecodeOptions& options = {}) const;

  // One token's text (llama_token_to_piece with lstrip 0). CONTROL and UNKNOWN tokens
  // give "" unless `special`. Unlike Decode, no clean-up of spaces.
  absl::StatusOr<std::string_view> TokenToPiece(int32_t id, bool special) const;

  int32_t vocab_size() const { return vocab_->size(); }
  bool IsValid(int32_t id) const { return vocab_->Contains(id); }
  // The stored text of a token (e.g. "▁Hello", "Ġworld", "<start_of_turn>").
  absl::StatusOr<std::string_view> TokenText(int32_t id) const;
  // The id of the token whose stored text is exactly `text`, or kNoToken.
  int32_t FindToken(std::string_view text) const { return vocab_->Find(text); }

  // Special ids; kNoToken when the vocabulary has none.
  int32_t bos_id() const { return vocab_->special_ids().bos; }
  int32_t eos_id() const { return vocab_->special_ids().eos; }
  int32_t eot_id() const { return vocab_->special_ids().eot; }
  int32_t pad_id() const { return vocab_->special_ids().pad; }
  int32_t unk_id() const { return vocab_->special_ids().unk; }
  bool add_bos() const { return vocab_->add_bos(); }
  bool add_eos() const { return vocab_->add_eos(); }

  // End of generation: EOS, EOT, EOM and the tokens llama.cpp recognises by text.
  bool IsEog(int32_t id) const { return vocab_->IsEog(id); }
  const std::vector<int32_t>& eog_ids() const { return vocab_->eog_ids(); }
  bool IsControl(int32_t id) const { return IsValid(id) && (vocab_->attr(id) & kAttrControl) != 0; }

  const Vocab& vocab() const { return *vocab_; }

 private:
  explicit Tokenizer(std::unique_ptr<Vocab> vocab);

  std::unique_ptr<Vocab> vocab_;
  std::unique_ptr<SpecialSplitter> splitter_;
  std::unique_ptr<BpeEncoder> bpe_;  // BPE vocabularies only
};

// Streams generated tokens as text that is always valid UTF-8: a character split across
// tokens is held back until complete, and bytes that cannot become valid UTF-8 are
// replaced by U+FFFD ("maximal subpart" practice, like Python's errors="replace", which
// is what OpenAI-compatible servers send). The text is the tokens' pieces
// (TokenToPiece) concatenated, as llama.cpp's server streams them: no clean-up of
// spaces and no removal of a leading space.
class IncrementalDecoder {
 public:
  // `tokenizer` must outlive the decoder. `special`: render CONTROL tokens.
  explicit IncrementalDecoder(const Tokenizer& tokenizer, bool special = false)
      : tokenizer_(tokenizer), special_(special) {}

  // Appends to `out` the text that `id` completes (possibly nothing).
  absl::Status Append(int32_t id, std::string* out);
  // Appends what is held back, an incomplete character becoming U+FFFD; the decoder
  // can be used again afterwards.
  void Finish(std::string* out);
  // Bytes held back, waiting for the rest of a character.
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer& tokenizer_;
  bool special_;
  std::string pending_;
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_TOKENIZER_H_
