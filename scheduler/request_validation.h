// Turns a Generate request from the wire into a scheduler Request, or a clear
// InvalidArgument: every field a client sets is checked here, before the request can
// reach the step loop (the workers check their inputs again).
#ifndef SHOAL_SCHEDULER_REQUEST_VALIDATION_H_
#define SHOAL_SCHEDULER_REQUEST_VALIDATION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/request.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal::scheduler {

struct RequestLimits {
  int64_t max_model_len = 0;
  int32_t vocab_size = 0;
  // The model's end-of-generation tokens: they stop a request unless ignore_eos.
  std::vector<int32_t> eog_token_ids;
};

inline constexpr int kMaxRequestIdLength = 128;
inline constexpr int kMaxTenantIdLength = 128;
inline constexpr int kMaxCacheSaltBytes = 1024;
inline constexpr int kMaxLogprobs = 20;
inline constexpr int kMaxStopTokenIds = 1024;
inline constexpr int kMaxLogitBias = 1024;

absl::StatusOr<std::unique_ptr<Request>> MakeRequest(const v1::SchedulerGenerateRequest& wire,
                                                     const RequestLimits& limits);

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_REQUEST_VALIDATION_H_
