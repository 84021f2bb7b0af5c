// The engine core: the step loop on its own thread, owning the Scheduler (policy), the
// KV cache manager and every request, driving one replica's workers through a
// WorkerClient. Other threads reach it only through a bounded inbox (Submit, Cancel)
// drained at the start of each step, and get their tokens back through each request's
// RequestStream, appended as soon as the step that sampled them ends.
//
// Threads: the step thread owns everything below `// Step thread.`; the inbox, the
// live requests by id, the count of queued requests and the stats snapshot are
// guarded by mu_.
//
// Failure: a sequence the worker cannot sample fails alone (FINISH_REASON_ERROR). A
// step that fails as a whole (the worker's state may no longer match ours) aborts
// every request with a retryable UNAVAILABLE error, and the replica stops serving for
// good: ready() and healthy() turn false, so /ready takes it out of rotation and
// /health fails so that an orchestrator restarts the process (it does not try to
// re-create its workers in place).
#ifndef SHOAL_SCHEDULER_ENGINE_CORE_H_
#define SHOAL_SCHEDULER_ENGINE_CORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/registry.h"
#include "scheduler/engine_metrics.h"
#include "scheduler/kv_cache_manager.h"
#include "scheduler/request_stream.h"
#include "scheduler/request_validation.h"
#include "scheduler/scheduler.h"
#include "scheduler/worker_client.h"
#include "shoal/v1/scheduler.pb.h"
#include "shoal/v1/worker.pb.h"

namespace shoal::scheduler {

struct EngineCoreConfig {
  SchedulerConfig scheduler;  // max_model_len is set from the model and the KV cache
  int64_t block_size = kDefaultBlockSize;
  bool enable_prefix_caching = true;
  std::string model_name;  // the metrics' model_name label
  // Folded into every prefix-cache block hash (the model file's fingerprint), so blocks
  // of different models never match; model_name when empty.
  std::string model_key;
  RequestLimits limits;    // from the model: context length, vocabulary, EOG tokens
  int64_t num_kv_blocks = 0;  // what the workers reported
  int64_t kv_cache_bytes = 0;  // what the workers hold, for metrics and Stats
  // Requests waiting (preempted ones included) beyond which Submit refuses new ones
  // with ResourceExhausted and a retry-after.
  int64_t max_waiting = 4096;
  // A request whose consumer leaves more tokens than this unread (a client that stopped
  // reading its stream) is aborted, so a stalled stream cannot buffer without bound.
  int64_t max_unread_tokens = 4096;

  // Takes the model's facts (context length, vocabulary, end-of-generation ids, name,
  // fingerprint) and the KV capacity from a worker's registration, so that the engine
  // never reads a model of its own. InvalidArgument when the facts make no sense.
  absl::Status SetFromRegistration(const v1::RegisterResponse& registration);
  absl::Status Validate() const;
};

class EngineCore {
 public:
  // Starts the step thread. `worker` must be registered already; `registry` (where the
  // engine's metrics live) must outlive the engine.
  static absl::StatusOr<std::unique_ptr<EngineCore>> Create(const EngineCoreConfig& config,
                                                            std::unique_ptr<WorkerClient> worker,
                                                            prometheus::Registry& registry);
  ~EngineCore();  // Drain(absl::ZeroDuration())

  // Validates and queues a request; its tokens arrive on the returned stream, which
  // always ends with a Finish message. InvalidArgument (bad request), AlreadyExists (id
  // in use; the request holding it is untouched), ResourceExhausted with a retry-after
  // payload (the waiting queue is full: max_waiting requests wait already), Unavailable
  // (draining, or the replica failed).
  absl::StatusOr<std::shared_ptr<RequestStream>> Submit(const v1::SchedulerGenerateRequest& request);
  // Cancels the live request with this id: it leaves the batch at the next step and
  // finishes with FINISH_REASON_CANCELLED (FINISH_REASON_STOP for a stop string).
  // NotFound when no live request has the id; repeated cancels are no-ops.
  absl::Status Cancel(const std::string& request_id,
                      v1::CancelReason reason = v1::CANCEL_REASON_UNSPECIFIED);
  // Cancels the request behind `stream`, if it is still live: for the call that owns
  // the stream, so that it can never cancel another call's request of the same id.
  void Cancel(const std::shared_ptr<RequestStream>& stream, v1::CancelReason reason);

  v1::StatsResponse Stats() const;
  // Accepting requests, and the replica has not failed.
  bool ready() const;
  // False once a step failed as a whole: the process should be restarted.
  bool healthy() const;
  // Why the replica failed; empty while healthy.
  std::string failure_message() const;
  // The longest prompt + output a request may have (model context, capped by KV).
  int64_t max_model_len() const { return config_.scheduler.max_model_len; }

  // Stops accepting, lets in-flight requests finish for up to `grace`, cancels the
  // rest, and stops the step thread.
  void Drain(absl::Duration grace);

 private:
  struct Command {
    std::unique_ptr<Request> add;  // set: add this request, which streams to `stream`
    // Otherwise: cancel the request behind it, for the stream's cancel_reason().
    std::shared_ptr<RequestStream> stream;
  };

  EngineCore(const EngineCoreConfig& config, std::unique_ptr<WorkerClient> worker,
             std::unique_ptr<KvCacheManager> kv, prometheus::Registry& registry);
  void Loop();
  void Apply(std::vector<Command>& commands);
  void AddRequest(Command& command);
  void CancelRequest(const Command& command);
  void RunStep();
  void DeliverTokens(const std::vector<SampledRequest>& sampled, double now);
  // Aborts the requests whose consumers left more than max_unread_tokens unread.
  void AbortStalled();
  // Ends a request that left the scheduler; `error` explains an abort or a failure
  // (the request's own error_message is used for kFinishedError when it is null).
  void FinishRequest(FinishedRequest done, const v1::StreamError* error = nullptr);
  void AbortAll(const v1::StreamError& error);
  void FailReplica(const std::string& message);
  void UpdateGaugesAndStats(double step_seconds);
  double Now() const;
  // How long a caller refused for load should wait: about the time for one waiting
  // request to be admitted, from the mean request duration; 1 to 60 s.
  int RetryAfterSecondsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const EngineCoreConfig config_;
  const absl::Time start_time_;
  std::unique_ptr<WorkerClient> worker_;
  EngineMetrics metrics_;

  mutable absl::Mutex mu_;
  std::vector<Command> inbox_ ABSL_GUARDED_BY(mu_);
  // Requests submitted and not finished, by id (the id is free again once the final
  // message is queued).
  absl::flat_hash_map<std::string, std::shared_ptr<RequestStream>> live_ ABSL_GUARDED_BY(mu_);
  // Requests waiting to run: the scheduler's waiting queue as of the last sync plus
  // those submitted since. Submit refuses at max_waiting, so an accepted request is
  // never refused later.
  int64_t num_queued_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t num_adds_in_inbox_ ABSL_GUARDED_BY(mu_) = 0;
  // Exponential mean of finished requests' durations, for retry-after.
  double mean_request_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  bool accepting_ ABSL_GUARDED_BY(mu_) = true;
  bool ready_ ABSL_GUARDED_BY(mu_) = true;
  bool healthy_ ABSL_GUARDED_BY(mu_) = true;
  std::string failure_message_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;  // cancel what is left and exit
  bool idle_ ABSL_GUARDED_BY(mu_) = true;
  v1::StatsResponse stats_ ABSL_GUARDED_BY(mu_);

  // Step thread.
  bool failed_ = false;  // a step failed as a whole: no more steps
  std::unique_ptr<KvCacheManager> kv_;
  Scheduler scheduler_;
  absl::flat_hash_map<std::string, std::shared_ptr<RequestStream>> streams_;
  std::vector<uint64_t> forget_;
  uint64_t step_id_ = 0;
  v1::StepRequest step_request_;
  v1::StepResult step_result_;
  std::vector<int32_t> sampled_tokens_;
  std::vector<SampledRequest> sampled_requests_;
  std::vector<std::string> stalled_;  // requests whose consumers stopped reading
  int64_t last_prefix_queries_ = 0, last_prefix_hits_ = 0;
  double mean_step_seconds_ = 0;

  std::thread thread_;
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_ENGINE_CORE_H_
