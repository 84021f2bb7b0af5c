// The router's fair queue in virtual time: a simulated server admits one request at a
// time and charges its output as if it had streamed, so shares are exact and the test
// deterministic.
#include "router/fair_queue.h"

#include <map>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shoal::router {
namespace {

bool Always(const std::string&) { return true; }

struct Simulation {
  FairQueue queue;
  uint64_t next_id = 1;
  std::map<std::string, double> service;  // prompt + 2 x output tokens received
  std::map<std::string, int> admitted;

  uint64_t Push(const std::string& tenant, double weight, int64_t prompt, int32_t priority = 0) {
    const uint64_t id = next_id++;
    EXPECT_TRUE(queue.Push({.id = id,
                            .tenant = tenant,
                            .weight = weight,
                            .priority = priority,
                            .prompt_tokens = prompt}));
    return id;
  }
  // Admits the next request and serves it whole: twice its prompt in output tokens.
  FairQueue::Entry Serve() {
    std::optional<FairQueue::Entry> entry = queue.Pop(Always);
    EXPECT_TRUE(entry.has_value());
    if (!entry) return {};
    const int64_t output = 2 * entry->prompt_tokens;
    queue.ChargeOutput(entry->tenant, entry->weight, output);
    service[entry->tenant] += static_cast<double>(entry->prompt_tokens + 2 * output);
    ++admitted[entry->tenant];
    return *entry;
  }
  // Serves `n` requests, each tenant pushing a like one back (both stay backlogged).
  void ServeBacklogged(int n) {
    for (int i = 0; i < n; ++i) {
      const FairQueue::Entry served = Serve();
      Push(served.tenant, served.weight, served.prompt_tokens, served.priority);
    }
  }
};

TEST(FairQueueTest, BackloggedTenantsShareTokensByWeight) {
  Simulation sim;
  for (int i = 0; i < 4; ++i) {
    sim.Push("a", 1, 100);
    sim.Push("b", 3, 100);
  }
  sim.ServeBacklogged(2000);
  EXPECT_NEAR(sim.service["b"] / sim.service["a"], 3.0, 3.0 * 0.02);
}

TEST(FairQueueTest, SharesAreCountedInTokensNotRequests) {
  // Equal weights; b's requests are four times as long. Request counting would give b
  // four times a's tokens.
  Simulation sim;
  for (int i = 0; i < 4; ++i) {
    sim.Push("a", 1, 50);
    sim.Push("b", 1, 200);
  }
  sim.ServeBacklogged(2000);
  EXPECT_NEAR(sim.service["b"] / sim.service["a"], 1.0, 0.02);
  EXPECT_NEAR(static_cast<double>(sim.admitted["a"]) / sim.admitted["b"], 4.0, 0.1);
}

TEST(FairQueueTest, ATrickleTenantWaitsForAtMostOneAdmissionWhileAnotherFloods) {
  Simulation sim;
  for (int i = 0; i < 300; ++i) sim.Push("flood", 1, 100);
  int worst_wait = 0;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 9; ++i) sim.Serve();  // the flood alone
    sim.Push("trickle", 1, 100);
    int waited = 0;
    while (sim.Serve().tenant != "trickle") ++waited;
    worst_wait = std::max(worst_wait, waited);
  }
  EXPECT_LE(worst_wait, 1);
}

TEST(FairQueueTest, IdleTimeEarnsNoCredit) {
  Simulation sim;
  for (int i = 0; i < 100; ++i) sim.Push("early", 1, 100);
  for (int i = 0; i < 50; ++i) sim.Serve();  // early alone builds up a counter
  for (int i = 0; i < 50; ++i) sim.Push("late", 1, 100);
  for (int i = 0; i < 20; ++i) sim.Serve();
  // Lifted to early's counter, late alternates with it instead of taking all 20.
  EXPECT_GE(sim.admitted["late"], 9);
  EXPECT_LE(sim.admitted["late"], 11);
}

TEST(FairQueueTest, AMoreUrgentPriorityGoesFirst) {
  Simulation sim;
  for (int i = 0; i < 5; ++i) sim.Push("a", 1, 10);
  for (int i = 0; i < 5; ++i) sim.Push("b", 1, 1000);
  sim.ServeBacklogged(6);  // b's counter is now far above a's
  sim.Push("b", 1, 1000, /*priority=*/-1);
  EXPECT_EQ(sim.Serve().priority, -1);
  // Within a tenant too: the urgent one before older ones.
  sim.Push("a", 1, 10, /*priority=*/-2);
  const FairQueue::Entry next = sim.Serve();
  EXPECT_EQ(next.tenant, "a");
  EXPECT_EQ(next.priority, -2);
}

TEST(FairQueueTest, ATenantAtItsLimitIsPassedOverNotBlocking) {
  FairQueue queue;
  queue.Push({.id = 1, .tenant = "busy", .prompt_tokens = 1});
  queue.Push({.id = 2, .tenant = "free", .prompt_tokens = 1});
  const auto not_busy = [](const std::string& tenant) { return tenant != "busy"; };
  std::optional<FairQueue::Entry> entry = queue.Pop(not_busy);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->id, 2u);
  EXPECT_FALSE(queue.Pop(not_busy).has_value());
  EXPECT_EQ(queue.waiting("busy"), 1u);
  EXPECT_EQ(queue.Pop(Always)->id, 1u);
  EXPECT_TRUE(queue.empty());
}

TEST(FairQueueTest, RemoveAndDuplicateIds) {
  FairQueue queue;
  EXPECT_TRUE(queue.Push({.id = 7, .tenant = "a", .prompt_tokens = 1}));
  EXPECT_FALSE(queue.Push({.id = 7, .tenant = "b", .prompt_tokens = 1}));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_TRUE(queue.Remove(7));
  EXPECT_FALSE(queue.Remove(7));
  EXPECT_FALSE(queue.Pop(Always).has_value());
}

TEST(FairQueueTest, CompactForgetsOnlyTenantsThatWouldBeLiftedAnyway) {
  Simulation sim;
  sim.Push("gone", 1, 10);
  for (int i = 0; i < 4; ++i) sim.Push("stays", 1, 10);
  for (int i = 0; i < 4; ++i) sim.Serve();  // gone once, then stays past gone's counter
  ASSERT_EQ(sim.queue.num_tenants(), 2u);
  sim.queue.Compact();
  EXPECT_EQ(sim.queue.num_tenants(), 1u);
  EXPECT_EQ(sim.queue.counter("gone"), 0);
  EXPECT_EQ(sim.queue.waiting("stays"), 1u);
  // Back again, it is lifted to the backlogged tenant's counter as it would have been.
  sim.Push("gone", 1, 10);
  EXPECT_EQ(sim.queue.counter("gone"), sim.queue.counter("stays"));
}

}  // namespace
}  // namespace shoal::router
