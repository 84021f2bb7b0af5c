#include "cli/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, model, "",
          "GGUF model file (default: $SHOAL_MODEL, else the Gemma 3 270M file that "
          "scripts/setup installs)");
ABSL_FLAG(bool, decode, false, "tokenize: read token ids and print the text they decode to");
ABSL_FLAG(bool, metadata, false, "info: also print every metadata key");
ABSL_FLAG(bool, tensors, false, "info: also print every tensor");
ABSL_FLAG(bool, parse_special, true,
          "tokenize: recognise special-token text such as <start_of_turn>");
ABSL_FLAG(bool, add_special, true, "tokenize: add BOS/EOS as the model's tokenizer says");
ABSL_FLAG(std::string, prompt, "", "run: the prompt text (with --chat: the user's message)");
ABSL_FLAG(int32_t, n, 128, "run: the most tokens to generate");
ABSL_FLAG(int32_t, threads, 0, "compute threads (0: one per core)");
ABSL_FLAG(std::string, device, "cpu", "where the model computes: cpu, cuda or cuda:K");
ABSL_FLAG(bool, bf16_weights, false,
          "--device cuda: expand quantized matrices to bf16 at load for tensor-core GEMMs "
          "(more memory; off: the kernels dequantize as they read)");
ABSL_FLAG(double, gpu_memory_fraction, 0.9,
          "--device cuda: share of the GPU's memory the worker may use, weights included; the "
          "rest of it is KV cache");
ABSL_FLAG(bool, interleave_weights, true,
          "repack Q4_0/Q5_0/Q8_0/Q4_K/Q5_K/Q6_K matrices at load into the layout the fastest "
          "kernels read "
          "(a copy in RAM in place of the file's pages)");
ABSL_FLAG(bool, chat, false, "run: render the prompt as a user turn with the chat template");
ABSL_FLAG(bool, ignore_eos, false, "run: keep generating past end-of-generation tokens");
ABSL_FLAG(float, temperature, 0.8f, "run: sampling temperature; 0 is greedy");
ABSL_FLAG(int32_t, top_k, 0, "run: keep the k most likely tokens (0: all)");
ABSL_FLAG(float, top_p, 1.0f, "run: nucleus sampling mass (1: off)");
ABSL_FLAG(float, min_p, 0.0f, "run: drop tokens below min_p times the most likely (0: off)");
ABSL_FLAG(float, repetition_penalty, 1.0f, "run: penalty on repeated tokens (1: off)");
ABSL_FLAG(float, presence_penalty, 0.0f, "run: OpenAI presence penalty");
ABSL_FLAG(float, frequency_penalty, 0.0f, "run: OpenAI frequency penalty");
ABSL_FLAG(int64_t, seed, -1, "run: sampling seed (-1: random)");
// Servers.
ABSL_FLAG(std::string, host, "127.0.0.1", "address to listen on (0.0.0.0: every interface)");
ABSL_FLAG(int32_t, port, -1,
          "port to listen on: the scheduler's gRPC port (default 50061), the HTTP API's for serve "
          "and router (default 8080); 0: any free port, printed at start");
ABSL_FLAG(int32_t, grpc_port, 50051,
          "serve, router: port of the public gRPC API, shoal.v1.Inference (0: any free port; "
          "-1: none)");
ABSL_FLAG(std::string, served_model_name, "",
          "serve, router: comma-separated names clients may use for the model (default: the "
          "file's name); responses carry the first");
ABSL_FLAG(std::vector<std::string>, scheduler, {},
          "router: HOST:PORT of a scheduler (shoal scheduler); repeat or separate with commas "
          "for several replicas");
ABSL_FLAG(int32_t, http_threads, 1, "serve, router: threads serving HTTP connections");
ABSL_FLAG(int32_t, max_connections, 4096,
          "serve, router: open HTTP connections beyond which new ones get 503");
ABSL_FLAG(int64_t, max_request_bytes, 16 << 20,
          "serve, router: largest HTTP request body (bigger ones get 413)");
ABSL_FLAG(double, http_request_timeout_seconds, 30,
          "serve, router: time a client has to send a whole request (and to keep an idle "
          "connection open)");
ABSL_FLAG(double, http_write_timeout_seconds, 60,
          "serve, router: time a client has to take each part of a response (a stream whose "
          "client stopped reading is dropped after it)");
ABSL_FLAG(double, sse_keepalive_seconds, 15,
          "serve, router: interval of keep-alive comments in a stream that waits");
ABSL_FLAG(std::string, api_keys, "",
          "serve, router: the key file (YAML or JSON: tenants, their API keys and limits; "
          "reloaded on SIGHUP and when it changes); empty: the endpoint is open to anyone");
ABSL_FLAG(std::string, cache_salt_secret_file, "",
          "serve, router: a file of 16+ secret bytes keying the tenants' prefix-cache salts "
          "(routers in front of the same schedulers should share it); empty: random per "
          "process");
ABSL_FLAG(std::string, log_format, "text", "serve, router, scheduler: log lines as text or json");
ABSL_FLAG(std::string, log_level, "info", "serve, router, scheduler: debug, info, warn or error");
ABSL_FLAG(int32_t, metrics_port, 9561,
          "HTTP port for /health, /ready and /metrics (0: any free port, printed at start)");
ABSL_FLAG(int32_t, world, 1, "scheduler: workers per replica (1: one in-process CPU worker)");
ABSL_FLAG(int64_t, max_num_batched_tokens, 2048, "scheduler: tokens per step");
ABSL_FLAG(int64_t, max_num_seqs, 0,
          "scheduler: requests running at once (0: 256, with a CPU worker's KV cache sized for "
          "4 full contexts per compute thread)");
ABSL_FLAG(int64_t, long_prefill_token_threshold, 0,
          "scheduler: cap on one request's prefill chunk per step (0: the step budget)");
ABSL_FLAG(int64_t, max_waiting, 4096,
          "scheduler: requests queued before new ones get RESOURCE_EXHAUSTED");
ABSL_FLAG(int32_t, block_size, 16, "scheduler: tokens per KV block");
ABSL_FLAG(bool, enable_prefix_caching, true, "scheduler: reuse the KV blocks of shared prefixes");
ABSL_FLAG(double, kv_memory_fraction, 0.5,
          "scheduler: cap on the share of RAM (or of the cgroup's memory limit) the CPU worker may "
          "use, weights included; within it the KV cache is sized for --max-num-seqs full contexts "
          "plus half as much again for the prefix cache, and committed at start");
ABSL_FLAG(int64_t, max_kv_blocks, 0,
          "scheduler: cap on KV blocks (0: what the replica can use, within the memory fraction)");
ABSL_FLAG(double, drain_seconds, 30, "on SIGTERM: seconds in-flight requests get to finish");
// Self-test.
ABSL_FLAG(std::string, backend, "cuda",
          "selftest: the backend to check against the CPU reference (cuda, cpu)");
ABSL_FLAG(int32_t, device_index, 0, "selftest: which CUDA device");
ABSL_FLAG(std::string, models, "",
          "selftest: comma-separated GGUF files whose whole forward passes are compared too");
// Load generator (shoal bench).
ABSL_FLAG(std::string, target, "127.0.0.1:8080", "bench: HOST:PORT of the server under test");
ABSL_FLAG(std::string, protocol, "http",
          "bench: http (any OpenAI-compatible server, streaming) or grpc (shoal.v1.Inference)");
ABSL_FLAG(std::string, endpoint, "completions", "bench: completions or chat");
ABSL_FLAG(int64_t, concurrency, 0,
          "bench: requests in flight at most; alone, a closed loop at that concurrency");
ABSL_FLAG(double, request_rate, 0,
          "bench: open loop at this many requests per second (0: none, a closed loop)");
ABSL_FLAG(double, burstiness, 1.0,
          "bench: gamma shape of the arrival gaps (1: Poisson; lower: burstier)");
ABSL_FLAG(bool, constant_arrivals, false, "bench: fixed gaps of 1/rate instead of random ones");
ABSL_FLAG(int64_t, num_requests, 100, "bench: requests to send");
ABSL_FLAG(double, duration, 0, "bench: stop after this many seconds (0: when all are done)");
ABSL_FLAG(int32_t, input_len, 128, "bench: prompt tokens per request (mean)");
ABSL_FLAG(int32_t, output_len, 128, "bench: output tokens per request (mean)");
ABSL_FLAG(double, range_ratio, 0.0, "bench: lengths uniform within +-this fraction of the mean");
ABSL_FLAG(int32_t, prefix_len, 0, "bench: tokens of a prefix every prompt shares");
ABSL_FLAG(bool, stop_at_eos, false,
          "bench: let requests stop at end-of-generation (default: ignore_eos, exact lengths)");
ABSL_FLAG(std::string, slo, "", "bench: goodput bounds, e.g. ttft=2s,tpot=150ms,e2e=30s");
ABSL_FLAG(std::string, json, "", "bench: write the report as JSON to this file");
ABSL_FLAG(std::string, plot, "",
          "bench: draw the report into this PNG with bench/plot.py (matplotlib): latency "
          "percentiles and throughput against concurrency or, for a ramp, against rate");
ABSL_FLAG(double, request_timeout_seconds, 600, "bench: a request's time limit");
ABSL_FLAG(std::string, metrics_target, "",
          "bench: HOST:PORT whose /metrics is scraped before and after the run (default: the "
          "HTTP target; none: no scrape)");
ABSL_FLAG(std::string, metrics_path, "/metrics", "bench: the path of the scraped metrics");
ABSL_FLAG(std::vector<std::string>, ramp_rates, {},
          "bench: a rate ramp instead of one run: open-loop stages at these request rates, "
          "ascending, until one breaks --slo; reports the highest rate that held");
ABSL_FLAG(double, stage_seconds, 30, "bench: arrivals per ramp stage: rate x this");
ABSL_FLAG(double, min_good_fraction, 0.9,
          "bench: a ramp stage holds while this fraction of its requests meets --slo");
ABSL_FLAG(double, max_error_fraction, 0.01,
          "bench: a ramp stage breaks when more than this fraction of its requests fail");
ABSL_FLAG(std::string, workload, "random",
          "bench: random (token-exact random prompts), agent (agents in multi-turn "
          "conversations over a long shared system prompt and tool list) or sharegpt "
          "(--dataset-path)");
ABSL_FLAG(std::string, dataset_path, "", "bench: a ShareGPT JSON or JSONL file");
ABSL_FLAG(int32_t, agents, 8, "bench, agent workload: concurrent conversations");
ABSL_FLAG(int32_t, turns, 4, "bench, agent workload: requests per conversation");
ABSL_FLAG(int32_t, system_prompt_len, 1000, "bench, agent workload: shared system prompt tokens");
ABSL_FLAG(int32_t, tools, 4, "bench, agent workload: tool definitions in the system message");
ABSL_FLAG(int32_t, tool_len, 120, "bench, agent workload: tokens per tool definition");
ABSL_FLAG(int32_t, user_turn_len, 60, "bench, agent workload: tokens per user turn");
ABSL_FLAG(int32_t, assistant_turn_len, 120,
          "bench, agent workload: tokens per assistant turn in the history");
ABSL_FLAG(std::string, tenants, "",
          "bench: a tenant mix, name:api_key[:weight],...; requests are shared out by weight "
          "and sent with the tenant's key; statistics per tenant");
