// Command-line flags of the `shoal` binary. Only cli/ defines flags; it maps them onto
// the libraries' config structs. The names follow DESIGN.md's command table.
#ifndef SHOAL_CLI_FLAGS_H_
#define SHOAL_CLI_FLAGS_H_

#include <string>
#include <vector>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(bool, decode);
ABSL_DECLARE_FLAG(bool, metadata);
ABSL_DECLARE_FLAG(bool, tensors);
ABSL_DECLARE_FLAG(bool, parse_special);
ABSL_DECLARE_FLAG(bool, add_special);
ABSL_DECLARE_FLAG(std::string, prompt);
ABSL_DECLARE_FLAG(int32_t, n);
ABSL_DECLARE_FLAG(int32_t, threads);
ABSL_DECLARE_FLAG(bool, interleave_weights);
ABSL_DECLARE_FLAG(std::string, device);
ABSL_DECLARE_FLAG(bool, bf16_weights);
ABSL_DECLARE_FLAG(double, gpu_memory_fraction);
ABSL_DECLARE_FLAG(std::string, backend);
ABSL_DECLARE_FLAG(int32_t, device_index);
ABSL_DECLARE_FLAG(std::string, models);
ABSL_DECLARE_FLAG(bool, chat);
ABSL_DECLARE_FLAG(bool, ignore_eos);
ABSL_DECLARE_FLAG(float, temperature);
ABSL_DECLARE_FLAG(int32_t, top_k);
ABSL_DECLARE_FLAG(float, top_p);
ABSL_DECLARE_FLAG(float, min_p);
ABSL_DECLARE_FLAG(float, repetition_penalty);
ABSL_DECLARE_FLAG(float, presence_penalty);
ABSL_DECLARE_FLAG(float, frequency_penalty);
ABSL_DECLARE_FLAG(int64_t, seed);
ABSL_DECLARE_FLAG(std::string, host);
ABSL_DECLARE_FLAG(int32_t, port);
ABSL_DECLARE_FLAG(int32_t, metrics_port);
ABSL_DECLARE_FLAG(int32_t, world);
ABSL_DECLARE_FLAG(int64_t, max_num_batched_tokens);
ABSL_DECLARE_FLAG(int64_t, max_num_seqs);
ABSL_DECLARE_FLAG(int64_t, long_prefill_token_threshold);
ABSL_DECLARE_FLAG(int64_t, max_waiting);
ABSL_DECLARE_FLAG(int32_t, block_size);
ABSL_DECLARE_FLAG(bool, enable_prefix_caching);
ABSL_DECLARE_FLAG(double, kv_memory_fraction);
ABSL_DECLARE_FLAG(int64_t, max_kv_blocks);
ABSL_DECLARE_FLAG(double, drain_seconds);
ABSL_DECLARE_FLAG(int32_t, grpc_port);
ABSL_DECLARE_FLAG(std::string, served_model_name);
ABSL_DECLARE_FLAG(std::vector<std::string>, scheduler);
ABSL_DECLARE_FLAG(int32_t, http_threads);
ABSL_DECLARE_FLAG(int32_t, max_connections);
ABSL_DECLARE_FLAG(int64_t, max_request_bytes);
ABSL_DECLARE_FLAG(double, http_request_timeout_seconds);
ABSL_DECLARE_FLAG(double, http_write_timeout_seconds);
ABSL_DECLARE_FLAG(double, sse_keepalive_seconds);
ABSL_DECLARE_FLAG(std::string, log_format);
ABSL_DECLARE_FLAG(std::string, log_level);

#endif  // SHOAL_CLI_FLAGS_H_
