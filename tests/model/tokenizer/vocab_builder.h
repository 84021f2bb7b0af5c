// Builds small VocabSpecs for unit tests: tokens with types and scores, byte tokens,
// GPT-2's byte alphabet, and BPE merges.
#ifndef SHOAL_TESTS_MODEL_TOKENIZER_VOCAB_BUILDER_H_
#define SHOAL_TESTS_MODEL_TOKENIZER_VOCAB_BUILDER_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/tokenizer/byte_level.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/vocab_spec.h"

namespace shoal::model::testing {

class VocabBuilder {
 public:
  // `model` is "llama" (SPM) or "gpt2" (BPE).
  explicit VocabBuilder(std::string model, std::string pre = "default") {
    spec_.model = std::move(model);
    spec_.pre = std::move(pre);
  }

  VocabBuilder& Token(const std::string& text, TokenType type = TokenType::kNormal,
                      float score = 0.0f) {
    spec_.tokens.push_back(text);
    spec_.token_types.push_back(static_cast<int32_t>(type));
    spec_.scores.push_back(score);
    return *this;
  }
  VocabBuilder& Control(const std::string& text) { return Token(text, TokenType::kControl); }
  VocabBuilder& UserDefined(const std::string& text) {
    return Token(text, TokenType::kUserDefined);
  }
  // <0x00> .. <0xFF>, type BYTE.
  VocabBuilder& ByteTokens() {
    for (int byte = 0; byte < 256; ++byte) {
      char text[8];
      std::snprintf(text, sizeof(text), "<0x%02X>", byte);
      Token(text, TokenType::kByte);
    }
    return *this;
  }
  // The 256 one-character tokens of GPT-2's byte alphabet, in byte order.
  VocabBuilder& ByteAlphabet() {
    for (int byte = 0; byte < 256; ++byte) {
      Token(std::string(ByteToUtf8(static_cast<uint8_t>(byte))));
    }
    return *this;
  }
  // A merge (rank = order of calls) and its result as a token if not there yet.
  VocabBuilder& Merge(const std::string& left, const std::string& right) {
    spec_.merges.push_back(left + " " + right);
    if (Id(left + right) < 0) Token(left + right);
    return *this;
  }
  VocabBuilder& Set(void (*edit)(VocabSpec*)) {
    edit(&spec_);
    return *this;
  }

  int32_t Id(const std::string& text) const {
    for (size_t i = 0; i < spec_.tokens.size(); ++i) {
      if (spec_.tokens[i] == text) return static_cast<int32_t>(i);
    }
    return -1;
  }
  VocabSpec& spec() { return spec_; }

  std::unique_ptr<Tokenizer> Build() const {
    auto tokenizer = Tokenizer::FromSpec(spec_);
    EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
    return tokenizer.ok() ? *std::move(tokenizer) : nullptr;
  }

 private:
  VocabSpec spec_;
};

// GPT-2's byte-level form of UTF-8 text ("a b" -> "aĠb").
inline std::string ByteLevel(std::string_view text) {
  std::string out;
  AppendByteLevel(text, &out);
  return out;
}

}  // namespace shoal::model::testing

#endif  // SHOAL_TESTS_MODEL_TOKENIZER_VOCAB_BUILDER_H_
