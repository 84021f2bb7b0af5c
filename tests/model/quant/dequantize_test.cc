// Reference dequantization against the `gguf` Python package's dequantize (a second
// implementation of ggml's formulas, not written here): every element must be equal,
// for realistic blocks and for random bit patterns (tests/data_gen/quant_cases.py).
#include "model/quant/dequantize.h"

#include <bit>
#include <cmath>
#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/gguf/gguf_file.h"
#include "tests/support/status_matchers.h"

namespace shoal::model {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

std::string QuantCasesPath() {
  return (std::filesystem::path(SHOAL_TESTDATA_DIR) / "quant_cases.gguf").string();
}

TEST(DequantizeTest, MatchesGgufPyForEveryType) {
  ASSERT_OK_AND_ASSIGN(auto file, GgufFile::Open(QuantCasesPath()));
  int cases = 0;
  for (const GgufTensorInfo& tensor : file->tensors()) {
    if (std::string_view(tensor.name).ends_with(".expected")) continue;
    SCOPED_TRACE(std::string(tensor.name));
    const GgufTensorInfo* expected_tensor =
        file->FindTensor(std::string(tensor.name) + ".expected");
    ASSERT_NE(expected_tensor, nullptr);
    ASSERT_OK_AND_ASSIGN(std::vector<float> actual, DequantizeTensor(tensor));
    ASSERT_OK_AND_ASSIGN(std::vector<float> expected, DequantizeTensor(*expected_tensor));
    ASSERT_EQ(actual.size(), expected.size());
    int mismatches = 0;
    for (size_t i = 0; i < actual.size(); ++i) {
      // Bitwise equality (NaN-safe); -0.0 vs 0.0 would also count as a difference.
      if (std::bit_cast<uint32_t>(actual[i]) != std::bit_cast<uint32_t>(expected[i]) &&
          mismatches++ < 5) {
        ADD_FAILURE() << "element " << i << ": shoal " << actual[i] << ", gguf-py " << expected[i];
      }
    }
    EXPECT_EQ(mismatches, 0);
    ++cases;
  }
  EXPECT_EQ(cases, 22);  // 11 types x {realistic, random}
}

TEST(DequantizeTest, RejectsWrongSizesAndUnsupportedTypes) {
  std::vector<uint8_t> src(34);
  std::vector<float> dst(32);
  EXPECT_OK(Dequantize(GgmlType::kQ8_0, src, dst));
  std::vector<float> partial(31);
  EXPECT_THAT(
      Dequantize(GgmlType::kQ8_0, src, partial),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("whole number of Q8_0 blocks")));
  EXPECT_THAT(Dequantize(GgmlType::kQ8_0, std::span(src).first(33), dst),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("need 34 bytes, got 33")));
  EXPECT_THAT(Dequantize(GgmlType::kIQ2_XXS, src, dst),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("IQ2_XXS is not supported")));
}

}  // namespace
}  // namespace shoal::model
