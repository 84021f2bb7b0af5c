#include "worker/forward/batch_validation.h"

#include <string>

#include "fmt/format.h"

namespace shoal::worker {

absl::Status ValidateForwardBatch(const model::ModelConfig& config, const ForwardBatch& batch,
                                  int64_t kv_block_size, int64_t num_kv_blocks,
                                  int64_t logits_size) {
  const auto invalid = [](std::string message) { return absl::InvalidArgumentError(message); };
  for (int32_t token : batch.tokens) {
    if (token < 0 || token >= config.n_vocab) {
      return invalid(
          fmt::format("token id {} is outside the vocabulary [0, {})", token, config.n_vocab));
    }
  }
  int64_t next_token = 0;
  for (const SequenceChunk& s : batch.sequences) {
    if (s.first_token != next_token || s.n_tokens < 1 ||
        s.first_token + s.n_tokens > static_cast<int64_t>(batch.tokens.size())) {
      return invalid("sequence chunks must cover the batch's tokens in order, each non-empty");
    }
    next_token += s.n_tokens;
    const int64_t end = s.start_position + s.n_tokens;
    if (s.start_position < 0 || end > config.context_length) {
      return invalid(fmt::format("positions [{}, {}) exceed the model's context length {}",
                                 s.start_position, end, config.context_length));
    }
    const int64_t blocks_needed = (end + kv_block_size - 1) / kv_block_size;
    if (static_cast<int64_t>(s.block_table.size()) < blocks_needed) {
      return invalid(fmt::format("a block table of {} blocks cannot hold {} positions",
                                 s.block_table.size(), end));
    }
    for (int64_t b = 0; b < blocks_needed; ++b) {
      if (s.block_table[b] < 0 || s.block_table[b] >= num_kv_blocks) {
        return invalid(
            fmt::format("KV block id {} is outside [0, {})", s.block_table[b], num_kv_blocks));
      }
    }
  }
  if (next_token != static_cast<int64_t>(batch.tokens.size())) {
    return invalid("sequence chunks must cover every token of the batch");
  }
  const int64_t rows = batch.num_logit_rows();
  if (logits_size != rows * config.n_vocab) {
    return invalid(fmt::format("logits buffer holds {} floats, the batch needs {}", logits_size,
                               rows * config.n_vocab));
  }
  return absl::OkStatus();
}

}  // namespace shoal::worker
