#include "model/tokenizer/vocab.h"

#include <algorithm>
#include <cmath>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "model/tokenizer/byte_level.h"
#include "model/tokenizer/special_token_rules.h"
#include "model/tokenizer/unicode.h"

namespace shoal::model {
namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581, SentencePiece's space

absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(message); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte of a BYTE token "<0xXX>", or -1 if the text is not of that form.
int ByteTokenValue(std::string_view text) {
  if (text.size() < 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  const int hi = HexValue(text[3]);
  const int lo = HexValue(text[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

uint32_t AttrOfType(int32_t type) {
  switch (static_cast<TokenType>(type)) {
    case TokenType::kNormal:
      return kAttrNormal;
    case TokenType::kUnknown:
      return kAttrUnknown;
    case TokenType::kControl:
      return kAttrControl;
    case TokenType::kUserDefined:
      return kAttrUserDefined;
    case TokenType::kUnused:
      return kAttrUnused;
    case TokenType::kByte:
      return kAttrByte;
    default:
      return kAttrUndefined;  // as llama.cpp: such tokens decode to nothing
  }
}

// The decoded texts of all tokens together may not exceed this (a guard against crafted
// vocabularies: llama.cpp's decoding of a code point outside the byte alphabet repeats
// the whole token text, so a long token of such code points decodes quadratically).
constexpr size_t kMaxPieceBytes = size_t{1} << 28;

// llama_decode_text: a byte-level token's text back to the bytes it stands for.
absl::Status AppendByteLevelDecoded(std::string_view text, std::string* out) {
  std::vector<uint32_t> cpts;
  DecodeUtf8(text, &cpts);
  size_t unknown = 0;
  for (uint32_t cpt : cpts) unknown += CodepointToByte(cpt).has_value() ? 0 : 1;
  if (unknown * (text.size() + 24) > kMaxPieceBytes - out->size()) {
    return Invalid(fmt::format("token '{}' decodes to more than {} bytes", text.substr(0, 64),
                               kMaxPieceBytes));
  }
  for (uint32_t cpt : cpts) {
    if (std::optional<uint8_t> byte = CodepointToByte(cpt)) {
      out->push_back(static_cast<char>(*byte));
      continue;
    }
    std::string utf8;
    AppendUtf8(cpt, &utf8);
    out->append("[UNK_BYTE_0x");
    for (char c : utf8) out->append(fmt::format("{:02x}", static_cast<uint8_t>(c)));
    out->append(text);
    out->push_back(']');
  }
  return absl::OkStatus();
}

void AppendReplacingSpaceMarker(std::string_view text, std::string* out) {
  size_t pos = 0;
  while (true) {
    const size_t marker = text.find(kSpaceMarker, pos);
    if (marker == std::string_view::npos) break;
    out->append(text.substr(pos, marker - pos));
    out->push_back(' ');
    pos = marker + kSpaceMarker.size();
  }
  out->append(text.substr(pos));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Vocab>> Vocab::Create(const VocabSpec& spec) {
  auto vocab = absl::WrapUnique(new Vocab());
  SHOAL_RETURN_IF_ERROR(vocab->InitType(spec));
  SHOAL_RETURN_IF_ERROR(vocab->InitTokens(spec));
  SHOAL_RETURN_IF_ERROR(vocab->InitSpecialIds(spec));
  SHOAL_RETURN_IF_ERROR(vocab->InitMerges(spec));
  vocab->InitFlags(spec);
  if (vocab->add_bos_ && vocab->ids_.bos == kNoToken) {
    return Invalid("tokenizer.ggml.add_bos_token is true but the vocabulary has no BOS token");
  }
  if (vocab->add_eos_ && vocab->ids_.eos == kNoToken) {
    return Invalid("tokenizer.ggml.add_eos_token is true but the vocabulary has no EOS token");
  }
  vocab->eog_ids_ =
      ApplyTokenTextRules({.find = [&](std::string_view text) { return vocab->Find(text); },
                           .text = [&](int32_t id) { return vocab->text(id); }},
                          &vocab->attrs_, &vocab->ids_);
  vocab->InitSpecialTokenOrder();
  vocab->InitByteTokens();
  SHOAL_RETURN_IF_ERROR(vocab->InitPieces());
  return vocab;
}

absl::Status Vocab::InitType(const VocabSpec& spec) {
  if (spec.model == "llama") {
    type_ = VocabType::kSpm;
    pre_name_ = spec.pre.value_or("default");  // llama.cpp ignores the pre-tokenizer of SPM
    return absl::OkStatus();
  }
  if (spec.model != "gpt2") {
    static constexpr std::string_view kKnown[] = {
        "no_vocab", "none", "bert", "t5", "rwkv", "plamo2", "gemma4", "hybriddna", "whitespace"};
    if (std::find(std::begin(kKnown), std::end(kKnown), spec.model) != std::end(kKnown)) {
      return absl::UnimplementedError(fmt::format(
          "tokenizer.ggml.model '{}' is not supported (supported: 'llama', 'gpt2')", spec.model));
    }
    return Invalid(fmt::format("tokenizer.ggml.model '{}' is unknown", spec.model));
  }
  type_ = VocabType::kBpe;
  if (!spec.pre.has_value()) {
    return Invalid(
        "tokenizer.ggml.pre is missing; a gpt2 (BPE) vocabulary needs it (llama.cpp would fall "
        "back to 'default' and warn that generation quality will be degraded)");
  }
  pre_name_ = *spec.pre;
  if (pre_name_ == "llama3" || pre_name_ == "llama-v3" || pre_name_ == "llama-bpe") {
    pre_tokenizer_ = PreTokenizerKind::kLlama3;
  } else if (pre_name_ == "qwen2" || pre_name_ == "deepseek-r1-qwen") {
    pre_tokenizer_ = PreTokenizerKind::kQwen2;
  } else if (pre_name_ == "gpt-2") {
    pre_tokenizer_ = PreTokenizerKind::kGpt2;
  } else if (pre_name_ == "default") {
    pre_tokenizer_ = PreTokenizerKind::kDefault;
  } else {
    return absl::UnimplementedError(fmt::format(
        "tokenizer.ggml.pre '{}' is not supported (supported: llama3, llama-v3, llama-bpe, "
        "qwen2, deepseek-r1-qwen, gpt-2, default)",
        pre_name_));
  }
  return absl::OkStatus();
}

absl::Status Vocab::InitTokens(const VocabSpec& spec) {
  const int64_t n = static_cast<int64_t>(spec.tokens.size());
  if (n == 0 || n > kMaxVocabSize) {
    return Invalid(
        fmt::format("tokenizer.ggml.tokens has {} entries (expected 1 to {})", n, kMaxVocabSize));
  }
  if (!spec.scores.empty() && static_cast<int64_t>(spec.scores.size()) != n) {
    return Invalid(fmt::format("tokenizer.ggml.scores has {} entries but there are {} tokens",
                               spec.scores.size(), n));
  }
  if (!spec.token_types.empty() && static_cast<int64_t>(spec.token_types.size()) != n) {
    return Invalid(fmt::format("tokenizer.ggml.token_type has {} entries but there are {} tokens",
                               spec.token_types.size(), n));
  }
  text_offsets_.reserve(n + 1);
  text_offsets_.push_back(0);
  for (int64_t id = 0; id < n; ++id) {
    // llama.cpp renames empty tokens so that every text stays unique.
    if (spec.tokens[id].empty()) {
      texts_.append(fmt::format("[EMPTY_{}]", id));
    } else {
      texts_.append(spec.tokens[id]);
    }
    if (texts_.size() > UINT32_MAX) return Invalid("tokenizer.ggml.tokens is too large");
    text_offsets_.push_back(static_cast<uint32_t>(texts_.size()));
  }
  scores_.assign(n, 0.0f);
  attrs_.assign(n, kAttrNormal);
  token_to_id_.reserve(n);
  for (int32_t id = 0; id < n; ++id) {
    if (!spec.scores.empty()) {
      if (std::isnan(spec.scores[id])) {
        return Invalid(fmt::format("tokenizer.ggml.scores[{}] is NaN", id));
      }
      scores_[id] = spec.scores[id];
    }
    if (!spec.token_types.empty()) attrs_[id] = AttrOfType(spec.token_types[id]);
    auto [it, inserted] = token_to_id_.emplace(text(id), id);
    if (!inserted) {
      return Invalid(fmt::format("tokenizer.ggml.tokens has '{}' twice (ids {} and {})",
                                 text(id).substr(0, 100), it->second, id));
    }
    if ((attrs_[id] & kAttrByte) != 0 && ByteTokenValue(text(id)) < 0) {
      return Invalid(fmt::format("token {} '{}' has type BYTE but its text is not <0xXX>", id,
                                 text(id).substr(0, 100)));
    }
  }
  return absl::OkStatus();
}

absl::Status Vocab::InitSpecialIds(const VocabSpec& spec) {
  // llama.cpp's defaults for keys that are absent, dropped when out of range.
  if (type_ == VocabType::kSpm) {
    ids_.bos = 1;
    ids_.eos = 2;
    ids_.unk = 0;
  } else {
    ids_.bos = 11;
    ids_.eos = 11;
  }
  for (int32_t* id : {&ids_.bos, &ids_.eos, &ids_.unk}) {
    if (*id >= size()) *id = kNoToken;
  }
  struct Key {
    const char* name;
    const std::optional<int64_t>& value;
    int32_t* id;
  };
  const Key keys[] = {
      {"bos_token_id", spec.bos_id, &ids_.bos},
      {"eos_token_id", spec.eos_id, &ids_.eos},
      {"eot_token_id", spec.eot_id, &ids_.eot},
      {"eom_token_id", spec.eom_id, &ids_.eom},
      {"unknown_token_id", spec.unk_id, &ids_.unk},
      {"seperator_token_id", spec.sep_id, &ids_.sep},
      {"padding_token_id", spec.pad_id, &ids_.pad},
      {"mask_token_id", spec.mask_id, &ids_.mask},
      {"fim_pre_token_id", spec.fim_pre_id, &ids_.fim_pre},
      {"fim_suf_token_id", spec.fim_suf_id, &ids_.fim_suf},
      {"fim_mid_token_id", spec.fim_mid_id, &ids_.fim_mid},
      {"fim_pad_token_id", spec.fim_pad_id, &ids_.fim_pad},
      {"fim_rep_token_id", spec.fim_rep_id, &ids_.fim_rep},
      {"fim_sep_token_id", spec.fim_sep_id, &ids_.fim_sep},
  };
  for (const Key& key : keys) {
    if (!key.value.has_value()) continue;
    if (*key.value < 0 || *key.value >= size()) {
      return Invalid(fmt::format("tokenizer.ggml.{} is {} but the vocabulary has {} tokens",
                                 key.name, *key.value, size()));
    }
    *key.id = static_cast<int32_t>(*key.value);
  }
  return absl::OkStatus();
}

absl::Status Vocab::InitMerges(const VocabSpec& spec) {
  if (static_cast<int64_t>(spec.merges.size()) > kMaxMerges) {
    return Invalid(fmt::format("tokenizer.ggml.merges has {} entries (at most {})",
                               spec.merges.size(), kMaxMerges));
  }
  if (type_ != VocabType::kBpe) return absl::OkStatus();
  size_t total = 0;
  for (const std::string& merge : spec.merges) total += merge.size();
  merge_texts_.reserve(total);  // the keys view into it, so it must not reallocate
  merge_ranks_.reserve(spec.merges.size());
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const size_t begin = merge_texts_.size();
    merge_texts_.append(spec.merges[rank]);
    const std::string_view merge = std::string_view(merge_texts_).substr(begin);
    // Split at the first space after the first byte; without one the merge is ("", ""),
    // which matches nothing. The first rank of a pair wins.
    const size_t space = merge.find(' ', 1);
    MergeKey key;
    if (space != std::string_view::npos) key = {merge.substr(0, space), merge.substr(space + 1)};
    merge_ranks_.emplace(key, static_cast<int32_t>(rank));
  }
  return absl::OkStatus();
}

void Vocab::InitFlags(const VocabSpec& spec) {
  if (type_ == VocabType::kSpm) {
    add_bos_ = true;
    add_space_prefix_ = true;
  } else {
    add_bos_ = pre_tokenizer_ == PreTokenizerKind::kLlama3;
    ignore_merges_ = pre_tokenizer_ == PreTokenizerKind::kLlama3;
    clean_spaces_ = pre_tokenizer_ != PreTokenizerKind::kQwen2;
  }
  add_bos_ = spec.add_bos.value_or(add_bos_);
  add_eos_ = spec.add_eos.value_or(add_eos_);
  add_space_prefix_ = spec.add_space_prefix.value_or(add_space_prefix_);
  remove_extra_whitespaces_ = spec.remove_extra_whitespaces.value_or(false);
}

void Vocab::InitSpecialTokenOrder() {
  for (int32_t id = 0; id < size(); ++id) {
    if ((attrs_[id] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) != 0) {
      special_tokens_.push_back(id);
    }
  }
  // llama.cpp sorts these with std::sort, which does not keep the id order of tokens of
  // equal length. Using the same algorithm on the same input with the same comparison
  // gives the same order, which matters only when two equally long special tokens can
  // overlap in a text.
  std::sort(special_tokens_.begin(), special_tokens_.end(),
            [&](int32_t a, int32_t b) { return text(a).size() > text(b).size(); });
}

void Vocab::InitByteTokens() {
  for (int byte = 0; byte < 256; ++byte) {
    int32_t id = Find(fmt::format("<0x{:02X}>", byte));
    if (id == kNoToken && byte != 0) id = Find(std::string(1, static_cast<char>(byte)));
    // llama.cpp throws here (and the process ends); the unknown token is the gentler
    // choice, and a vocabulary without either drops the byte.
    if (id == kNoToken) id = ids_.unk;
    byte_tokens_[byte] = id;
  }
}

absl::Status Vocab::InitPieces() {
  piece_offsets_.reserve(size() + 1);
  piece_offsets_.push_back(0);
  for (int32_t id = 0; id < size(); ++id) {
    const uint32_t attr = attrs_[id];
    const std::string_view token_text = text(id);
    if ((attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) != 0) {
      pieces_.append(token_text);
    } else if ((attr & kAttrNormal) != 0) {
      if (type_ == VocabType::kSpm) {
        AppendReplacingSpaceMarker(token_text, &pieces_);
      } else {
        SHOAL_RETURN_IF_ERROR(AppendByteLevelDecoded(token_text, &pieces_));
      }
    } else if ((attr & kAttrByte) != 0) {
      pieces_.push_back(static_cast<char>(ByteTokenValue(token_text)));
    }
    if (pieces_.size() > kMaxPieceBytes) return Invalid("the decoded token texts are too large");
    piece_offsets_.push_back(static_cast<uint32_t>(pieces_.size()));
  }
  return absl::OkStatus();
}

int32_t Vocab::MergeRank(std::string_view left, std::string_view right) const {
  auto it = merge_ranks_.find(MergeKey{left, right});
  return it == merge_ranks_.end() ? -1 : it->second;
}

bool Vocab::IsEog(int32_t id) const {
  return id != kNoToken && std::find(eog_ids_.begin(), eog_ids_.end(), id) != eog_ids_.end();
}

}  // namespace shoal::model
