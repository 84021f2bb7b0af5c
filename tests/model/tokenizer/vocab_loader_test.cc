#include "model/tokenizer/vocab_loader.h"

#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/gguf/gguf_file.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/support/gguf_builder.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::testing::GgufBuilder;
using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint32_t kI32 = 5;
constexpr uint32_t kF32 = 6;
constexpr uint32_t kBool = 7;
constexpr uint32_t kString = 8;
constexpr uint32_t kArray = 9;

// One metadata entry, written into a GgufBuilder.
using Kv = std::function<void(GgufBuilder&)>;

Kv Strings(std::string key, std::vector<std::string> values) {
  return [=](GgufBuilder& b) {
    b.PutString(key).Put<uint32_t>(kArray).Put<uint32_t>(kString).Put<uint64_t>(values.size());
    for (const std::string& v : values) b.PutString(v);
  };
}
Kv Int32s(std::string key, std::vector<int32_t> values) {
  return [=](GgufBuilder& b) {
    b.PutString(key).Put<uint32_t>(kArray).Put<uint32_t>(kI32).Put<uint64_t>(values.size());
    for (int32_t v : values) b.Put(v);
  };
}
Kv Floats(std::string key, std::vector<float> values) {
  return [=](GgufBuilder& b) {
    b.PutString(key).Put<uint32_t>(kArray).Put<uint32_t>(kF32).Put<uint64_t>(values.size());
    for (float v : values) b.Put(v);
  };
}
Kv Text(std::string key, std::string value) {
  return [=](GgufBuilder& b) { b.KeyString(key, value); };
}
Kv U32(std::string key, uint32_t value) {
  return [=](GgufBuilder& b) { b.KeyU32(key, value); };
}
Kv Bool(std::string key, bool value) {
  return [=](GgufBuilder& b) { b.PutString(key).Put<uint32_t>(kBool).Put<uint8_t>(value); };
}

std::vector<Kv> SpmKeys() {
  return {Text("general.architecture", "gemma3"),
          Text("tokenizer.ggml.model", "llama"),
          Text("tokenizer.ggml.pre", "default"),
          Strings("tokenizer.ggml.tokens",
                  {"<unk>", "<bos>", "<eos>", "\xE2\x96\x81hi", "\xE2\x96\x81h", "i"}),
          Floats("tokenizer.ggml.scores", {0, 0, 0, -1, -2, -3}),
          Int32s("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1}),
          U32("tokenizer.ggml.bos_token_id", 1),
          U32("tokenizer.ggml.eos_token_id", 2),
          Bool("tokenizer.ggml.add_space_prefix", false)};
}

// Parses a GGUF holding `kvs` (the builder's bytes live in `storage`).
absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const std::vector<Kv>& kvs,
                                                std::vector<uint8_t>* storage) {
  GgufBuilder b;
  b.Header(/*n_tensors=*/0, static_cast<int64_t>(kvs.size()));
  for (const Kv& kv : kvs) kv(b);
  *storage = b.bytes();
  auto file = GgufFile::Parse(*storage);
  if (!file.ok()) return file.status();
  return Tokenizer::FromGguf(**file);
}

std::vector<Kv> Replace(std::vector<Kv> kvs, size_t index, Kv kv) {
  kvs[index] = std::move(kv);
  return kvs;
}

TEST(VocabLoaderTest, ReadsTheTokenizerKeys) {
  std::vector<uint8_t> bytes;
  ASSERT_OK_AND_ASSIGN(auto tokenizer, Load(SpmKeys(), &bytes));
  EXPECT_EQ(tokenizer->vocab_size(), 6);
  EXPECT_EQ(tokenizer->bos_id(), 1);
  EXPECT_EQ(tokenizer->eos_id(), 2);
  EXPECT_FALSE(tokenizer->vocab().add_space_prefix());
  EXPECT_THAT(tokenizer->Encode(" hi", {.add_special = false}), ElementsAre(3));
}

TEST(VocabLoaderTest, MissingKeysAreNamed) {
  std::vector<Kv> no_model = SpmKeys();
  no_model.erase(no_model.begin() + 1);
  std::vector<uint8_t> bytes;
  EXPECT_THAT(Load(no_model, &bytes),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("tokenizer.ggml.model")));
  std::vector<Kv> no_tokens = SpmKeys();
  no_tokens.erase(no_tokens.begin() + 3);
  EXPECT_THAT(Load(no_tokens, &bytes),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("tokenizer.ggml.tokens")));
}

TEST(VocabLoaderTest, WrongTypesAreNamed) {
  std::vector<uint8_t> bytes;
  EXPECT_THAT(Load(Replace(SpmKeys(), 3, Int32s("tokenizer.ggml.tokens", {1, 2})), &bytes),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'tokenizer.ggml.tokens' should be an array of strings")));
  EXPECT_THAT(Load(Replace(SpmKeys(), 4, Strings("tokenizer.ggml.scores", {"x"})), &bytes),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer.ggml.scores")));
  EXPECT_THAT(Load(Replace(SpmKeys(), 5, Floats("tokenizer.ggml.token_type", {1})), &bytes),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer.ggml.token_type")));
  EXPECT_THAT(
      Load(Replace(SpmKeys(), 6, Text("tokenizer.ggml.bos_token_id", "1")), &bytes),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer.ggml.bos_token_id")));
  EXPECT_THAT(
      Load(Replace(SpmKeys(), 8, U32("tokenizer.ggml.add_space_prefix", 0)), &bytes),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer.ggml.add_space_prefix")));
  EXPECT_THAT(Load(Replace(SpmKeys(), 1, U32("tokenizer.ggml.model", 1)), &bytes),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer.ggml.model")));
}

TEST(VocabLoaderTest, InconsistentValuesAreNamed) {
  std::vector<uint8_t> bytes;
  EXPECT_THAT(Load(Replace(SpmKeys(), 4, Floats("tokenizer.ggml.scores", {0, 1})), &bytes),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tokenizer.ggml.scores has 2 entries but there are 6 tokens")));
  EXPECT_THAT(
      Load(Replace(SpmKeys(), 7, U32("tokenizer.ggml.eos_token_id", 99)), &bytes),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer.ggml.eos_token_id is 99")));
}

TEST(VocabLoaderTest, BpeNeedsMerges) {
  std::vector<Kv> keys = SpmKeys();
  keys[1] = Text("tokenizer.ggml.model", "gpt2");
  keys[2] = Text("tokenizer.ggml.pre", "qwen2");
  std::vector<uint8_t> bytes;
  EXPECT_THAT(Load(keys, &bytes),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("tokenizer.ggml.merges")));
  keys.push_back(Strings("tokenizer.ggml.merges", {"h i"}));
  ASSERT_OK_AND_ASSIGN(auto tokenizer, Load(keys, &bytes));
  EXPECT_EQ(tokenizer->vocab().MergeRank("h", "i"), 0);
}

TEST(VocabLoaderTest, AcceptsIntegerScores) {
  std::vector<uint8_t> bytes;
  ASSERT_OK_AND_ASSIGN(
      auto tokenizer,
      Load(Replace(SpmKeys(), 4, Int32s("tokenizer.ggml.scores", {0, 0, 0, -1, -2, -3})), &bytes));
  EXPECT_EQ(tokenizer->vocab().score(5), -3.0f);
}

}  // namespace
}  // namespace shoal::model
