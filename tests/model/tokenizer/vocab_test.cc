#include "model/tokenizer/vocab.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/model/tokenizer/vocab_builder.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::model::testing::ByteLevel;
using ::shoal::model::testing::VocabBuilder;
using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<Vocab>> Create(VocabBuilder& builder) {
  return Vocab::Create(builder.spec());
}

VocabBuilder Spm() {
  VocabBuilder b("llama");
  b.Token("<unk>", TokenType::kUnknown).Control("<s>").Control("</s>").Token("a").Token("b");
  return b;
}

TEST(VocabTest, RejectsUnknownAndUnsupportedModels) {
  VocabBuilder unknown("sentencepiece");
  unknown.Token("a");
  EXPECT_THAT(Create(unknown), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("tokenizer.ggml.model 'sentencepiece'")));
  VocabBuilder bert("bert");
  bert.Token("a");
  EXPECT_THAT(Create(bert),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("tokenizer.ggml.model 'bert'")));
}

TEST(VocabTest, BpeNeedsAKnownPreTokenizer) {
  VocabBuilder falcon("gpt2", "falcon");
  falcon.Token("a");
  EXPECT_THAT(Create(falcon),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("tokenizer.ggml.pre 'falcon'")));
  VocabBuilder missing("gpt2");
  missing.Token("a");
  missing.spec().pre.reset();
  EXPECT_THAT(Create(missing),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer.ggml.pre")));
}

TEST(VocabTest, SpmIgnoresThePreTokenizerName) {
  VocabBuilder b = Spm();
  b.spec().pre = "whatever";
  EXPECT_OK(Create(b));
}

TEST(VocabTest, RejectsInconsistentArrays) {
  VocabBuilder empty("llama");
  EXPECT_THAT(Create(empty), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("tokenizer.ggml.tokens has 0 entries")));
  VocabBuilder scores = Spm();
  scores.spec().scores.pop_back();
  EXPECT_THAT(Create(scores),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer.ggml.scores")));
  VocabBuilder types = Spm();
  types.spec().token_types.push_back(1);
  EXPECT_THAT(Create(types),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer.ggml.token_type")));
  VocabBuilder nan = Spm();
  nan.spec().scores[3] = std::nanf("");
  EXPECT_THAT(Create(nan), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("tokenizer.ggml.scores[3] is NaN")));
}

TEST(VocabTest, RejectsDuplicateTokens) {
  VocabBuilder b = Spm();
  b.Token("a");
  EXPECT_THAT(Create(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("has 'a' twice (ids 3 and 5)")));
}

TEST(VocabTest, RenamesEmptyTokensLikeLlamaCpp) {
  VocabBuilder b = Spm();
  b.Token("").Token("");
  ASSERT_OK_AND_ASSIGN(auto vocab, Create(b));
  EXPECT_EQ(vocab->text(5), "[EMPTY_5]");
  EXPECT_EQ(vocab->Find("[EMPTY_6]"), 6);
}

TEST(VocabTest, RejectsMalformedByteTokens) {
  VocabBuilder b = Spm();
  b.Token("<0xZZ>", TokenType::kByte);
  EXPECT_THAT(Create(b), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type BYTE")));
}

TEST(VocabTest, RejectsSpecialIdsOutOfRange) {
  VocabBuilder b = Spm();
  b.spec().eos_id = 5;
  EXPECT_THAT(Create(b), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("tokenizer.ggml.eos_token_id is 5")));
  VocabBuilder negative = Spm();
  negative.spec().pad_id = -1;
  EXPECT_THAT(Create(negative), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("tokenizer.ggml.padding_token_id")));
}

TEST(VocabTest, UsesLlamaCppDefaultIds) {
  VocabBuilder spm_builder = Spm();
  ASSERT_OK_AND_ASSIGN(auto spm, Create(spm_builder));
  EXPECT_EQ(spm->special_ids().bos, 1);
  EXPECT_EQ(spm->special_ids().eos, 2);
  EXPECT_EQ(spm->special_ids().unk, 0);
  EXPECT_TRUE(spm->add_bos());
  EXPECT_TRUE(spm->add_space_prefix());
  EXPECT_FALSE(spm->clean_spaces());

  VocabBuilder bpe("gpt2", "qwen2");
  bpe.ByteAlphabet();
  ASSERT_OK_AND_ASSIGN(auto qwen, Create(bpe));
  EXPECT_EQ(qwen->special_ids().bos, 11);  // llama.cpp's BPE default, in range here
  EXPECT_FALSE(qwen->add_bos());
  EXPECT_FALSE(qwen->clean_spaces());
  EXPECT_FALSE(qwen->ignore_merges());

  VocabBuilder small("gpt2", "gpt-2");
  small.Token("a");
  ASSERT_OK_AND_ASSIGN(auto gpt2, Create(small));
  EXPECT_EQ(gpt2->special_ids().bos, kNoToken);  // default 11 is out of range
  EXPECT_TRUE(gpt2->clean_spaces());
}

TEST(VocabTest, Llama3PreTokenizerAddsBosAndIgnoresMerges) {
  VocabBuilder b("gpt2", "llama-bpe");
  b.ByteAlphabet();
  ASSERT_OK_AND_ASSIGN(auto vocab, Create(b));
  EXPECT_TRUE(vocab->add_bos());
  EXPECT_TRUE(vocab->ignore_merges());
  EXPECT_EQ(vocab->pre_tokenizer(), PreTokenizerKind::kLlama3);

  b.spec().add_bos = false;
  ASSERT_OK_AND_ASSIGN(auto no_bos, Create(b));
  EXPECT_FALSE(no_bos->add_bos());
}

TEST(VocabTest, AddBosNeedsABosToken) {
  VocabBuilder b("gpt2", "llama3");
  b.Token("a");
  EXPECT_THAT(Create(b),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("add_bos_token is true but the vocabulary has no BOS")));
}

TEST(VocabTest, EndOfGenerationTokensAreFoundByTextAndForcedControl) {
  VocabBuilder b = Spm();
  b.Token("<|im_end|>").Token("<|fim_pad|>").Token("<end_of_turn>", TokenType::kControl);
  ASSERT_OK_AND_ASSIGN(auto vocab, Create(b));
  EXPECT_THAT(vocab->eog_ids(), ElementsAre(2, 5, 6, 7));  // </s> is EOS
  EXPECT_TRUE(vocab->IsEog(5));
  EXPECT_FALSE(vocab->IsEog(kNoToken));
  EXPECT_EQ(vocab->attr(5), kAttrNormal | kAttrControl);
  EXPECT_EQ(vocab->special_ids().eot, 5);  // the lowest id among the candidates
  EXPECT_EQ(vocab->special_ids().fim_pad, 6);
}

TEST(VocabTest, HarmonyEndIsNotEndOfGeneration) {
  VocabBuilder b = Spm();
  b.Control("<|return|>").Control("<|call|>").Control("<|end|>").Control("<|channel|>");
  ASSERT_OK_AND_ASSIGN(auto vocab, Create(b));
  EXPECT_THAT(vocab->eog_ids(), ElementsAre(2, 5, 6));
  EXPECT_EQ(vocab->attr(7), kAttrUserDefined);
  EXPECT_EQ(vocab->attr(8), kAttrUserDefined);  // gpt-oss tokens are always rendered
}

TEST(VocabTest, MarksUnusedControlTokens) {
  VocabBuilder b = Spm();
  b.Control("<unused0>").Token("unused");
  ASSERT_OK_AND_ASSIGN(auto vocab, Create(b));
  EXPECT_EQ(vocab->attr(5), kAttrControl | kAttrUnused);
  EXPECT_EQ(vocab->attr(6), kAttrNormal);
}

TEST(VocabTest, OrdersSpecialTokensLongestFirst) {
  VocabBuilder b = Spm();
  b.UserDefined("<xy>").Control("<x>").UserDefined("<longest>");
  ASSERT_OK_AND_ASSIGN(auto vocab, Create(b));
  const std::vector<int32_t>& specials = vocab->special_tokens();
  ASSERT_EQ(specials.size(), 6u);
  EXPECT_EQ(specials[0], 7);  // <longest>
  EXPECT_EQ(specials[1], 0);  // <unk>
  for (size_t i = 1; i < specials.size(); ++i) {
    EXPECT_GE(vocab->text(specials[i - 1]).size(), vocab->text(specials[i]).size());
  }
}

TEST(VocabTest, SplitsMergesAtTheFirstSpaceAfterTheFirstByte) {
  VocabBuilder b("gpt2", "qwen2");
  b.ByteAlphabet();
  b.spec().merges = {"a b", " x y", "c d e", "nospace", "a b"};
  ASSERT_OK_AND_ASSIGN(auto vocab, Create(b));
  EXPECT_EQ(vocab->MergeRank("a", "b"), 0);  // the first rank of a pair wins
  EXPECT_EQ(vocab->MergeRank(" x", "y"), 1);
  EXPECT_EQ(vocab->MergeRank("c", "d e"), 2);
  EXPECT_EQ(vocab->MergeRank("c d", "e"), -1);
  EXPECT_EQ(vocab->MergeRank("nospace", ""), -1);
}

TEST(VocabTest, PiecesFollowTokenTypes) {
  VocabBuilder spm = Spm();
  spm.Token("\xE2\x96\x81hi\xE2\x96\x81there").ByteTokens().Token("x", TokenType::kUnused);
  ASSERT_OK_AND_ASSIGN(auto vocab, Create(spm));
  EXPECT_EQ(vocab->piece(5), " hi there");
  EXPECT_EQ(vocab->piece(6 + 0x41), "A");
  EXPECT_EQ(vocab->piece(6 + 0xFF), "\xFF");
  EXPECT_EQ(vocab->piece(1), "<s>");
  EXPECT_EQ(vocab->piece(262), "");  // UNUSED tokens decode to nothing

  VocabBuilder bpe("gpt2", "qwen2");
  bpe.ByteAlphabet().Token(ByteLevel(" world")).Token("\xE4\xB8\xAD");
  ASSERT_OK_AND_ASSIGN(auto bpe_vocab, Create(bpe));
  EXPECT_EQ(bpe_vocab->piece(256), " world");
  // A code point outside the byte alphabet decodes as llama.cpp's marker.
  EXPECT_EQ(bpe_vocab->piece(257), "[UNK_BYTE_0xe4b8ad\xE4\xB8\xAD]");
}

TEST(VocabTest, ByteFallbackPrefersByteTokens) {
  VocabBuilder b = Spm();
  b.Token("\x01").Token("<0x02>", TokenType::kByte);
  ASSERT_OK_AND_ASSIGN(auto vocab, Create(b));
  EXPECT_EQ(vocab->ByteToken(0x02), 6);
  EXPECT_EQ(vocab->ByteToken(0x01), 5);  // the one-byte token
  EXPECT_EQ(vocab->ByteToken(0x03), 0);  // neither: the unknown token
}

}  // namespace
}  // namespace shoal::model
