// Shoal's GGUF reader against the `gguf` Python package (gguf-py, llama.cpp's own
// reader/writer): for every generated model and the real Gemma 3 270M file, every
// metadata key (name, type, value) and every tensor (name, type, shape, offset, size,
// SHA-256 of its bytes) must match what gguf-py read (tests/data_gen/gguf_dumps.py).
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/gguf/gguf_file.h"
#include "nlohmann/json.hpp"
#include "tests/support/sha256.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::testing::Sha256Hex;

using json = nlohmann::json;

// The dump's JSON form of a string: text, or {"hex": ...} when not valid UTF-8.
bool StringMatches(std::string_view actual, const json& expected) {
  if (expected.is_string()) return actual == expected.get<std::string>();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : actual) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return hex == expected.at("hex").get<std::string>();
}

// Compares one scalar with gguf-py's value: integers and bools exactly; floats as
// the exact double of the stored float32/float64.
bool ScalarMatches(const GgufScalar& actual, const json& expected) {
  if (const auto* text = std::get_if<std::string_view>(&actual)) {
    return StringMatches(*text, expected);
  }
  if (const bool* flag = std::get_if<bool>(&actual))
    return expected.is_boolean() && *flag == expected.get<bool>();
  if (std::optional<double> number = GgufValue::ScalarAsFloat(actual)) {
    return expected.is_number() && *number == expected.get<double>();
  }
  if (std::holds_alternative<uint64_t>(actual)) {
    return expected.is_number_unsigned() && std::get<uint64_t>(actual) == expected.get<uint64_t>();
  }
  std::optional<int64_t> integer = GgufValue::ScalarAsInt(actual);
  return integer && expected.is_number_integer() && *integer == expected.get<int64_t>();
}

void ExpectFileMatchesDump(const std::filesystem::path& dump_path) {
  std::ifstream in(dump_path);
  const json dump = json::parse(in);
  const std::string path = dump.at("file");
  SCOPED_TRACE(path);
  ASSERT_OK_AND_ASSIGN(auto file, GgufFile::Open(path));
  EXPECT_EQ(file->version(), dump.at("version").get<uint32_t>());
  EXPECT_EQ(file->alignment(), dump.at("alignment").get<uint64_t>());
  EXPECT_EQ(file->data_offset(), dump.at("data_offset").get<uint64_t>());

  const json& metadata = dump.at("metadata");
  ASSERT_EQ(file->metadata().size(), metadata.size());
  for (size_t i = 0; i < metadata.size(); ++i) {
    const GgufKeyValue& kv = file->metadata()[i];
    const json& expected = metadata[i];
    SCOPED_TRACE(expected.at("key").get<std::string>());
    EXPECT_EQ(kv.key, expected.at("key").get<std::string>());
    EXPECT_EQ(GgufValueTypeName(kv.value.type()), expected.at("type").get<std::string>());
    if (!kv.value.is_array()) {
      EXPECT_TRUE(ScalarMatches(kv.value.scalar(), expected.at("value")))
          << "value differs: gguf-py read " << expected.at("value").dump();
      continue;
    }
    EXPECT_EQ(GgufValueTypeName(kv.value.element_type()),
              expected.at("element_type").get<std::string>());
    const json& elements = expected.at("value");
    ASSERT_EQ(kv.value.elements().size(), elements.size());
    for (size_t j = 0; j < elements.size(); ++j) {
      ASSERT_TRUE(ScalarMatches(kv.value.elements()[j], elements[j]))
          << "element " << j << " differs: gguf-py read " << elements[j].dump();
    }
  }

  const json& tensors = dump.at("tensors");
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& tensor = file->tensors()[i];
    const json& expected = tensors[i];
    SCOPED_TRACE(expected.at("name").get<std::string>());
    EXPECT_EQ(tensor.name, expected.at("name").get<std::string>());
    EXPECT_EQ(GgmlTypeName(tensor.type), expected.at("type").get<std::string>());
    const auto shape = expected.at("shape").get<std::vector<int64_t>>();
    ASSERT_EQ(tensor.n_dims, static_cast<int>(shape.size()));
    for (size_t d = 0; d < shape.size(); ++d) EXPECT_EQ(tensor.ne[d], shape[d]);
    EXPECT_EQ(tensor.offset, expected.at("offset").get<uint64_t>());
    EXPECT_EQ(tensor.data.size(), expected.at("nbytes").get<uint64_t>());
    EXPECT_EQ(Sha256Hex(tensor.data), expected.at("sha256").get<std::string>());
  }
}

TEST(GgufReferenceTest, EveryFileReadsAsGgufPyReadsIt) {
  const std::filesystem::path dump_dir = std::filesystem::path(SHOAL_TESTDATA_DIR) / "gguf_dumps";
  int files = 0;
  bool saw_gemma = false;
  for (const auto& entry : std::filesystem::directory_iterator(dump_dir)) {
    ExpectFileMatchesDump(entry.path());
    saw_gemma |= entry.path().filename().string().starts_with("gemma-3-270m");
    ++files;
  }
  EXPECT_TRUE(saw_gemma) << "the real Gemma 3 270M file was not among the dumps";
  EXPECT_GE(files, 5);
}

}  // namespace
}  // namespace shoal::model
