// Test doubles for the scheduler: a deterministic "model" whose next token is a hash of
// the whole token history, and a worker that stores token ids in a paged "KV cache"
// exactly where the block tables say and reads the history back from it to sample. A
// wrong block table, position or prefix-cache hit makes it read a different history
// and so sample different tokens than an uninterrupted run: the scheduler tests need
// no real model to check that tokens come out exactly right.
#ifndef SHOAL_TESTS_SCHEDULER_FAKE_WORKER_H_
#define SHOAL_TESTS_SCHEDULER_FAKE_WORKER_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "shoal/v1/worker.pb.h"

namespace shoal::scheduler::testing {

inline constexpr int32_t kFakeVocab = 1000;

// The fake model: the next token after `history`.
inline int32_t FakeNextToken(std::span<const int32_t> history) {
  uint64_t h = 1469598103934665603ull;
  for (int32_t t : history) h = (h ^ static_cast<uint64_t>(t)) * 1099511628211ull;
  return static_cast<int32_t>((h >> 17) % kFakeVocab);
}

// The tokens the fake model generates after `prompt`, stopping after a stop token or
// max_tokens tokens.
inline std::vector<int32_t> FakeGenerate(std::vector<int32_t> prompt, int64_t max_tokens,
                                         std::span<const int32_t> stop = {}) {
  std::vector<int32_t> out;
  while (static_cast<int64_t>(out.size()) < max_tokens) {
    const int32_t next = FakeNextToken(prompt);
    out.push_back(next);
    prompt.push_back(next);
    if (std::find(stop.begin(), stop.end(), next) != stop.end()) break;
  }
  return out;
}

class FakeWorker {
 public:
  FakeWorker(int64_t num_blocks, int64_t block_size)
      : block_size_(block_size), slots_(num_blocks * block_size, -1) {}

  // Runs one step like a worker would; the error text goes to error_message.
  v1::StepResult Step(const v1::StepRequest& request) {
    v1::StepResult result;
    result.set_step_id(request.step_id());
    ++steps_;
    for (uint64_t id : request.forget_sequence_ids()) sequences_.erase(id);
    for (const v1::NewSequence& n : request.new_sequences()) {
      if (!sequences_.try_emplace(n.sequence_id()).second) {
        return Fail(result, fmt::format("sequence {} is already known", n.sequence_id()));
      }
    }
    for (const v1::ScheduledSequence& s : request.sequences()) {
      auto it = sequences_.find(s.sequence_id());
      if (it == sequences_.end()) return Fail(result, "unknown sequence");
      std::vector<int32_t>& table = it->second;
      if (s.block_table_offset() > static_cast<int32_t>(table.size())) {
        return Fail(result, "block table offset past the table");
      }
      table.resize(s.block_table_offset());
      table.insert(table.end(), s.block_ids().begin(), s.block_ids().end());
      const int64_t end = s.position() + s.token_ids_size();
      if (static_cast<int64_t>(table.size()) * block_size_ < end) {
        return Fail(result, "block table too short");
      }
      for (int j = 0; j < s.token_ids_size(); ++j) slots_[Slot(table, s.position() + j)] = s.token_ids(j);
      tokens_computed_ += s.token_ids_size();
      if (!s.sample()) continue;
      std::vector<int32_t> history;
      for (int64_t p = 0; p < end; ++p) history.push_back(slots_[Slot(table, p)]);
      v1::SampledToken* t = result.add_tokens();
      t->set_sequence_id(s.sequence_id());
      t->set_token_id(FakeNextToken(history));
    }
    return result;
  }

  int64_t num_sequences() const { return static_cast<int64_t>(sequences_.size()); }
  int64_t tokens_computed() const { return tokens_computed_; }

 private:
  int64_t Slot(const std::vector<int32_t>& table, int64_t position) const {
    return int64_t{table[position / block_size_]} * block_size_ + position % block_size_;
  }
  static v1::StepResult& Fail(v1::StepResult& r, std::string message) {
    r.set_error_message(std::move(message));
    return r;
  }

  int64_t block_size_;
  std::vector<int32_t> slots_;
  absl::flat_hash_map<uint64_t, std::vector<int32_t>> sequences_;
  int64_t steps_ = 0;
  int64_t tokens_computed_ = 0;
};

}  // namespace shoal::scheduler::testing

#endif  // SHOAL_TESTS_SCHEDULER_FAKE_WORKER_H_
