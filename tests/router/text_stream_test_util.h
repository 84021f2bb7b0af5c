// Helpers for the TextStream tests: the real tokenizers they run with, a driver that
// streams token ids and records each release, and token-piece arithmetic.
#ifndef SHOAL_TESTS_ROUTER_TEXT_STREAM_TEST_UTIL_H_
#define SHOAL_TESTS_ROUTER_TEXT_STREAM_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/model_file.h"
#include "model/tokenizer/tokenizer.h"
#include "router/text_stream.h"
#include "tests/support/model_files.h"

namespace shoal::router {

// "gemma3": the real Gemma 3 270M; "llama-bpe": the generated llama test model (its
// vocabulary is tests/data/vocab_bpe.json, byte-level BPE). Opened once per process;
// nullptr (after a test failure) when the file cannot be opened.
inline const model::Tokenizer* TestTokenizer(const std::string& name) {
  static auto* files = new std::map<std::string, std::unique_ptr<model::ModelFile>>();
  auto it = files->find(name);
  if (it == files->end()) {
    const std::string path = name == "gemma3" ? ::shoal::testing::Gemma3Path()
                                              : ::shoal::testing::TestModelPath("llama", "q8_0");
    auto file = model::ModelFile::Open(path);
    if (!file.ok()) {
      ADD_FAILURE() << "cannot open " << path << ": " << file.status();
      return nullptr;
    }
    it = files->emplace(name, *std::move(file)).first;
  }
  return &it->second->tokenizer();
}

struct Streamed {
  std::vector<std::string> chunks;  // what each Append released, up to the stop
  std::string finish;               // what Finish released
  std::string text;                 // all of it
  bool stopped = false;
  std::string matched;
  int num_tokens = 0;
};

// Appends `ids` until the stream stops, then calls Finish.
inline Streamed StreamTokens(const model::Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                             TextStreamOptions options) {
  TextStream stream(tokenizer, std::move(options));
  Streamed result;
  for (int32_t id : ids) {
    std::string chunk;
    const bool stopped = stream.Append(id, &chunk);
    result.chunks.push_back(chunk);
    result.text += chunk;
    EXPECT_EQ(stopped, stream.stopped());
    if (stopped) break;
  }
  stream.Finish(&result.finish);
  result.text += result.finish;
  result.stopped = stream.stopped();
  result.matched = stream.matched_stop();
  result.num_tokens = stream.num_tokens();
  return result;
}

inline std::string Piece(const model::Tokenizer& tokenizer, int32_t id, bool special) {
  auto piece = tokenizer.TokenToPiece(id, special);
  EXPECT_TRUE(piece.ok()) << id;
  return piece.ok() ? std::string(piece->data(), piece->size()) : std::string();
}

// ends[i]: the bytes of the pieces of ids[0..i].
inline std::vector<size_t> PieceEnds(const model::Tokenizer& tokenizer,
                                     const std::vector<int32_t>& ids) {
  std::vector<size_t> ends;
  size_t end = 0;
  for (int32_t id : ids) ends.push_back(end += Piece(tokenizer, id, false).size());
  return ends;
}

// How many tokens it takes for the pieces to reach `bytes` bytes.
inline int TokensToReach(const std::vector<size_t>& ends, size_t bytes) {
  for (size_t i = 0; i < ends.size(); ++i) {
    if (ends[i] >= bytes) return static_cast<int>(i + 1);
  }
  ADD_FAILURE() << "the pieces never reach " << bytes << " bytes";
  return static_cast<int>(ends.size());
}

// The first `count` chunks concatenated.
inline std::string Concat(const std::vector<std::string>& chunks, int count) {
  std::string out;
  for (int i = 0; i < count && i < static_cast<int>(chunks.size()); ++i) out += chunks[i];
  return out;
}

// A token whose piece is exactly the byte `byte` (a byte-fallback or byte-level token).
inline int32_t ByteToken(const model::Tokenizer& tokenizer, uint8_t byte) {
  static auto* cache = new std::map<std::pair<const model::Tokenizer*, uint8_t>, int32_t>();
  const auto key = std::make_pair(&tokenizer, byte);
  if (auto it = cache->find(key); it != cache->end()) return it->second;
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    auto piece = tokenizer.TokenToPiece(id, false);
    if (piece.ok() && piece->size() == 1 && static_cast<uint8_t>((*piece)[0]) == byte) {
      cache->emplace(key, id);
      return id;
    }
  }
  ADD_FAILURE() << "no token for byte " << static_cast<int>(byte);
  return 0;
}

}  // namespace shoal::router

#endif  // SHOAL_TESTS_ROUTER_TEXT_STREAM_TEST_UTIL_H_
