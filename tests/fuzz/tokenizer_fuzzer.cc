// libFuzzer target for the tokenizers. The first byte picks a mode:
//  - text (most inputs): the rest is text, encoded with one of the test vocabularies
//    (tests/data/vocab_*.json: SentencePiece, and byte-level BPE with each supported
//    pre-tokenizer) and decoded back; and the same bytes read as token ids (valid or
//    not) are decoded and streamed;
//  - vocabulary: the rest builds a small random vocabulary (tokens, types, scores,
//    merges, special ids), which must load or be refused with an error, and is then
//    used on a text.
// Checked: no crash or sanitizer report; every id Encode returns is valid; Decode of
// out-of-range ids is an error; IncrementalDecoder output is valid UTF-8; text that is
// valid UTF-8 (and holds no U+2581 for SentencePiece) survives encode + decode where
// llama.cpp's scheme preserves it (SentencePiece without a space prefix, and qwen2,
// which does not clean up spaces).
// Seeds (tests/fuzz/corpus/tokenizer/): entries of tests/data/tokenizer_corpus.json
// followed by three bytes that the provider reads from the end as mode, vocabulary and
// options.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/unicode.h"
#include "nlohmann/json.hpp"

namespace shoal::model {
namespace {

#define FUZZ_CHECK(condition)                                                     \
  do {                                                                            \
    if (!(condition)) {                                                           \
      std::fprintf(stderr, "check failed: %s (line %d)\n", #condition, __LINE__); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

std::string DataDir() {
  std::string file = __FILE__;  // .../tests/fuzz/tokenizer_fuzzer.cc
  return file.substr(0, file.rfind("/fuzz/")) + "/data/";
}

VocabSpec LoadSpec(const std::string& name, const std::string& pre) {
  std::ifstream in(DataDir() + "vocab_" + name + ".json");
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json json = nlohmann::json::parse(text.str());
  VocabSpec spec;
  spec.model = json.at("model").get<std::string>();
  spec.pre = pre;
  spec.tokens = json.at("tokens").get<std::vector<std::string>>();
  spec.token_types = json.at("token_types").get<std::vector<int32_t>>();
  if (json.contains("scores")) spec.scores = json.at("scores").get<std::vector<float>>();
  if (json.contains("merges")) spec.merges = json.at("merges").get<std::vector<std::string>>();
  for (auto [key, id] : {std::pair{"bos_token_id", &spec.bos_id},
                         {"eos_token_id", &spec.eos_id},
                         {"eot_token_id", &spec.eot_id},
                         {"unknown_token_id", &spec.unk_id},
                         {"padding_token_id", &spec.pad_id}}) {
    if (json.contains(key)) *id = json.at(key).get<int64_t>();
  }
  if (json.contains("add_bos_token")) spec.add_bos = json.at("add_bos_token").get<bool>();
  if (json.contains("add_space_prefix")) {
    spec.add_space_prefix = json.at("add_space_prefix").get<bool>();
  }
  return spec;
}

struct Fixture {
  std::unique_ptr<Tokenizer> tokenizer;
  bool round_trips;  // valid UTF-8 text survives encode + decode
};

const std::vector<Fixture>& Fixtures() {
  static const auto* fixtures = [] {
    auto* list = new std::vector<Fixture>();
    const std::pair<const char*, const char*> vocabs[] = {{"spm", "default"},
                                                          {"bpe", "qwen2"},
                                                          {"bpe", "llama-bpe"},
                                                          {"bpe", "gpt-2"},
                                                          {"bpe", "default"}};
    for (const auto& [name, pre] : vocabs) {
      auto tokenizer = Tokenizer::FromSpec(LoadSpec(name, pre));
      FUZZ_CHECK(tokenizer.ok());
      const bool round_trips = std::string(pre) == "qwen2" || std::string(name) == "spm";
      list->push_back({*std::move(tokenizer), round_trips});
    }
    return list;
  }();
  return *fixtures;
}

bool IsValidUtf8(std::string_view text) {
  std::string repaired;
  AppendValidUtf8(text, &repaired);
  return repaired == text;
}

void CheckStreaming(const Tokenizer& tokenizer, const std::vector<int32_t>& ids, bool special) {
  IncrementalDecoder decoder(tokenizer, special);
  std::string streamed;
  for (int32_t id : ids) {
    const absl::Status status = decoder.Append(id, &streamed);
    FUZZ_CHECK(status.ok() == tokenizer.IsValid(id));
  }
  decoder.Finish(&streamed);
  FUZZ_CHECK(IsValidUtf8(streamed));
}

void FuzzText(FuzzedDataProvider& input) {
  const Fixture& fixture =
      Fixtures()[input.ConsumeIntegralInRange<size_t>(0, Fixtures().size() - 1)];
  const Tokenizer& tokenizer = *fixture.tokenizer;
  const uint8_t flags = input.ConsumeIntegral<uint8_t>();
  const EncodeOptions encode{.add_special = (flags & 1) != 0, .parse_special = (flags & 2) != 0};
  const DecodeOptions decode{.remove_special = (flags & 4) != 0,
                             .unparse_special = (flags & 8) != 0};
  const std::string text = input.ConsumeRemainingBytesAsString();

  const std::vector<int32_t> ids = tokenizer.Encode(text, encode);
  for (int32_t id : ids) FUZZ_CHECK(tokenizer.IsValid(id));
  FUZZ_CHECK(tokenizer.Decode(ids, decode).ok());
  if (fixture.round_trips && !encode.add_special && !encode.parse_special && IsValidUtf8(text) &&
      text.find("\xE2\x96\x81") == std::string::npos) {
    absl::StatusOr<std::string> decoded = tokenizer.Decode(ids, {.unparse_special = true});
    FUZZ_CHECK(decoded.ok() && *decoded == text);
  }
  CheckStreaming(tokenizer, ids, (flags & 8) != 0);

  // The same bytes as token ids, most of them out of range.
  std::vector<int32_t> raw_ids;
  for (size_t i = 0; i + 4 <= text.size(); i += 4) {
    int32_t id;
    std::memcpy(&id, text.data() + i, 4);
    raw_ids.push_back((flags & 16) != 0 ? id % (tokenizer.vocab_size() + 8) : id);
  }
  bool all_valid = true;
  for (int32_t id : raw_ids) all_valid = all_valid && tokenizer.IsValid(id);
  FUZZ_CHECK(tokenizer.Decode(raw_ids, decode).ok() == all_valid);
  CheckStreaming(tokenizer, raw_ids, (flags & 8) != 0);
}

void FuzzVocabulary(FuzzedDataProvider& input) {
  VocabSpec spec;
  spec.model = input.ConsumeBool() ? "llama" : "gpt2";
  static constexpr const char* kPres[] = {"default", "llama-bpe", "qwen2", "gpt-2", "bogus"};
  spec.pre = kPres[input.ConsumeIntegralInRange<int>(0, 4)];
  const int n_tokens = input.ConsumeIntegralInRange<int>(0, 64);
  for (int i = 0; i < n_tokens; ++i) {
    spec.tokens.push_back(input.ConsumeRandomLengthString(8));
    spec.token_types.push_back(input.ConsumeIntegralInRange<int32_t>(0, 7));
    spec.scores.push_back(input.ConsumeFloatingPoint<float>());
  }
  const int n_merges = input.ConsumeIntegralInRange<int>(0, 32);
  for (int i = 0; i < n_merges; ++i) spec.merges.push_back(input.ConsumeRandomLengthString(12));
  if (input.ConsumeBool()) spec.bos_id = input.ConsumeIntegralInRange<int64_t>(-2, 70);
  if (input.ConsumeBool()) spec.eos_id = input.ConsumeIntegralInRange<int64_t>(-2, 70);
  if (input.ConsumeBool()) spec.unk_id = input.ConsumeIntegralInRange<int64_t>(-2, 70);
  if (input.ConsumeBool()) spec.add_bos = input.ConsumeBool();
  if (input.ConsumeBool()) spec.add_space_prefix = input.ConsumeBool();
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = Tokenizer::FromSpec(spec);
  if (!tokenizer.ok()) return;
  const std::string text = input.ConsumeRemainingBytesAsString();
  for (bool parse_special : {false, true}) {
    const std::vector<int32_t> ids = (*tokenizer)->Encode(text, {.parse_special = parse_special});
    for (int32_t id : ids) FUZZ_CHECK((*tokenizer)->IsValid(id));
    FUZZ_CHECK((*tokenizer)->Decode(ids, {.unparse_special = parse_special}).ok());
    CheckStreaming(**tokenizer, ids, parse_special);
  }
}

}  // namespace
}  // namespace shoal::model

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  if (input.ConsumeIntegral<uint8_t>() < 0xE0) {
    shoal::model::FuzzText(input);
  } else {
    shoal::model::FuzzVocabulary(input);
  }
  return 0;
}
