// shoal bench: a load generator like vLLM's `bench serve`, for Shoal and any
// OpenAI-compatible server (llama.cpp's llama-server, vLLM) over HTTP with SSE, or for
// Shoal's gRPC API. Random prompts with exact token counts (the tokenizer of --model),
// a closed loop (--concurrency) or an open loop (--request-rate, Poisson or gamma
// arrivals), bounded by --num-requests and --duration; a progress line on stderr, the
// final table on stdout, the whole report with --json.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "bench/load/runner.h"
#include "bench/load/stats.h"
#include "bench/load/target.h"
#include "bench/load/workload.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/model_path.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "model/model_file.h"

namespace shoal::cli {
namespace {

absl::StatusOr<std::pair<std::string, int>> ParseTarget(const std::string& target) {
  const size_t colon = target.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(target.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        fmt::format("--target must be HOST:PORT, not '{}'", target));
  }
  return std::make_pair(target.substr(0, colon), port);
}

absl::StatusOr<bench::RunOptions> RunOptionsFromFlags() {
  bench::RunOptions options;
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  const double rate = absl::GetFlag(FLAGS_request_rate);
  options.request_rate = rate > 0 ? rate : std::numeric_limits<double>::infinity();
  options.burstiness = absl::GetFlag(FLAGS_burstiness);
  options.constant_arrivals = absl::GetFlag(FLAGS_constant_arrivals);
  options.seed = static_cast<uint64_t>(std::max<int64_t>(0, absl::GetFlag(FLAGS_seed)));
  const double duration = absl::GetFlag(FLAGS_duration);
  if (duration < 0) return absl::InvalidArgumentError("--duration must be >= 0 (0: none)");
  if (duration > 0) options.duration = absl::Seconds(duration);
  options.progress = stderr;
  options.progress_is_terminal = isatty(STDERR_FILENO) != 0;
  SHOAL_RETURN_IF_ERROR(options.Validate());
  return options;
}

absl::Status WriteJson(const std::string& path, const nlohmann::ordered_json& report) {
  std::ofstream out(path);
  out << report.dump(1) << "\n";
  if (!out) return absl::UnavailableError(fmt::format("cannot write {}", path));
  return absl::OkStatus();
}

absl::Status Bench() {
  SHOAL_ASSIGN_OR_RETURN(const auto host_port, ParseTarget(absl::GetFlag(FLAGS_target)));
  const std::string protocol = absl::GetFlag(FLAGS_protocol);
  if (protocol != "http" && protocol != "grpc") {
    return absl::InvalidArgumentError("--protocol must be http or grpc");
  }
  const std::string endpoint = absl::GetFlag(FLAGS_endpoint);
  if (endpoint != "completions" && endpoint != "chat") {
    return absl::InvalidArgumentError("--endpoint must be completions or chat");
  }
  SHOAL_ASSIGN_OR_RETURN(const bench::Slo slo, bench::ParseSlo(absl::GetFlag(FLAGS_slo)));
  SHOAL_ASSIGN_OR_RETURN(const bench::RunOptions run_options, RunOptionsFromFlags());

  // The tokenizer makes prompts of exact token counts.
  SHOAL_ASSIGN_OR_RETURN(const std::string path, ResolveModelPath(absl::GetFlag(FLAGS_model)));
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<model::ModelFile> model, model::ModelFile::Open(path));
  bench::RandomWorkloadOptions workload{
      .num_requests = absl::GetFlag(FLAGS_num_requests),
      .input_len = absl::GetFlag(FLAGS_input_len),
      .output_len = absl::GetFlag(FLAGS_output_len),
      .range_ratio = absl::GetFlag(FLAGS_range_ratio),
      .prefix_len = absl::GetFlag(FLAGS_prefix_len),
      .chat = endpoint == "chat",
      .ignore_eos = !absl::GetFlag(FLAGS_stop_at_eos),
      .seed = run_options.seed};
  SHOAL_ASSIGN_OR_RETURN(const std::vector<bench::RequestSpec> specs,
                         bench::MakeRandomWorkload(model->tokenizer(), workload));

  std::string served = absl::GetFlag(FLAGS_served_model_name);
  if (served.empty()) served = std::filesystem::path(path).stem().string();
  bench::RunClock clock;
  boost::asio::io_context io(1);
  const bench::TargetOptions target_options{
      .host = host_port.first,
      .port = host_port.second,
      .api = endpoint == "chat" ? bench::Api::kChatCompletions : bench::Api::kCompletions,
      .model = served,
      .request_timeout = absl::Seconds(absl::GetFlag(FLAGS_request_timeout_seconds)),
      .clock = &clock};
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<bench::Target> target,
                         protocol == "grpc" ? bench::MakeGrpcTarget(io, target_options)
                                            : bench::MakeHttpTarget(io, target_options));
  std::fprintf(stderr, "shoal bench: %s, %lld requests of %d±%.0f%% prompt and %d output tokens, %s\n",
               target->description().c_str(), static_cast<long long>(workload.num_requests),
               workload.input_len, workload.range_ratio * 100, workload.output_len,
               std::isfinite(run_options.request_rate)
                   ? fmt::format("{} req/s (burstiness {}), at most {} in flight",
                                 run_options.request_rate, run_options.burstiness,
                                 run_options.concurrency)
                         .c_str()
                   : fmt::format("{} in flight", run_options.concurrency).c_str());
  SHOAL_ASSIGN_OR_RETURN(bench::RunResult result,
                         bench::Run(io, *target, specs, run_options, clock));
  const bench::Summary summary = bench::Summarize(result.records, slo, result.wall_seconds);
  std::printf("%s", bench::FormatTable(summary, slo).c_str());
  std::printf("load generator CPU: %.2f s over %.1f s of wall time (%.0f%% of one core)\n",
              result.loop_cpu_seconds, result.wall_seconds,
              100 * result.loop_cpu_seconds / std::max(1e-9, result.wall_seconds));
  const std::string json_path = absl::GetFlag(FLAGS_json);
  if (!json_path.empty()) {
    nlohmann::ordered_json report = {
        {"target", target->description()},
        {"protocol", protocol},
        {"endpoint", endpoint},
        {"model", served},
        {"workload",
         {{"num_requests", workload.num_requests}, {"input_len", workload.input_len},
          {"output_len", workload.output_len}, {"range_ratio", workload.range_ratio},
          {"prefix_len", workload.prefix_len}, {"ignore_eos", workload.ignore_eos}}},
        {"load",
         {{"concurrency", run_options.concurrency},
          {"request_rate", std::isfinite(run_options.request_rate)
                               ? nlohmann::ordered_json(run_options.request_rate)
                               : nlohmann::ordered_json("inf")},
          {"burstiness", run_options.burstiness}, {"seed", run_options.seed}}},
        {"summary", bench::ToJson(summary)},
        {"load_generator_cpu_s", result.loop_cpu_seconds},
        {"wall_s", result.wall_seconds}};
    SHOAL_RETURN_IF_ERROR(WriteJson(json_path, report));
  }
  return absl::OkStatus();
}

}  // namespace

int RunBench(const std::vector<std::string>& args) {
  return RunWithoutArguments("bench", args, Bench);
}

}  // namespace shoal::cli
