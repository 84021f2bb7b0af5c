// Shoal's tokenizer against llama.cpp (through llama-cpp-python) on the same GGUF files:
// for every entry of tests/data/tokenizer_corpus.json and every option combination,
// Encode must give llama_tokenize's ids exactly and Decode llama_detokenize's bytes
// exactly; the vocabulary's special ids, EOG set, token attributes and pieces must match
// too. The references are tests/golden/tokenizer_<name>.json, made by
// scripts/make_golden_tokenizer.py from the vocabulary-only GGUFs that
// tests/data_gen/vocabs.py writes into the test data directory, and from the real
// Gemma 3 270M file.
//
// decode(encode(x)) == x is required wherever llama.cpp round-trips too. It does not
// (the test prints each such entry):
//  - BPE, invalid UTF-8: each bad byte is read as U+FFFD;
//  - BPE other than qwen2: llama.cpp's clean-up of spaces (" ?" -> "?", " 's" -> "'s",
//    " ' " -> "'") also rewrites spaces that were in the input;
//  - SPM: a literal U+2581 in the input decodes as a space; and an invalid lead byte
//    takes the next bytes with it (llama.cpp cuts characters by the length the lead
//    byte announces), which can cut the U+2581 that a space was escaped to, so those
//    bytes come back as U+2581's bytes instead of a space.
// Special-token texts in the input round-trip, as encoding with parse_special = false
// keeps them as text.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/gguf/gguf_file.h"
#include "model/tokenizer/tokenizer.h"
#include "nlohmann/json.hpp"
#include "tests/support/model_files.h"
#include "tests/support/sha256.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::testing::Sha256Hex;

using json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Hashed once per file: the Gemma file is 250 MB.
const std::string& FileSha256(const std::string& path) {
  static auto* hashes = new std::map<std::string, std::string>();
  auto it = hashes->find(path);
  if (it == hashes->end()) it = hashes->emplace(path, Sha256Hex(ReadFile(path))).first;
  return it->second;
}

std::string FromBase64(std::string_view text) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const size_t value = kAlphabet.find(c);
    if (value == std::string_view::npos) continue;  // '=' padding
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

// A golden text: a JSON string, or {"base64": ...} for bytes that are not UTF-8.
std::string GoldenText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  return FromBase64(value.at("base64").get<std::string>());
}

// Printable form of bytes for failure messages.
std::string Escaped(std::string_view bytes, size_t limit = 80) {
  std::string out;
  for (unsigned char c : bytes.substr(0, limit)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (bytes.size() > limit) out += "...";
  return out;
}

std::string IdsText(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

struct VocabCase {
  std::string name;  // tests/golden/tokenizer_<name>.json
  bool real_model;   // the Gemma 3 file rather than <testdata>/vocabs/<name>.gguf
};

void PrintTo(const VocabCase& c, std::ostream* os) { *os << c.name; }

std::string GgufPath(const VocabCase& c) {
  if (c.real_model) return shoal::testing::Gemma3Path();
  return std::string(SHOAL_TESTDATA_DIR) + "/vocabs/" + c.name + ".gguf";
}

class TokenizerGoldenTest : public ::testing::TestWithParam<VocabCase> {
 protected:
  void SetUp() override {
    const std::string golden_path =
        std::string(SHOAL_GOLDEN_DIR) + "/tokenizer_" + GetParam().name + ".json";
    ASSERT_TRUE(std::filesystem::exists(golden_path)) << golden_path;
    golden_ = json::parse(ReadFile(golden_path));

    const std::string corpus_path =
        std::string(SHOAL_SOURCE_DIR) + "/tests/data/tokenizer_corpus.json";
    const std::string corpus_text = ReadFile(corpus_path);
    ASSERT_EQ(Sha256Hex(corpus_text), golden_.at("corpus_sha256").get<std::string>())
        << "tests/data/tokenizer_corpus.json changed since " << golden_path
        << " was made; run scripts/make_golden_tokenizer.py";
    const json corpus = json::parse(corpus_text);
    for (const json& entry : corpus.at("entries")) corpus_.push_back(GoldenText(entry));

    const std::string path = GgufPath(GetParam());
    ASSERT_TRUE(std::filesystem::exists(path))
        << path << " is missing"
        << (GetParam().real_model ? "" : " (run the make_test_data fixture)");
    ASSERT_OK_AND_ASSIGN(file_, GgufFile::Open(path));
    const std::string want_sha = golden_.at("gguf").at("sha256").get<std::string>();
    ASSERT_EQ(FileSha256(path), want_sha)
        << path << " is not the file " << golden_path << " was made from; regenerate it with "
        << "scripts/make_golden_tokenizer.py (or fix the test data generator)";
    ASSERT_OK_AND_ASSIGN(tokenizer_, Tokenizer::FromGguf(*file_));
  }

  json golden_;
  std::vector<std::string> corpus_;
  std::unique_ptr<GgufFile> file_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

TEST_P(TokenizerGoldenTest, VocabularyFactsMatchLlamaCpp) {
  const json& facts = golden_.at("vocab");
  EXPECT_EQ(tokenizer_->vocab_size(), facts.at("n_tokens").get<int32_t>());
  EXPECT_EQ(tokenizer_->bos_id(), facts.at("bos").get<int32_t>());
  EXPECT_EQ(tokenizer_->eos_id(), facts.at("eos").get<int32_t>());
  EXPECT_EQ(tokenizer_->eot_id(), facts.at("eot").get<int32_t>());
  EXPECT_EQ(tokenizer_->vocab().special_ids().sep, facts.at("sep").get<int32_t>());
  EXPECT_EQ(tokenizer_->pad_id(), facts.at("pad").get<int32_t>());
  EXPECT_EQ(tokenizer_->add_bos(), facts.at("add_bos").get<bool>());
  EXPECT_EQ(tokenizer_->add_eos(), facts.at("add_eos").get<bool>());
  EXPECT_EQ(tokenizer_->eog_ids(), facts.at("eog").get<std::vector<int32_t>>());
  std::vector<uint32_t> want(tokenizer_->vocab_size(), kAttrNormal);
  for (const json& pair : facts.at("attrs")) want[pair[0].get<int32_t>()] = pair[1].get<uint32_t>();
  int mismatches = 0;
  for (int32_t id = 0; id < tokenizer_->vocab_size(); ++id) {
    if (tokenizer_->vocab().attr(id) != want[id] && ++mismatches <= 10) {
      ADD_FAILURE() << "token " << id << " '" << Escaped(tokenizer_->vocab().text(id)) << "': attr "
                    << tokenizer_->vocab().attr(id) << ", llama.cpp " << want[id];
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_P(TokenizerGoldenTest, PiecesMatchLlamaCpp) {
  const json& pieces = golden_.at("pieces");
  const auto ids = pieces.at("ids").get<std::vector<int32_t>>();
  const auto plain_empty = pieces.at("plain_empty").get<std::vector<int32_t>>();
  int mismatches = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string want = GoldenText(pieces.at("special")[i]);
    ASSERT_OK_AND_ASSIGN(std::string_view piece, tokenizer_->TokenToPiece(ids[i], true));
    ASSERT_OK_AND_ASSIGN(std::string_view plain, tokenizer_->TokenToPiece(ids[i], false));
    const bool empty = std::binary_search(plain_empty.begin(), plain_empty.end(), ids[i]);
    if ((piece != want || plain != (empty ? "" : want)) && ++mismatches <= 10) {
      ADD_FAILURE() << "token " << ids[i] << ": piece '" << Escaped(piece) << "', llama.cpp '"
                    << Escaped(want) << "'" << (empty ? " (empty without special)" : "");
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << ids.size() << " pieces";
}

TEST_P(TokenizerGoldenTest, EncodeMatchesLlamaCpp) {
  const std::pair<std::string, EncodeOptions> keys[] = {
      {"TF", {.add_special = true, .parse_special = false}},
      {"TT", {.add_special = true, .parse_special = true}},
      {"FF", {.add_special = false, .parse_special = false}},
  };
  for (const auto& [key, options] : keys) {
    const json& expected = golden_.at("encode").at(key);
    ASSERT_EQ(expected.size(), corpus_.size());
    int passed = 0;
    for (size_t i = 0; i < corpus_.size(); ++i) {
      const std::vector<int32_t> ids = tokenizer_->Encode(corpus_[i], options);
      const auto want = expected[i].get<std::vector<int32_t>>();
      if (ids == want) {
        ++passed;
      } else {
        ADD_FAILURE() << GetParam().name << " encode " << key << " entry " << i << " '"
                      << Escaped(corpus_[i]) << "'\n  shoal:     " << IdsText(ids)
                      << "\n  llama.cpp: " << IdsText(want);
      }
    }
    std::cout << GetParam().name << " encode " << key << ": " << passed << "/" << corpus_.size()
              << " match\n";
  }
}

TEST_P(TokenizerGoldenTest, DecodeMatchesLlamaCpp) {
  struct DecodeCase {
    std::string name;
    std::string encode_key;
    DecodeOptions options;
  };
  const DecodeCase cases[] = {
      {"TF/TF", "TF", {.remove_special = true, .unparse_special = false}},
      {"TT/FT", "TT", {.remove_special = false, .unparse_special = true}},
      {"TT/TF", "TT", {.remove_special = true, .unparse_special = false}},
      {"FF/FF", "FF", {.remove_special = false, .unparse_special = false}},
  };
  for (const DecodeCase& c : cases) {
    const json& ids = golden_.at("encode").at(c.encode_key);
    const json& expected = golden_.at("decode").at(c.name);
    int passed = 0;
    for (size_t i = 0; i < corpus_.size(); ++i) {
      ASSERT_OK_AND_ASSIGN(std::string text,
                           tokenizer_->Decode(ids[i].get<std::vector<int32_t>>(), c.options));
      const std::string want = GoldenText(expected[i]);
      if (text == want) {
        ++passed;
      } else {
        ADD_FAILURE() << GetParam().name << " decode " << c.name << " entry " << i
                      << "\n  shoal:     '" << Escaped(text) << "'\n  llama.cpp: '" << Escaped(want)
                      << "'";
      }
    }
    std::cout << GetParam().name << " decode " << c.name << ": " << passed << "/" << corpus_.size()
              << " match\n";
  }
}

TEST_P(TokenizerGoldenTest, RoundTripsWhereLlamaCppDoes) {
  const EncodeOptions encode{.add_special = true, .parse_special = false};
  const DecodeOptions decode{.remove_special = true, .unparse_special = false};
  const json& reference = golden_.at("decode").at("TF/TF");
  int round_trips = 0;
  for (size_t i = 0; i < corpus_.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(std::string text,
                         tokenizer_->Decode(tokenizer_->Encode(corpus_[i], encode), decode));
    const bool llama_round_trips = GoldenText(reference[i]) == corpus_[i];
    if (llama_round_trips) {
      ++round_trips;
      EXPECT_EQ(text, corpus_[i]) << "entry " << i;
    } else {
      std::cout << GetParam().name << ": entry " << i << " '" << Escaped(corpus_[i], 40)
                << "' does not round-trip in llama.cpp either\n";
    }
  }
  std::cout << GetParam().name << ": " << round_trips << "/" << corpus_.size()
            << " entries round-trip\n";
}

INSTANTIATE_TEST_SUITE_P(
    Vocabularies, TokenizerGoldenTest,
    ::testing::Values(VocabCase{"spm", false}, VocabCase{"bpe-llama-bpe", false},
                      VocabCase{"bpe-qwen2", false}, VocabCase{"bpe-gpt-2", false},
                      VocabCase{"bpe-default", false}, VocabCase{"gemma3", true}),
    [](const ::testing::TestParamInfo<VocabCase>& info) {
      std::string name = info.param.name;
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

}  // namespace
}  // namespace shoal::model
