#include "cli/local_engine.h"

#include <filesystem>

#include "absl/flags/flag.h"
#include "cli/engine_flags.h"
#include "cli/flags.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "inprocess/in_process_worker_client.h"

namespace shoal::cli {
namespace {

// --max-num-seqs 0 (the default): vLLM's 256, on CPU as on GPU. On a CPU the
// throughput stops growing near 4 sequences per compute thread, but a request that
// waits for a slot waits for a whole generation to end: with 8 admitted on 2 threads, 16
// agents sharing a prompt saw a median TTFT of 6.6 s against 2.5 s with all admitted,
// at the same tokens/s (docs/benchmarks.md, issue 17). Admitting every request shares
// the steps out instead, and each stream's time per token grows with the streams, as
// llama-server's does with its slots.
int64_t MaxNumSeqsFromFlag() {
  const int64_t flag = absl::GetFlag(FLAGS_max_num_seqs);
  return flag != 0 ? flag : 256;
}

// The full contexts a CPU worker sizes its KV cache for: --max-num-seqs when given, else
// 4 per compute thread (256 full contexts would claim the whole memory fraction for
// sequences that are mostly short; the scheduler preempts if they outgrow it).
int64_t KvCacheSequencesFromFlag(const worker::EngineOptions& engine) {
  const int64_t flag = absl::GetFlag(FLAGS_max_num_seqs);
  return flag != 0 ? flag : 4 * int64_t{engine.threads};
}

absl::StatusOr<v1::RegisterResponse> RegisterWorker(inprocess::InProcessWorkerClient& worker,
                                                    const std::string& path,
                                                    const worker::EngineOptions& engine) {
  v1::RegisterRequest request;
  request.set_model_path(path);
  request.set_rank(0);
  request.set_world_size(1);
  request.set_kv_block_size(absl::GetFlag(FLAGS_block_size));
  // --kv-memory-fraction of RAM for a CPU worker, --gpu-memory-fraction of a GPU's.
  request.set_memory_fraction(static_cast<float>(engine.kv.memory_fraction));
  request.set_max_kv_blocks(absl::GetFlag(FLAGS_max_kv_blocks));
  request.set_max_num_batched_tokens(
      static_cast<int32_t>(absl::GetFlag(FLAGS_max_num_batched_tokens)));
  request.set_max_num_seqs(static_cast<int32_t>(MaxNumSeqsFromFlag()));
  request.set_kv_cache_sequences(static_cast<int32_t>(KvCacheSequencesFromFlag(engine)));
  return worker.Register(request);
}

absl::StatusOr<scheduler::EngineCoreConfig> EngineConfig(const v1::RegisterResponse& registration,
                                                         const std::string& path,
                                                         const worker::EngineOptions& engine) {
  scheduler::EngineCoreConfig config;
  config.scheduler = {.max_num_batched_tokens = absl::GetFlag(FLAGS_max_num_batched_tokens),
                      .max_num_seqs = MaxNumSeqsFromFlag(),
                      .long_prefill_token_threshold =
                          absl::GetFlag(FLAGS_long_prefill_token_threshold)};
  config.max_waiting = absl::GetFlag(FLAGS_max_waiting);
  config.block_size = absl::GetFlag(FLAGS_block_size);
  config.enable_prefix_caching = absl::GetFlag(FLAGS_enable_prefix_caching);
  config.model_name = std::filesystem::path(path).stem().string();
  // Everything about the model comes from the worker's registration.
  SHOAL_RETURN_IF_ERROR(config.SetFromRegistration(registration));
  return config;
}

}  // namespace

int PortFromFlag(int default_port) {
  const int port = absl::GetFlag(FLAGS_port);
  return port < 0 ? default_port : port;
}

absl::StatusOr<LocalEngine> StartLocalEngine(const std::string& path,
                                             prometheus::Registry& registry) {
  LocalEngine local;
  SHOAL_ASSIGN_OR_RETURN(const worker::EngineOptions engine_options, EngineOptionsFromFlags());
  auto worker = std::make_unique<inprocess::InProcessWorkerClient>(engine_options);
  SHOAL_ASSIGN_OR_RETURN(local.registration, RegisterWorker(*worker, path, engine_options));
  SHOAL_ASSIGN_OR_RETURN(local.config, EngineConfig(local.registration, path, engine_options));
  SHOAL_ASSIGN_OR_RETURN(local.engine,
                         scheduler::EngineCore::Create(local.config, std::move(worker), registry));
  const scheduler::EngineCoreConfig& config = local.config;
  SHOAL_LOG_INFO(
      "{} on {}; {} KV blocks of {} tokens ({:.1f} MiB, committed), context {}; "
      "max_num_batched_tokens {}, max_num_seqs {}, prefix caching {}",
      config.model_name, local.registration.device(), config.num_kv_blocks, config.block_size,
      static_cast<double>(config.kv_cache_bytes) / (1 << 20), local.engine->max_model_len(),
      config.scheduler.max_num_batched_tokens, config.scheduler.max_num_seqs,
      config.enable_prefix_caching ? "on" : "off");
  return local;
}

}  // namespace shoal::cli
