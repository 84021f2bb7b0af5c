// One generation request as the scheduler tracks it (vLLM v1's Request): its tokens,
// how many of them the KV cache holds (num_computed_tokens: the one number that makes
// chunked prefill, prefix hits and recompute after preemption the same mechanism), its
// KV blocks, and its place in the state machine
//   waiting → running → (preempted → waiting → running ...) → finished.
//
// Owned by the scheduler's step thread.
#ifndef SHOAL_SCHEDULER_REQUEST_H_
#define SHOAL_SCHEDULER_REQUEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "scheduler/block_hash.h"
#include "shoal/v1/inference.pb.h"

namespace shoal::scheduler {

enum class RequestStatus {
  kWaiting,
  kRunning,
  kPreempted,  // waiting again, to be recomputed
  kFinishedStopped,
  kFinishedLength,
  kFinishedCancelled,  // by the caller
  kFinishedAborted,    // by the server: drain, worker failure, a stalled stream
  kFinishedError,      // this request alone failed (e.g. its logits had no finite value)
};

inline bool IsFinished(RequestStatus s) { return s >= RequestStatus::kFinishedStopped; }
const char* RequestStatusName(RequestStatus s);

struct Request {
  std::string id;
  uint64_t sequence_id = 0;  // the workers' name for it, unique per scheduler
  std::vector<int32_t> prompt_token_ids;
  std::vector<int32_t> output_token_ids;
  std::vector<int32_t> all_token_ids;  // prompt then output
  v1::SamplingParams sampling;
  int32_t priority = 0;  // lower runs first and is preempted last
  std::string tenant;
  std::string cache_salt;
  // Stopping, resolved at admission: max new tokens, and ids that end generation.
  int64_t max_tokens = 0;
  std::vector<int32_t> stop_token_ids;

  RequestStatus status = RequestStatus::kWaiting;
  // Set with kFinishedStopped when a sampled token (EOS or a stop token id) ended it.
  bool stopped_on_token = false;
  // Why the workers could not continue this request (kFinishedError).
  std::string error_message;
  int64_t num_computed_tokens = 0;
  int32_t num_preemptions = 0;
  int64_t arrival_order = 0;  // admission tie-break: FIFO within a priority and tenant

  // KV blocks in position order; the first num_cached_blocks are in the prefix cache.
  std::vector<int32_t> block_ids;
  int64_t num_cached_blocks = 0;
  // Hashes of the full blocks of all_token_ids, extended as tokens arrive.
  std::vector<BlockHash> block_hashes;
  // Prompt tokens served from the prefix cache when it was first admitted.
  int64_t num_cached_prompt_tokens = 0;

  // What the workers know: whether they hold the sequence, and how many of block_ids.
  bool on_workers = false;
  int64_t worker_block_count = 0;

  // Engine clock (seconds): arrival, first scheduled, first token, latest token.
  double arrival_time = 0, first_scheduled_time = -1, first_token_time = -1,
         last_token_time = -1;

  int64_t num_tokens() const { return static_cast<int64_t>(all_token_ids.size()); }
  int64_t num_prompt_tokens() const { return static_cast<int64_t>(prompt_token_ids.size()); }
  int64_t num_output_tokens() const { return static_cast<int64_t>(output_token_ids.size()); }
  void AppendOutputToken(int32_t token) {
    output_token_ids.push_back(token);
    all_token_ids.push_back(token);
  }
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_REQUEST_H_
