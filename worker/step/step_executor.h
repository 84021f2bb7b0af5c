// Executes the scheduler's steps (worker.proto) on one device (the CPU or a CUDA GPU):
// holds the model, its forward engine with the paged KV cache (sized from the memory
// budget in the RegisterRequest), and per
// sequence its block table and sampler; each StepRequest becomes one forward pass over
// every scheduled sequence, then one sampled token per sequence that asks for one.
//
// Owned by the worker's compute thread; Step() must not run concurrently.
#ifndef SHOAL_WORKER_STEP_STEP_EXECUTOR_H_
#define SHOAL_WORKER_STEP_STEP_EXECUTOR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "model/model_file.h"
#include "shoal/v1/worker.pb.h"
#include "worker/forward/forward_engine.h"
#include "worker/sampler/sampler.h"

namespace shoal::worker {

class StepExecutor {
 public:
  // Loads register.model_path into an engine of `options` (device, threads, weight
  // layout, KV type, RAM size) and allocates and commits the KV cache: on a CPU, what
  // the replica can use (the request's max_num_seqs full contexts plus a prefix-cache
  // share), on a GPU as many blocks as fit; either way within the request's
  // memory_fraction of the device's memory after the weights, and max_kv_blocks. The
  // request's budget fields replace those of options.kv, its max_num_batched_tokens
  // options.max_batch_tokens.
  static absl::StatusOr<std::unique_ptr<StepExecutor>> Create(const v1::RegisterRequest& request,
                                                              const EngineOptions& options);

  const v1::RegisterResponse& registration() const { return registration_; }
  const model::ModelFile& model() const { return *model_; }

  // Runs one step. An invalid step (unknown sequence, bad block table or position,
  // tokens outside the vocabulary) fills error_message and changes nothing else; a
  // sequence that cannot be sampled fails alone (its SampledToken's error_message).
  void Step(const v1::StepRequest& request, v1::StepResult& result);

  int64_t num_sequences() const { return static_cast<int64_t>(sequences_.size()); }

 private:
  struct Sequence {
    std::vector<int32_t> block_table;
    int64_t num_computed_tokens = 0;  // positions whose K/V the cache holds
    bool started = false;             // has run a chunk
    std::optional<Sampler> sampler;
  };

  StepExecutor() = default;
  absl::Status Run(const v1::StepRequest& request, v1::StepResult& result);
  absl::Status Admit(const v1::StepRequest& request);
  absl::Status BuildBatch(const v1::StepRequest& request);
  // One token per sequence that asks for one; a sequence whose logits cannot be
  // sampled gets an error of its own (SampledToken.error_message).
  void SampleTokens(const v1::StepRequest& request, v1::StepResult& result);
  void RecordExpertLoad(v1::StepResult& result);

  std::unique_ptr<model::ModelFile> model_;
  std::unique_ptr<ForwardEngine> engine_;
  v1::RegisterResponse registration_;
  absl::flat_hash_map<uint64_t, Sequence> sequences_;

  // Reused across steps.
  std::vector<uint64_t> admitted_;  // sequences this step added
  std::vector<int32_t> tokens_;
  ForwardBatch batch_;
  std::vector<std::vector<int32_t>> tables_;  // the batch's block tables after this step
  std::vector<float> logits_;
  SamplerScratch sampler_scratch_;
  std::vector<int64_t> last_expert_counts_;
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_STEP_STEP_EXECUTOR_H_
