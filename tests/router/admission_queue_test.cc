#include "router/admission_queue.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace shoal::router {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::shared_ptr<const TenantPolicy> Tenant(std::string name, int64_t max_concurrent = 0,
                                           int64_t max_queued = 64, double weight = 1) {
  return std::make_shared<const TenantPolicy>(TenantPolicy{.name = std::move(name),
                                                           .weight = weight,
                                                           .max_concurrent = max_concurrent,
                                                           .max_queued = max_queued});
}

// Records the order requests start in and keeps their slots until told to end them.
// Declared after the queue: its slots end (starting what waits) before the queue goes.
struct Recorder {
  std::vector<std::string> started;
  std::deque<AdmissionSlot> slots;
  bool closing = false;
  AdmissionQueue::Start Start(std::string label) {
    return [this, label](AdmissionSlot slot) {
      if (closing) return;  // the slot ends here, starting the next one
      started.push_back(label);
      slots.push_back(std::move(slot));
    };
  }
  ~Recorder() {
    closing = true;
    while (!slots.empty()) {
      AdmissionSlot slot = std::move(slots.front());
      slots.pop_front();
    }
  }
};

TEST(AdmissionQueueTest, StartsAtOnceWhenThereIsRoom) {
  AdmissionQueue queue([] { return int64_t{1} << 30; });
  Recorder r;
  ASSERT_OK_AND_ASSIGN(const uint64_t ticket, queue.Enter(Tenant("a"), 0, 10, r.Start("one")));
  EXPECT_EQ(ticket, 0u);
  EXPECT_THAT(r.started, ElementsAre("one"));
  EXPECT_TRUE(r.slots[0].held());
  EXPECT_EQ(queue.inflight("a"), 1);
  r.slots[0].End();
  EXPECT_EQ(queue.inflight("a"), 0);
}

TEST(AdmissionQueueTest, WaitsForItsTenantsSlotAndStartsWhenOneEnds) {
  AdmissionQueue queue([] { return int64_t{1} << 30; });
  Recorder r;
  const auto a = Tenant("a", /*max_concurrent=*/1);
  ASSERT_OK_AND_ASSIGN(uint64_t first, queue.Enter(a, 0, 10, r.Start("first")));
  ASSERT_OK_AND_ASSIGN(uint64_t second, queue.Enter(a, 0, 10, r.Start("second")));
  EXPECT_EQ(first, 0u);
  EXPECT_GT(second, 0u);
  EXPECT_THAT(r.started, ElementsAre("first"));
  // Another tenant is not held up by a's limit.
  ASSERT_OK_AND_ASSIGN(uint64_t other, queue.Enter(Tenant("b"), 0, 10, r.Start("b")));
  EXPECT_EQ(other, 0u);
  r.slots[0].End();  // first ends: second starts, on this thread
  EXPECT_THAT(r.started, ElementsAre("first", "b", "second"));
  EXPECT_EQ(queue.waiting(), 0u);
}

TEST(AdmissionQueueTest, MaxQueuedBoundsTheWaitingAndZeroRefusesAtOnce) {
  AdmissionQueue queue([] { return int64_t{1} << 30; });
  Recorder r;
  const auto a = Tenant("a", /*max_concurrent=*/1, /*max_queued=*/1);
  ASSERT_TRUE(queue.Enter(a, 0, 1, r.Start("runs")).ok());
  ASSERT_TRUE(queue.Enter(a, 0, 1, r.Start("waits")).ok());
  const absl::StatusOr<uint64_t> refused = queue.Enter(a, 0, 1, r.Start("refused"));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("max_queued")));
  EXPECT_GE(RetryAfterSeconds(refused.status()), 1);
  EXPECT_EQ(queue.waiting("a"), 1u);

  const auto strict = Tenant("s", /*max_concurrent=*/1, /*max_queued=*/0);
  ASSERT_TRUE(queue.Enter(strict, 0, 1, r.Start("s1")).ok());
  EXPECT_THAT(queue.Enter(strict, 0, 1, r.Start("s2")),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  EXPECT_THAT(r.started, ElementsAre("runs", "s1"));
}

TEST(AdmissionQueueTest, ALeftRequestNeverStarts) {
  AdmissionQueue queue([] { return int64_t{1} << 30; });
  Recorder r;
  const auto a = Tenant("a", 1);
  ASSERT_TRUE(queue.Enter(a, 0, 1, r.Start("runs")).ok());
  ASSERT_OK_AND_ASSIGN(const uint64_t ticket, queue.Enter(a, 0, 1, r.Start("leaves")));
  EXPECT_TRUE(queue.Leave(ticket));
  EXPECT_FALSE(queue.Leave(ticket));
  r.slots[0].End();
  EXPECT_THAT(r.started, ElementsAre("runs"));
}

TEST(AdmissionQueueTest, CapacityQueuesEveryoneAndFreedRoomGoesFairly) {
  // The replicas take one request at a time: each runs alone, then the next by the fair
  // queue's order.
  AdmissionQueue queue([] { return int64_t{1}; });
  Recorder r;
  const auto heavy = Tenant("heavy", 0, 100, /*weight=*/3);
  const auto light = Tenant("light", 0, 100, /*weight=*/1);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(queue.Enter(heavy, 0, 100, r.Start("heavy")).ok());
    ASSERT_TRUE(queue.Enter(light, 0, 100, r.Start("light")).ok());
  }
  // Serve 16 in turn: each streams 100 output tokens and ends, freeing the room.
  for (int i = 0; i < 16; ++i) {
    ASSERT_EQ(queue.inflight(), 1);
    queue.ChargeOutput(r.started.back() == "heavy" ? *heavy : *light, 100);
    r.slots.back().End();
  }
  int heavy_count = 0;
  for (const std::string& tenant : r.started) heavy_count += tenant == "heavy";
  // 17 started in all: the weight-3 tenant about three quarters of them.
  EXPECT_EQ(r.started.size(), 17u);
  EXPECT_NEAR(heavy_count, 17 * 0.75, 1.5);
}

TEST(AdmissionQueueTest, PumpStartsWhatCapacityAllows) {
  int64_t capacity = 0;  // no replica ready yet
  AdmissionQueue queue([&] { return capacity; });
  Recorder r;
  ASSERT_OK_AND_ASSIGN(const uint64_t ticket, queue.Enter(Tenant("a"), 0, 1, r.Start("x")));
  EXPECT_GT(ticket, 0u);
  queue.Pump();
  EXPECT_TRUE(r.started.empty());
  capacity = 1;
  queue.Pump();
  EXPECT_THAT(r.started, ElementsAre("x"));
}

}  // namespace
}  // namespace shoal::router
