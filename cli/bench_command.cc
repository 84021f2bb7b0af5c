// shoal bench: a load generator like vLLM's `bench serve`, for Shoal and any
// OpenAI-compatible server (llama.cpp's llama-server, vLLM) over HTTP with SSE, or for
// Shoal's gRPC API. Random prompts with exact token counts (the tokenizer of --model),
// a closed loop (--concurrency) or an open loop (--request-rate, Poisson or gamma
// arrivals), bounded by --num-requests and --duration; a progress line on stderr, the
// final table on stdout, the whole report with --json, drawn with --plot.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "bench/load/agent_workload.h"
#include "bench/load/metrics_scrape.h"
#include "bench/load/ramp.h"
#include "bench/load/runner.h"
#include "bench/load/sharegpt_workload.h"
#include "bench/load/stats.h"
#include "bench/load/target.h"
#include "bench/load/workload.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/model_path.h"
#include "cli/plot_report.h"
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
  // A ramp sets its own rates; a single run must have a closed or an open loop.
  if (absl::GetFlag(FLAGS_ramp_rates).empty()) SHOAL_RETURN_IF_ERROR(options.Validate());
  return options;
}

// Where the target's Prometheus metrics are: --metrics-target, else the HTTP target
// itself; none for "none" or a gRPC target without --metrics-target.
std::optional<std::pair<std::string, int>> MetricsTarget(const std::pair<std::string, int>& target,
                                                         const std::string& protocol) {
  const std::string flag = absl::GetFlag(FLAGS_metrics_target);
  if (flag == "none" || (flag.empty() && protocol != "http")) return std::nullopt;
  if (flag.empty()) return target;
  absl::StatusOr<std::pair<std::string, int>> parsed = ParseTarget(flag);
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

// The metrics, or nothing (with a warning): a scrape is an extra, never a failure.
std::optional<bench::MetricsSnapshot> Scrape(const std::optional<std::pair<std::string, int>>& at) {
  if (!at) return std::nullopt;
  absl::StatusOr<std::string> text =
      bench::FetchMetrics(at->first, at->second, absl::GetFlag(FLAGS_metrics_path));
  if (!text.ok()) {
    std::fprintf(stderr, "shoal bench: no metrics from %s:%d (%s); the report goes without\n",
                 at->first.c_str(), at->second, MessageOf(text.status()).c_str());
    return std::nullopt;
  }
  return bench::ParsePrometheusText(*text);
}

absl::StatusOr<bench::RampOptions> RampOptionsFromFlags(const bench::RunOptions& run,
                                                        const bench::Slo& slo) {
  bench::RampOptions ramp;
  for (const std::string& rate : absl::GetFlag(FLAGS_ramp_rates)) {
    double value = 0;
    if (!absl::SimpleAtod(rate, &value)) {
      return absl::InvalidArgumentError(fmt::format("--ramp-rates: '{}' is not a number", rate));
    }
    ramp.rates.push_back(value);
  }
  ramp.stage_duration = absl::Seconds(absl::GetFlag(FLAGS_stage_seconds));
  ramp.slo = slo;
  ramp.min_good_fraction = absl::GetFlag(FLAGS_min_good_fraction);
  ramp.max_error_fraction = absl::GetFlag(FLAGS_max_error_fraction);
  ramp.concurrency = run.concurrency;
  ramp.burstiness = run.burstiness;
  ramp.constant_arrivals = run.constant_arrivals;
  ramp.seed = run.seed;
  ramp.progress = run.progress;
  ramp.progress_is_terminal = run.progress_is_terminal;
  SHOAL_RETURN_IF_ERROR(ramp.Validate());
  return ramp;
}

// The requests to send, as --workload says, shared out among --tenants when given.
absl::StatusOr<std::vector<bench::RequestSpec>> WorkloadFromFlags(
    const model::Tokenizer& tokenizer, const bench::RandomWorkloadOptions& random,
    nlohmann::ordered_json& description) {
  const std::string kind = absl::GetFlag(FLAGS_workload);
  std::vector<bench::RequestSpec> specs;
  description = {{"kind", kind}};
  if (kind == "random") {
    SHOAL_ASSIGN_OR_RETURN(specs, bench::MakeRandomWorkload(tokenizer, random));
    description.update({{"num_requests", random.num_requests}, {"input_len", random.input_len},
                        {"output_len", random.output_len}, {"range_ratio", random.range_ratio},
                        {"prefix_len", random.prefix_len}});
  } else if (kind == "agent") {
    const bench::AgentWorkloadOptions agent{
        .num_agents = absl::GetFlag(FLAGS_agents),
        .turns = absl::GetFlag(FLAGS_turns),
        .system_prompt_len = absl::GetFlag(FLAGS_system_prompt_len),
        .num_tools = absl::GetFlag(FLAGS_tools),
        .tool_len = absl::GetFlag(FLAGS_tool_len),
        .user_turn_len = absl::GetFlag(FLAGS_user_turn_len),
        .assistant_turn_len = absl::GetFlag(FLAGS_assistant_turn_len),
        .output_len = random.output_len,
        .ignore_eos = random.ignore_eos,
        .seed = random.seed};
    SHOAL_ASSIGN_OR_RETURN(specs, bench::MakeAgentWorkload(tokenizer, agent));
    description.update({{"agents", agent.num_agents}, {"turns", agent.turns},
                        {"system_prompt_len", agent.system_prompt_len},
                        {"tools", agent.num_tools}, {"tool_len", agent.tool_len},
                        {"user_turn_len", agent.user_turn_len},
                        {"assistant_turn_len", agent.assistant_turn_len},
                        {"output_len", agent.output_len}});
  } else if (kind == "sharegpt") {
    const std::string path = absl::GetFlag(FLAGS_dataset_path);
    if (path.empty()) return absl::InvalidArgumentError("--workload sharegpt needs --dataset-path");
    SHOAL_ASSIGN_OR_RETURN(specs, bench::LoadShareGptWorkload(
                                      tokenizer, path,
                                      {.num_requests = random.num_requests,
                                       .seed = random.seed,
                                       .ignore_eos = random.ignore_eos}));
    description.update({{"dataset_path", path}, {"num_requests", specs.size()}});
  } else {
    return absl::InvalidArgumentError("--workload must be random, agent or sharegpt");
  }
  description["ignore_eos"] = random.ignore_eos;
  if (const std::string tenants = absl::GetFlag(FLAGS_tenants); !tenants.empty()) {
    SHOAL_ASSIGN_OR_RETURN(const std::vector<bench::Tenant> mix, bench::ParseTenants(tenants));
    SHOAL_RETURN_IF_ERROR(bench::AssignTenants(specs, mix, random.seed));
    nlohmann::ordered_json names = nlohmann::ordered_json::array();
    for (const bench::Tenant& tenant : mix) names.push_back(tenant.name);  // never the key
    description["tenants"] = std::move(names);
  }
  return specs;
}

absl::Status WriteJson(const std::string& path, const nlohmann::ordered_json& report) {
  std::ofstream out(path);
  out << report.dump(1) << "\n";
  if (!out) return absl::UnavailableError(fmt::format("cannot write {}", path));
  return absl::OkStatus();
}

// --plot: bench/plot.py draws the report from its JSON (the --json file, else a
// temporary one).
absl::Status PlotIfAsked(const std::string& json_path, const nlohmann::ordered_json& report) {
  const std::string png = absl::GetFlag(FLAGS_plot);
  if (png.empty()) return absl::OkStatus();
  if (!json_path.empty()) return PlotReport(json_path, png);
  std::string temp = (std::filesystem::temp_directory_path() / "shoal-bench-XXXXXX").string();
  const int fd = mkstemp(temp.data());
  if (fd < 0) return absl::UnavailableError("--plot: cannot create a temporary file");
  close(fd);
  absl::Status status = WriteJson(temp, report);
  if (status.ok()) status = PlotReport(temp, png);
  std::filesystem::remove(temp);
  return status;
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
  nlohmann::ordered_json workload_description;
  SHOAL_ASSIGN_OR_RETURN(const std::vector<bench::RequestSpec> specs,
                         WorkloadFromFlags(model->tokenizer(), workload, workload_description));

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
  std::fprintf(stderr, "shoal bench: %s, %zu requests, workload %s, %s\n",
               target->description().c_str(), specs.size(), workload_description.dump().c_str(),
               std::isfinite(run_options.request_rate)
                   ? fmt::format("{} req/s (burstiness {}), at most {} in flight",
                                 run_options.request_rate, run_options.burstiness,
                                 run_options.concurrency)
                         .c_str()
                   : fmt::format("{} in flight", run_options.concurrency).c_str());
  const auto metrics_at = MetricsTarget(host_port, protocol);
  const std::optional<bench::MetricsSnapshot> before = Scrape(metrics_at);
  nlohmann::ordered_json report = {
      {"target", target->description()},
      {"protocol", protocol},
      {"endpoint", endpoint},
      {"model", served},
      {"workload", workload_description},
      {"load",
       {{"concurrency", run_options.concurrency},
        {"request_rate", std::isfinite(run_options.request_rate)
                             ? nlohmann::ordered_json(run_options.request_rate)
                             : nlohmann::ordered_json("inf")},
        {"burstiness", run_options.burstiness}, {"seed", run_options.seed}}}};
  if (!absl::GetFlag(FLAGS_ramp_rates).empty()) {
    SHOAL_ASSIGN_OR_RETURN(const bench::RampOptions ramp, RampOptionsFromFlags(run_options, slo));
    SHOAL_ASSIGN_OR_RETURN(const bench::RampResult result,
                           bench::RunRamp(io, *target, bench::CycleSpecs(specs), ramp, clock));
    std::printf("%s", bench::FormatRampTable(result).c_str());
    report["ramp"] = bench::ToJson(result, ramp);
  } else {
    SHOAL_ASSIGN_OR_RETURN(bench::RunResult result,
                           bench::Run(io, *target, specs, run_options, clock));
    const bench::Summary summary = bench::Summarize(result.records, slo, result.wall_seconds);
    std::printf("%s", bench::FormatTable(summary, slo).c_str());
    std::printf("load generator CPU: %.2f s over %.1f s of wall time (%.0f%% of one core)\n",
                result.loop_cpu_seconds, result.wall_seconds,
                100 * result.loop_cpu_seconds / std::max(1e-9, result.wall_seconds));
    report["summary"] = bench::ToJson(summary);
    report["load_generator_cpu_s"] = result.loop_cpu_seconds;
    report["wall_s"] = result.wall_seconds;
  }
  if (const std::optional<bench::MetricsSnapshot> after = Scrape(metrics_at); before && after) {
    const bench::MetricsDelta delta = bench::Compare(*before, *after);
    std::printf("%s", bench::FormatMetricsTable(delta).c_str());
    report["server_metrics"] = bench::ToJson(delta);
  }
  const std::string json_path = absl::GetFlag(FLAGS_json);
  if (!json_path.empty()) SHOAL_RETURN_IF_ERROR(WriteJson(json_path, report));
  return PlotIfAsked(json_path, report);
}

}  // namespace

int RunBench(const std::vector<std::string>& args) {
  return RunWithoutArguments("bench", args, Bench);
}

}  // namespace shoal::cli
