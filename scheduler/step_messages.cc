#include "scheduler/step_messages.h"

#include "fmt/format.h"

namespace shoal::scheduler {

void BuildStepRequest(const SchedulerOutput& output, std::span<const uint64_t> forget,
                      uint64_t step_id, v1::StepRequest& step) {
  step.Clear();
  step.set_step_id(step_id);
  for (uint64_t id : forget) step.add_forget_sequence_ids(id);
  for (Request* r : output.preempted) {
    if (r->on_workers) step.add_forget_sequence_ids(r->sequence_id);
    r->on_workers = false;
    r->worker_block_count = 0;
  }
  for (const ScheduledRequest& s : output.scheduled) {
    Request* r = s.request;
    if (!r->on_workers) {
      v1::NewSequence* n = step.add_new_sequences();
      n->set_sequence_id(r->sequence_id);
      *n->mutable_sampling() = r->sampling;
      n->mutable_prompt_token_ids()->Add(r->prompt_token_ids.begin(), r->prompt_token_ids.end());
      n->mutable_output_token_ids()->Add(r->output_token_ids.begin(), r->output_token_ids.end());
      r->on_workers = true;
      r->worker_block_count = 0;
    }
    v1::ScheduledSequence* seq = step.add_sequences();
    seq->set_sequence_id(r->sequence_id);
    const auto begin = r->all_token_ids.begin() + r->num_computed_tokens;
    seq->mutable_token_ids()->Add(begin, begin + s.num_new_tokens);
    seq->set_position(static_cast<int32_t>(r->num_computed_tokens));
    seq->set_block_table_offset(static_cast<int32_t>(r->worker_block_count));
    seq->mutable_block_ids()->Add(r->block_ids.begin() + r->worker_block_count, r->block_ids.end());
    r->worker_block_count = static_cast<int64_t>(r->block_ids.size());
    seq->set_sample(s.sample);
  }
}

absl::Status CollectSampledTokens(const SchedulerOutput& output, const v1::StepResult& result,
                                  std::vector<int32_t>& tokens) {
  tokens.clear();
  int i = 0;
  for (const ScheduledRequest& s : output.scheduled) {
    if (!s.sample) continue;
    if (i >= result.tokens_size() || result.tokens(i).sequence_id() != s.request->sequence_id) {
      return absl::InternalError(fmt::format(
          "step {}: the worker's sampled tokens do not match the scheduled sequences",
          result.step_id()));
    }
    const v1::SampledToken& token = result.tokens(i++);
    if (token.error_message().empty()) {
      tokens.push_back(token.token_id());
    } else {
      tokens.push_back(kSampleFailed);
      s.request->error_message = token.error_message();
    }
  }
  if (i != result.tokens_size()) {
    return absl::InternalError(
        fmt::format("step {}: the worker sampled {} tokens, {} were asked for", result.step_id(),
                    result.tokens_size(), i));
  }
  return absl::OkStatus();
}

}  // namespace shoal::scheduler
