// One forward pass's input (DESIGN.md's StepRequest, as the worker sees it): the new
// tokens of several sequences back to back — prefill chunks and single decode tokens
// mixed — each sequence with its start position and KV block table.
#ifndef SHOAL_WORKER_FORWARD_FORWARD_BATCH_H_
#define SHOAL_WORKER_FORWARD_FORWARD_BATCH_H_

#include <cstdint>
#include <span>
#include <vector>

namespace shoal::worker {

enum class LogitsWanted {
  kNone,  // a prefill chunk that is not the prompt's last
  kLast,  // the next token after the chunk (decode, last prefill chunk)
  kAll,   // every position of the chunk (scoring, tests against references)
};

struct SequenceChunk {
  int64_t first_token = 0;  // index of the chunk's first token in ForwardBatch::tokens
  int64_t n_tokens = 0;
  // Position of the chunk's first token, i.e. how many of the sequence's tokens the
  // KV cache already holds.
  int64_t start_position = 0;
  // The sequence's KV blocks in position order, covering [0, start_position + n_tokens).
  std::span<const int32_t> block_table;
  LogitsWanted logits = LogitsWanted::kLast;
};

struct ForwardBatch {
  std::span<const int32_t> tokens;
  std::vector<SequenceChunk> sequences;

  // Rows of logits the pass produces, in sequence order.
  int64_t num_logit_rows() const {
    int64_t rows = 0;
    for (const SequenceChunk& s : sequences) {
      rows += s.logits == LogitsWanted::kAll ? s.n_tokens : (s.logits == LogitsWanted::kLast);
    }
    return rows;
  }
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_FORWARD_FORWARD_BATCH_H_
