// The engine core: the step loop on its own thread, owning the Scheduler (policy), the
// KV cache manager and every request, driving one replica's workers through a
// WorkerClient. Other threads reach it only through a bounded inbox (Submit, Cancel)
// drained at the start of each step, and get their tokens back through each request's
// RequestStream, appended as soon as the step that sampled them ends.
//
// Threads: the step thread owns everything below `// Step thread.`; the inbox, the set
// of live request ids and the stats snapshot are guarded by mu_.
#ifndef SHOAL_SCHEDULER_ENGINE_CORE_H_
#define SHOAL_SCHEDULER_ENGINE_CORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
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

  // Validates and queues a request; its tokens arrive on the returned stream.
  // InvalidArgument (bad request), AlreadyExists (id in use), ResourceExhausted (too
  // many requests), Unavailable (draining, or the replica failed).
  absl::StatusOr<std::shared_ptr<RequestStream>> Submit(const v1::SchedulerGenerateRequest& request);
  // Cancels a live request: it leaves the batch at the next step and finishes with
  // FINISH_REASON_CANCELLED. NotFound when no live request has the id.
  absl::Status Cancel(const std::string& request_id);

  v1::StatsResponse Stats() const;
  bool ready() const;
  // The longest prompt + output a request may have (model context, capped by KV).
  int64_t max_model_len() const { return config_.scheduler.max_model_len; }

  // Stops accepting, lets in-flight requests finish for up to `grace`, cancels the
  // rest, and stops the step thread.
  void Drain(absl::Duration grace);

 private:
  struct Command {
    std::unique_ptr<Request> add;  // set: add this request
    std::shared_ptr<RequestStream> stream;
    std::string abort_id;  // otherwise: abort this one
  };

  EngineCore(const EngineCoreConfig& config, std::unique_ptr<WorkerClient> worker,
             std::unique_ptr<KvCacheManager> kv, prometheus::Registry& registry);
  void Loop();
  void Apply(std::vector<Command>& commands);
  void RunStep();
  void DeliverTokens(const std::vector<Request*>& sampled, double now);
  void FinishRequest(FinishedRequest done, const std::string& error = "");
  void FailAll(const std::string& error);
  void UpdateGaugesAndStats(double step_seconds);
  double Now() const;

  const EngineCoreConfig config_;
  const absl::Time start_time_;
  std::unique_ptr<WorkerClient> worker_;
  EngineMetrics metrics_;

  mutable absl::Mutex mu_;
  std::vector<Command> inbox_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> live_ids_ ABSL_GUARDED_BY(mu_);
  bool accepting_ ABSL_GUARDED_BY(mu_) = true;
  bool ready_ ABSL_GUARDED_BY(mu_) = true;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;  // cancel what is left and exit
  bool idle_ ABSL_GUARDED_BY(mu_) = true;
  v1::StatsResponse stats_ ABSL_GUARDED_BY(mu_);

  // Step thread.
  std::unique_ptr<KvCacheManager> kv_;
  Scheduler scheduler_;
  absl::flat_hash_map<std::string, std::shared_ptr<RequestStream>> streams_;
  std::vector<uint64_t> forget_;
  uint64_t step_id_ = 0;
  v1::StepRequest step_request_;
  v1::StepResult step_result_;
  std::vector<int32_t> sampled_tokens_;
  std::vector<Request*> sampled_requests_;
  int64_t last_prefix_queries_ = 0, last_prefix_hits_ = 0;
  double mean_step_seconds_ = 0;

  std::thread thread_;
};

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_ENGINE_CORE_H_
