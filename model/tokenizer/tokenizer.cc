#include "model/tokenizer/tokenizer.h"

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "model/tokenizer/bpe_encoder.h"
#include "model/tokenizer/detokenizer.h"
#include "model/tokenizer/special_splitter.h"
#include "model/tokenizer/spm_encoder.h"
#include "model/tokenizer/vocab_loader.h"

namespace shoal::model {
namespace {

absl::Status OutOfRange(int32_t id, int32_t size) {
  return absl::InvalidArgumentError(
      fmt::format("token id {} is out of range (vocabulary size {})", id, size));
}

// SentencePiece's escaping: every ' ' becomes U+2581.
void AppendEscapingSpaces(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c == ' ') {
      out->append("\xE2\x96\x81");
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Vocab> vocab)
    : vocab_(std::move(vocab)), splitter_(std::make_unique<SpecialSplitter>(*vocab_)) {
  if (vocab_->type() == VocabType::kBpe) bpe_ = std::make_unique<BpeEncoder>(*vocab_);
}

Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const GgufFile& file) {
  absl::StatusOr<VocabSpec> spec = ReadVocabSpec(file);
  if (!spec.ok()) return Annotate(spec.status(), "reading the tokenizer");
  return FromSpec(*spec);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromSpec(const VocabSpec& spec) {
  absl::StatusOr<std::unique_ptr<Vocab>> vocab = Vocab::Create(spec);
  if (!vocab.ok()) return Annotate(vocab.status(), "loading the tokenizer");
  return absl::WrapUnique(new Tokenizer(*std::move(vocab)));
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<Fragment> fragments;
  splitter_->Split(text, options.parse_special, &fragments);
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  const SpecialTokenIds& special = vocab_->special_ids();
  if (options.add_special && vocab_->add_bos()) ids.push_back(special.bos);
  std::string escaped;
  bool previous_was_special = true;  // the start of the text counts as after a token
  for (const Fragment& fragment : fragments) {
    if (fragment.is_token()) {
      ids.push_back(fragment.token);
      previous_was_special = true;
      continue;
    }
    const std::string_view raw = text.substr(fragment.begin, fragment.size);
    if (bpe_ != nullptr) {
      bpe_->Encode(raw, &ids);
      continue;
    }
    escaped.clear();
    if (vocab_->add_space_prefix() && previous_was_special) AppendEscapingSpaces(" ", &escaped);
    AppendEscapingSpaces(raw, &escaped);
    EncodeSpm(*vocab_, escaped, &ids);
    previous_was_special = false;
  }
  if (options.add_special && vocab_->add_eos()) ids.push_back(special.eos);
  return ids;
}

absl::StatusOr<std::string> Tokenizer::Decode(std::span<const int32_t> ids,
                                              const DecodeOptions& options) const {
  for (int32_t id : ids) {
    if (!vocab_->Contains(id)) return OutOfRange(id, vocab_->size());
  }
  return Detokenize(*vocab_, ids, options.remove_special, options.unparse_special);
}

absl::StatusOr<std::string_view> Tokenizer::TokenToPiece(int32_t id, bool special) const {
  if (!vocab_->Contains(id)) return OutOfRange(id, vocab_->size());
  return TokenPiece(*vocab_, id, special);
}

absl::StatusOr<std::string_view> Tokenizer::TokenText(int32_t id) const {
  if (!vocab_->Contains(id)) return OutOfRange(id, vocab_->size());
  return vocab_->text(id);
}

}  // namespace shoal::model
