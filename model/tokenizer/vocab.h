// A tokenizer vocabulary as llama.cpp interprets it (src/llama-vocab.cpp,
// `llama_vocab::impl::load`): token texts, scores and attributes, BPE merge ranks,
// special token ids with llama.cpp's defaults and its detection by token text, the
// end-of-generation set, and the special tokens in the order text is split on them.
// Immutable after Create; safe to read from any thread.
#ifndef SHOAL_MODEL_TOKENIZER_VOCAB_H_
#define SHOAL_MODEL_TOKENIZER_VOCAB_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "model/tokenizer/pre_tokenizer.h"
#include "model/tokenizer/vocab_spec.h"

namespace shoal::model {

inline constexpr int32_t kNoToken = -1;
inline constexpr int64_t kMaxVocabSize = int64_t{1} << 24;
inline constexpr int64_t kMaxMerges = int64_t{1} << 24;

enum class VocabType { kSpm, kBpe };

// Token attributes, with llama.cpp's bit values (llama_token_attr).
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
};

struct SpecialTokenIds {
  int32_t bos = kNoToken;
  int32_t eos = kNoToken;
  int32_t eot = kNoToken;
  int32_t eom = kNoToken;
  int32_t unk = kNoToken;
  int32_t sep = kNoToken;
  int32_t pad = kNoToken;
  int32_t mask = kNoToken;
  int32_t fim_pre = kNoToken;
  int32_t fim_suf = kNoToken;
  int32_t fim_mid = kNoToken;
  int32_t fim_pad = kNoToken;
  int32_t fim_rep = kNoToken;
  int32_t fim_sep = kNoToken;
};

// Hash for std::string_view keys (Debian's Abseil hashes only absl::string_view).
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const {
    return absl::Hash<absl::string_view>{}(absl::string_view(text.data(), text.size()));
  }
};

class Vocab {
 public:
  static absl::StatusOr<std::unique_ptr<Vocab>> Create(const VocabSpec& spec);

  VocabType type() const { return type_; }
  // Meaningful for BPE only.
  PreTokenizerKind pre_tokenizer() const { return pre_tokenizer_; }
  const std::string& pre_name() const { return pre_name_; }

  int32_t size() const { return static_cast<int32_t>(scores_.size()); }
  bool Contains(int32_t id) const { return id >= 0 && id < size(); }

  // Per-token data; `id` must be in range.
  std::string_view text(int32_t id) const { return Slice(texts_, text_offsets_, id); }
  float score(int32_t id) const { return scores_[id]; }
  uint32_t attr(int32_t id) const { return attrs_[id]; }
  // llama_token_to_piece(special = true): the text a token stands for.
  std::string_view piece(int32_t id) const { return Slice(pieces_, piece_offsets_, id); }

  // The id of the token with exactly this text, or kNoToken.
  int32_t Find(std::string_view text) const {
    auto it = token_to_id_.find(text);
    return it == token_to_id_.end() ? kNoToken : it->second;
  }
  // The rank of the merge "left right", or -1.
  int32_t MergeRank(std::string_view left, std::string_view right) const;
  // SPM byte fallback: <0xXX>, else the one-byte token, else unk, else kNoToken.
  int32_t ByteToken(uint8_t byte) const { return byte_tokens_[byte]; }

  const SpecialTokenIds& special_ids() const { return ids_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  bool remove_extra_whitespaces() const { return remove_extra_whitespaces_; }
  bool ignore_merges() const { return ignore_merges_; }
  bool clean_spaces() const { return clean_spaces_; }

  // End-of-generation tokens, ascending.
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }
  bool IsEog(int32_t id) const;

  // Tokens with attr CONTROL, USER_DEFINED or UNKNOWN, longest text first, in the
  // order llama.cpp splits raw text on them.
  const std::vector<int32_t>& special_tokens() const { return special_tokens_; }

 private:
  struct MergeKey {
    std::string_view left;
    std::string_view right;
    bool operator==(const MergeKey& other) const {
      return left == other.left && right == other.right;
    }
  };
  struct MergeKeyHash {
    size_t operator()(const MergeKey& key) const {
      return absl::HashOf(absl::string_view(key.left.data(), key.left.size()),
                          absl::string_view(key.right.data(), key.right.size()));
    }
  };

  Vocab() = default;
  static std::string_view Slice(const std::string& arena, const std::vector<uint32_t>& offsets,
                                int32_t id) {
    return std::string_view(arena).substr(offsets[id], offsets[id + 1] - offsets[id]);
  }

  absl::Status InitType(const VocabSpec& spec);
  absl::Status InitTokens(const VocabSpec& spec);
  absl::Status InitSpecialIds(const VocabSpec& spec);
  absl::Status InitMerges(const VocabSpec& spec);
  void InitFlags(const VocabSpec& spec);
  void InitSpecialTokenOrder();
  void InitByteTokens();
  absl::Status InitPieces();

  VocabType type_ = VocabType::kSpm;
  PreTokenizerKind pre_tokenizer_ = PreTokenizerKind::kDefault;
  std::string pre_name_;

  std::string texts_;  // all token texts back to back
  std::vector<uint32_t> text_offsets_;
  std::string pieces_;
  std::vector<uint32_t> piece_offsets_;
  std::vector<float> scores_;
  std::vector<uint32_t> attrs_;
  absl::flat_hash_map<std::string_view, int32_t, TextHash, std::equal_to<>> token_to_id_;

  std::string merge_texts_;
  absl::flat_hash_map<MergeKey, int32_t, MergeKeyHash> merge_ranks_;
  std::array<int32_t, 256> byte_tokens_{};

  SpecialTokenIds ids_;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_space_prefix_ = false;
  bool remove_extra_whitespaces_ = false;
  bool ignore_merges_ = false;
  bool clean_spaces_ = false;
  std::vector<int32_t> eog_ids_;
  std::vector<int32_t> special_tokens_;
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_VOCAB_H_
