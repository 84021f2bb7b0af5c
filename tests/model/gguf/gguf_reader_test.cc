// Unit tests of the GGUF parser on hand-built files: what it reads, and the clear
// errors it gives for malformed input.
#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/gguf/gguf_file.h"
#include "tests/support/gguf_builder.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::testing::GgufBuilder;
using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint32_t kF32 = 0;
constexpr uint32_t kQ8_0 = 8;

absl::StatusOr<std::unique_ptr<GgufFile>> Parse(const GgufBuilder& builder) {
  return GgufFile::Parse(builder.bytes());
}

// A valid file: two metadata keys and two F32 tensors.
GgufBuilder ValidFile() {
  GgufBuilder b;
  b.Header(/*n_tensors=*/2, /*n_kv=*/2)
      .KeyString("general.architecture", "llama")
      .KeyU32("llama.block_count", 3)
      .TensorInfo("a", {4, 2}, kF32, 0)
      .TensorInfo("b", {3}, kF32, 32)
      .Align();
  for (int i = 0; i < 8; ++i) b.Put<float>(static_cast<float>(i));
  b.Put<float>(10).Put<float>(11).Put<float>(12);
  return b;
}

TEST(GgufReaderTest, ReadsMetadataAndTensors) {
  GgufBuilder builder = ValidFile();
  ASSERT_OK_AND_ASSIGN(auto file, Parse(builder));
  EXPECT_EQ(file->version(), 3u);
  ASSERT_EQ(file->metadata().size(), 2u);
  EXPECT_EQ(file->metadata()[0].key, "general.architecture");
  EXPECT_THAT(file->GetString("general.architecture"), ::shoal::testing::IsOk());
  EXPECT_EQ(*file->GetString("general.architecture"), "llama");
  EXPECT_EQ(*file->GetInt("llama.block_count"), 3);
  ASSERT_EQ(file->tensors().size(), 2u);
  const GgufTensorInfo* b = file->FindTensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->n_dims, 1);
  EXPECT_EQ(b->num_elements(), 3);
  ASSERT_EQ(b->data.size(), 12u);
  float first;
  std::memcpy(&first, b->data.data(), 4);
  EXPECT_EQ(first, 10.0f);
  EXPECT_EQ(file->data_offset() % 32, 0u);
}

TEST(GgufReaderTest, TypedGettersNameTheKey) {
  GgufBuilder builder = ValidFile();
  ASSERT_OK_AND_ASSIGN(auto file, Parse(builder));
  EXPECT_THAT(file->GetString("llama.block_count"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'llama.block_count' should be a string but is uint32")));
  EXPECT_THAT(file->GetInt("missing.key"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'missing.key' is missing")));
  EXPECT_EQ(*file->GetIntOr("missing.key", 7), 7);
  EXPECT_THAT(file->GetFloatOr("general.architecture", 1.0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("should be a float")));
}

TEST(GgufReaderTest, RejectsBadMagic) {
  GgufBuilder builder = ValidFile();
  builder.mutable_bytes()[0] = 'X';
  EXPECT_THAT(Parse(builder), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad magic")));
}

TEST(GgufReaderTest, RejectsUnsupportedVersions) {
  GgufBuilder v1;
  v1.Header(0, 0, /*version=*/1);
  EXPECT_THAT(Parse(v1), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("version 1")));
  GgufBuilder v4;
  v4.Header(0, 0, /*version=*/4);
  EXPECT_THAT(Parse(v4), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("version 4")));
  GgufBuilder swapped;
  swapped.Header(0, 0, /*version=*/3u << 24);
  EXPECT_THAT(Parse(swapped),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("big-endian")));
}

TEST(GgufReaderTest, EveryTruncationIsAnErrorNotACrash) {
  const std::vector<uint8_t> full = ValidFile().bytes();
  for (size_t size = 0; size < full.size(); ++size) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + size);
    EXPECT_FALSE(GgufFile::Parse(cut).ok()) << "truncated to " << size << " bytes";
  }
}

TEST(GgufReaderTest, RejectsAbsurdCounts) {
  GgufBuilder tensors;
  tensors.Header(/*n_tensors=*/int64_t{1} << 60, 0);
  EXPECT_THAT(Parse(tensors),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tensor count 1152921504606846976 is impossible")));
  GgufBuilder kvs;
  kvs.Header(0, /*n_kv=*/-1);
  EXPECT_THAT(Parse(kvs), StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("metadata count -1 is impossible")));
  GgufBuilder string_length;
  string_length.Header(0, 1).Put<uint64_t>(uint64_t{1} << 62).Zeros(16);
  EXPECT_THAT(Parse(string_length), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("claims 4611686018427387904 bytes")));
  GgufBuilder array_length;
  array_length.Header(0, 1).PutString("k").Put<uint32_t>(9).Put<uint32_t>(4).Put<uint64_t>(1u
                                                                                           << 30);
  EXPECT_THAT(Parse(array_length), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("claims 1073741824 elements")));
}

TEST(GgufReaderTest, RejectsBadValueTypes) {
  GgufBuilder unknown_type;
  unknown_type.Header(0, 1).PutString("k").Put<uint32_t>(13).Put<uint32_t>(0);
  EXPECT_THAT(Parse(unknown_type),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown value type 13")));
  GgufBuilder nested;
  nested.Header(0, 1).PutString("k").Put<uint32_t>(9).Put<uint32_t>(9).Put<uint64_t>(0);
  EXPECT_THAT(Parse(nested),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nests arrays")));
  GgufBuilder duplicate;
  duplicate.Header(0, 2).KeyU32("k", 1).KeyU32("k", 2);
  EXPECT_THAT(Parse(duplicate),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("appears twice")));
}

TEST(GgufReaderTest, ValidatesAlignment) {
  GgufBuilder wrong_type;
  wrong_type.Header(0, 1).KeyString("general.alignment", "32");
  EXPECT_THAT(Parse(wrong_type),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be uint32")));
  GgufBuilder not_power_of_two;
  not_power_of_two.Header(0, 1).KeyU32("general.alignment", 48);
  EXPECT_THAT(Parse(not_power_of_two),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("power of two")));
  GgufBuilder custom;
  custom.Header(1, 1)
      .KeyU32("general.alignment", 64)
      .TensorInfo("t", {2}, kF32, 0)
      .Align(64)
      .Zeros(8);
  ASSERT_OK_AND_ASSIGN(auto file, Parse(custom));
  EXPECT_EQ(file->alignment(), 64u);
  EXPECT_EQ(file->data_offset() % 64, 0u);
}

TEST(GgufReaderTest, RejectsBadTensorInfos) {
  auto with_tensor = [](std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
    GgufBuilder b;
    b.Header(1, 0).TensorInfo("t", std::move(ne), type, offset).Align().Zeros(64);
    return b;
  };
  EXPECT_THAT(Parse(with_tensor({1, 1, 1, 1, 1}, kF32, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("5 dimensions")));
  EXPECT_THAT(Parse(with_tensor({-4}, kF32, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("negative dimension")));
  EXPECT_THAT(Parse(with_tensor({int64_t{1} << 40, int64_t{1} << 40}, kF32, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too many elements")));
  EXPECT_THAT(Parse(with_tensor({4}, 77, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown tensor type 77")));
  EXPECT_THAT(Parse(with_tensor({4}, 4, 0)),  // id 4 was removed from ggml
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown tensor type 4")));
  EXPECT_THAT(Parse(with_tensor({48}, kQ8_0, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a multiple of its block size 32")));
  EXPECT_THAT(Parse(with_tensor({4}, kF32, 32)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected 0")));
  EXPECT_THAT(Parse(with_tensor({24}, kF32, 0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lies outside the file")));
  EXPECT_THAT(
      Parse(with_tensor({int64_t{1} << 30, int64_t{1} << 20}, kF32, 0)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("larger than the whole file")));

  GgufBuilder long_name;
  long_name.Header(1, 0).TensorInfo(std::string(64, 'x'), {4}, kF32, 0).Align().Zeros(16);
  EXPECT_THAT(Parse(long_name),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64-byte name")));
  GgufBuilder duplicate;
  duplicate.Header(2, 0)
      .TensorInfo("t", {8}, kF32, 0)
      .TensorInfo("t", {8}, kF32, 32)
      .Align()
      .Zeros(64);
  EXPECT_THAT(Parse(duplicate),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("appears twice")));
}

TEST(GgufReaderTest, OpenReportsMissingFileWithItsPath) {
  EXPECT_THAT(GgufFile::Open("/nonexistent/model.gguf"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/model.gguf")));
}

}  // namespace
}  // namespace shoal::model
