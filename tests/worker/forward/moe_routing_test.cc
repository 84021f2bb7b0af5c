// Grouping routed rows by expert (shared by the CPU decoder and the CUDA engine): every
// row lands exactly once, under its own expert, in increasing order; experts without
// rows get empty ranges.
#include "worker/forward/moe_routing.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace shoal::worker {
namespace {

TEST(GroupRowsByExpert, EachExpertGetsExactlyItsRowsInOrder) {
  std::mt19937 rng(5);
  for (int64_t n_expert : {1, 8, 128}) {
    for (int64_t n_rows : {0, 1, 37, 1000}) {
      SCOPED_TRACE(testing::Message() << n_expert << " experts, " << n_rows << " rows");
      std::uniform_int_distribution<int32_t> expert(0, static_cast<int32_t>(n_expert - 1));
      std::vector<int32_t> ids(n_rows);
      // Skewed: half the rows to expert 0, so some experts have none.
      for (int32_t& id : ids) id = rng() % 2 == 0 ? 0 : expert(rng);
      std::vector<int64_t> begin(n_expert + 1, -7), cursor(n_expert);
      std::vector<int32_t> rows(n_rows, -1);
      GroupRowsByExpert(ids, begin, cursor, rows);
      ASSERT_EQ(begin.front(), 0);
      ASSERT_EQ(begin.back(), n_rows);
      for (int64_t e = 0; e < n_expert; ++e) {
        std::vector<int32_t> want;
        for (int64_t r = 0; r < n_rows; ++r) {
          if (ids[r] == e) want.push_back(static_cast<int32_t>(r));
        }
        ASSERT_EQ(std::vector<int32_t>(rows.begin() + begin[e], rows.begin() + begin[e + 1]), want)
            << "expert " << e;
      }
    }
  }
}

}  // namespace
}  // namespace shoal::worker
