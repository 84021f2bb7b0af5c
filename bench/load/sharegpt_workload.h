// The ShareGPT workload of `shoal bench`, as vLLM's ShareGPT dataset samples it: real
// prompts with the lengths real answers had. The file is a JSON array, or JSON lines,
// of entries {"conversations": [{"from": "human", "value": TEXT}, {"from": "gpt",
// "value": TEXT}, ...], ...} (ShareGPT_V3_unfiltered_cleaned_split.json). Of each entry
// the first human turn ("human" or "user") that a gpt turn ("gpt", "assistant",
// "chatgpt" or "bing") follows is the prompt, and that answer's token count is the
// request's output length. Entries without such a pair are skipped; so, as vLLM
// filters, are prompts shorter than 4 tokens or longer than max_prompt_len.
#ifndef SHOAL_BENCH_LOAD_SHAREGPT_WORKLOAD_H_
#define SHOAL_BENCH_LOAD_SHAREGPT_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/load/request_record.h"
#include "model/tokenizer/tokenizer.h"

namespace shoal::bench {

struct ShareGptOptions {
  int64_t num_requests = 0;       // 0: every entry that passes the filters
  uint64_t seed = 0;              // the order of the entries (shuffled)
  int32_t max_prompt_len = 1024;  // tokens, BOS included
  int32_t max_output_len = 2048;  // the answers' lengths are clamped to [1, this]
  bool ignore_eos = true;         // exact output lengths where the target supports them
  absl::Status Validate() const;
};

// The entries, shuffled by the seed, then the first num_requests that pass the filters.
// Each spec has the prompt as `prompt_text`, one user message and its tokenization (with
// the tokenizer's BOS) as `prompt_token_ids`; prompt_tokens is their count and
// max_tokens the answer's length. Errors: NotFound for a missing file, InvalidArgument
// for a file that is not JSON of that shape (with where), FailedPrecondition when fewer
// entries than num_requests pass the filters (or none does).
absl::StatusOr<std::vector<RequestSpec>> LoadShareGptWorkload(const model::Tokenizer& tokenizer,
                                                              const std::string& path,
                                                              const ShareGptOptions& options);

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_SHAREGPT_WORKLOAD_H_
