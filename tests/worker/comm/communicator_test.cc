// The communicator interface (worker/comm/communicator.h): the single-worker
// implementation's semantics and argument checks, and NCCL at world size 1 where a GPU
// is present (skipped with the reason, so listed as not run, where it is not).
#include "worker/comm/communicator.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::worker {
namespace {

using ::shoal::testing::IsOk;
using ::shoal::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kTimeout = absl::Seconds(10);

TEST(SingleCommunicator, IsRankZeroOfOne) {
  auto comm = MakeSingleCommunicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->world_size(), 1);
}

TEST(SingleCommunicator, CollectivesGiveWhatWorldSizeOneMeans) {
  auto comm = MakeSingleCommunicator();
  std::vector<float> x = {1.5f, -2.0f, 3.25f};
  const std::vector<float> original = x;
  ASSERT_THAT(comm->AllReduce(x.data(), 3, CommDataType::kF32, ReduceOp::kSum, kTimeout), IsOk());
  EXPECT_EQ(x, original);
  ASSERT_THAT(comm->Broadcast(x.data(), 3, CommDataType::kF32, 0, kTimeout), IsOk());
  EXPECT_EQ(x, original);
  std::vector<float> gathered(3, 0.0f);
  ASSERT_THAT(comm->AllGather(x.data(), gathered.data(), 3, CommDataType::kF32, kTimeout), IsOk());
  EXPECT_EQ(gathered, original);
  std::vector<uint16_t> halves = {1, 2, 3, 4}, exchanged(4, 0);
  ASSERT_THAT(comm->AllToAll(halves.data(), exchanged.data(), 4, CommDataType::kF16, kTimeout), IsOk());
  EXPECT_EQ(exchanged, halves);
}

TEST(SingleCommunicator, RejectsBadArguments) {
  auto comm = MakeSingleCommunicator();
  std::vector<float> x(4);
  const auto invalid = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(comm->Broadcast(x.data(), 4, CommDataType::kF32, 1, kTimeout),
              StatusIs(invalid, HasSubstr("root 1")));
  EXPECT_THAT(comm->AllReduce(x.data(), -1, CommDataType::kF32, ReduceOp::kMax, kTimeout),
              StatusIs(invalid, HasSubstr("count -1")));
  EXPECT_THAT(comm->AllGather(nullptr, x.data(), 4, CommDataType::kF32, kTimeout),
              StatusIs(invalid, HasSubstr("null buffer")));
  EXPECT_THAT(comm->AllToAll(nullptr, nullptr, 0, CommDataType::kI32, kTimeout), IsOk());
}

TEST(NcclCommunicator, RefusesBadRanksBeforeTouchingADevice) {
  NcclId id{std::string(128, '\0')};
  EXPECT_FALSE(MakeNcclCommunicator(id, 2, 2, 0, kTimeout).ok());
  EXPECT_FALSE(MakeNcclCommunicator(id, 0, 0, 0, kTimeout).ok());
}

TEST(NcclCommunicator, WorldSizeOneCollectivesOnTheGpu) {
  const absl::Status status = CheckNcclWorldOne(0, kTimeout);
  if (absl::IsUnimplemented(status) || absl::IsUnavailable(status)) {
    GTEST_SKIP() << "not run: " << status.message();
  }
  EXPECT_THAT(status, IsOk());
}

}  // namespace
}  // namespace shoal::worker
