// Between a step's plan and the workers (worker.proto): the StepRequest every rank gets
// for a SchedulerOutput, and the sampled tokens read back from rank 0's StepResult.
// The workers keep each sequence's block table, so only new blocks are sent; a
// sequence appears in new_sequences the first time it runs and again after a
// preemption (its worker state is dropped with forget_sequence_ids).
#ifndef SHOAL_SCHEDULER_STEP_MESSAGES_H_
#define SHOAL_SCHEDULER_STEP_MESSAGES_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "scheduler/scheduler.h"
#include "shoal/v1/worker.pb.h"

namespace shoal::scheduler {

// Fills `step` (cleared first) and records in the requests what the workers now know.
// `forget` lists sequences that left since the last step; the output's preempted
// requests are forgotten too.
void BuildStepRequest(const SchedulerOutput& output, std::span<const uint64_t> forget,
                      uint64_t step_id, v1::StepRequest& step);

// The token sampled for each scheduled request with sample set, in order; a sequence
// the worker could not sample gets kSampleFailed and its request the worker's
// error_message. Internal error if the result does not answer exactly those sequences.
absl::Status CollectSampledTokens(const SchedulerOutput& output, const v1::StepResult& result,
                                  std::vector<int32_t>& tokens);

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_STEP_MESSAGES_H_
