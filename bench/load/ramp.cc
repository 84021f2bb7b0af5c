#include "bench/load/ramp.h"

#include <cmath>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "bench/load/runner.h"
#include "fmt/format.h"

namespace shoal::bench {
namespace {

int64_t StageRequests(const RampOptions& options, double rate) {
  if (options.stage_requests > 0) return options.stage_requests;
  const double n = std::ceil(rate * absl::ToDoubleSeconds(options.stage_duration) - 1e-9);
  return std::max<int64_t>(1, static_cast<int64_t>(n));
}

// The stage's bound: its arrivals' expected span, then the drain timeout.
absl::Duration StageDeadline(const RampOptions& options, double rate, int64_t num_requests) {
  return absl::Seconds(static_cast<double>(num_requests) / rate) + options.drain_timeout;
}

std::string Percent(double fraction) { return fmt::format("{:.1f}%", fraction * 100); }

absl::StatusOr<RampStage> RunStage(boost::asio::io_context& io, Target& target,
                                   const StageSpecsFactory& factory, const RampOptions& options,
                                   const RunClock& clock, size_t index) {
  const double rate = options.rates[index];
  RampStage stage{.rate = rate, .num_requests = StageRequests(options, rate)};
  absl::StatusOr<std::vector<RequestSpec>> specs = factory(index, stage.num_requests);
  if (!specs.ok()) return specs.status();
  if (specs->empty()) {
    return absl::InvalidArgumentError(fmt::format("stage {} of the ramp has no requests", index));
  }
  stage.num_requests = static_cast<int64_t>(specs->size());
  const RunOptions run{.concurrency = options.concurrency,
                       .request_rate = rate,
                       .burstiness = options.burstiness,
                       .constant_arrivals = options.constant_arrivals,
                       .seed = options.seed + index,
                       .duration = StageDeadline(options, rate, stage.num_requests),
                       .progress = options.progress,
                       .progress_is_terminal = options.progress_is_terminal};
  absl::StatusOr<RunResult> result = Run(io, target, *specs, run, clock);
  if (!result.ok()) return result.status();
  stage.summary = Summarize(result->records, options.slo, result->wall_seconds);
  // Requests never sent because the deadline came first count as sent and failed.
  stage.num_requests = std::max<int64_t>(stage.num_requests, stage.summary.requests);
  const int64_t unsent = stage.num_requests - stage.summary.requests;
  if (unsent > 0) {
    stage.summary.failed += unsent;
    stage.summary.errors["not sent"] += unsent;
    stage.summary.requests += unsent;
  }
  const Summary& s = stage.summary;
  stage.good_fraction = s.completed > 0 ? static_cast<double>(s.good) / s.completed : 0;
  stage.error_fraction = s.requests > 0 ? static_cast<double>(s.failed) / s.requests : 0;
  stage.reason = JudgeStage(s, options);
  stage.held = stage.reason.empty();
  stage.wall_seconds = result->wall_seconds;
  stage.loop_cpu_seconds = result->loop_cpu_seconds;
  return stage;
}

}  // namespace

absl::Status RampOptions::Validate() const {
  if (rates.empty()) return absl::InvalidArgumentError("a ramp needs at least one rate");
  for (size_t i = 0; i < rates.size(); ++i) {
    if (!std::isfinite(rates[i]) || rates[i] <= 0) {
      return absl::InvalidArgumentError(
          fmt::format("ramp rates must be finite and > 0, got {}", rates[i]));
    }
    if (i > 0 && rates[i] <= rates[i - 1]) {
      return absl::InvalidArgumentError(fmt::format(
          "ramp rates must be strictly ascending, got {} after {}", rates[i], rates[i - 1]));
    }
  }
  if (stage_requests < 0) return absl::InvalidArgumentError("stage requests must be >= 0");
  if (stage_requests == 0 && stage_duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("a ramp stage needs a duration > 0 or a request count");
  }
  if (drain_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the ramp's drain timeout must be > 0");
  }
  if (!(min_good_fraction > 0 && min_good_fraction <= 1)) {
    return absl::InvalidArgumentError("min_good_fraction must be in (0, 1]");
  }
  if (!(max_error_fraction >= 0 && max_error_fraction < 1)) {
    return absl::InvalidArgumentError("max_error_fraction must be in [0, 1)");
  }
  if (concurrency < 0) return absl::InvalidArgumentError("--concurrency must be >= 0");
  if (!(burstiness > 0)) return absl::InvalidArgumentError("--burstiness must be > 0");
  return absl::OkStatus();
}

StageSpecsFactory CycleSpecs(std::vector<RequestSpec> specs) {
  auto pool = std::make_shared<const std::vector<RequestSpec>>(std::move(specs));
  auto next = std::make_shared<size_t>(0);
  return [pool, next](size_t, int64_t num_requests) -> absl::StatusOr<std::vector<RequestSpec>> {
    if (pool->empty()) return absl::InvalidArgumentError("the ramp's workload has no requests");
    std::vector<RequestSpec> stage;
    stage.reserve(static_cast<size_t>(num_requests));
    for (int64_t i = 0; i < num_requests; ++i) {
      stage.push_back((*pool)[*next]);
      stage.back().index = i;
      *next = (*next + 1) % pool->size();
    }
    return stage;
  };
}

std::string JudgeStage(const Summary& summary, const RampOptions& options) {
  const double error_fraction =
      summary.requests > 0 ? static_cast<double>(summary.failed) / summary.requests : 0;
  if (error_fraction > options.max_error_fraction) {
    return fmt::format("{} of requests failed (more than {})", Percent(error_fraction),
                       Percent(options.max_error_fraction));
  }
  if (summary.completed == 0) return "no request completed";
  const double good_fraction = static_cast<double>(summary.good) / summary.completed;
  if (good_fraction < options.min_good_fraction) {
    return fmt::format("{} of completed requests within the SLO (fewer than {})",
                       Percent(good_fraction), Percent(options.min_good_fraction));
  }
  return "";
}

absl::StatusOr<RampResult> RunRamp(boost::asio::io_context& io, Target& target,
                                   const StageSpecsFactory& specs, const RampOptions& options,
                                   const RunClock& clock) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  RampResult ramp;
  for (size_t i = 0; i < options.rates.size(); ++i) {
    absl::StatusOr<RampStage> stage = RunStage(io, target, specs, options, clock, i);
    if (!stage.ok()) return stage.status();
    if (options.progress != nullptr) {
      std::fprintf(options.progress, "ramp stage %zu/%zu at %g req/s: %s\n", i + 1,
                   options.rates.size(), stage->rate,
                   stage->held ? "held" : fmt::format("broke: {}", stage->reason).c_str());
      std::fflush(options.progress);
    }
    const bool held = stage->held;
    ramp.stages.push_back(std::move(*stage));
    if (!held) return ramp;
    ramp.highest_rate_held = options.rates[i];
  }
  ramp.all_held = true;
  return ramp;
}

nlohmann::ordered_json ToJson(const RampResult& result, const RampOptions& options) {
  nlohmann::ordered_json stages = nlohmann::ordered_json::array();
  for (const RampStage& stage : result.stages) {
    stages.push_back({{"rate", stage.rate},
                      {"num_requests", stage.num_requests},
                      {"held", stage.held},
                      {"reason", stage.reason},
                      {"good_fraction", stage.good_fraction},
                      {"error_fraction", stage.error_fraction},
                      {"wall_s", stage.wall_seconds},
                      {"load_generator_cpu_s", stage.loop_cpu_seconds},
                      {"summary", ToJson(stage.summary)}});
  }
  return {{"rates", options.rates},
          {"min_good_fraction", options.min_good_fraction},
          {"max_error_fraction", options.max_error_fraction},
          {"highest_rate_held", result.highest_rate_held
                                    ? nlohmann::ordered_json(*result.highest_rate_held)
                                    : nlohmann::ordered_json(nullptr)},
          {"all_held", result.all_held},
          {"stages", std::move(stages)}};
}

std::string FormatRampTable(const RampResult& result) {
  std::string out = fmt::format("{:=^100}\n", " Rate ramp ");
  out += fmt::format("{:>9} {:>8} {:>9} {:>7} {:>10} {:>10} {:>9} {:>9}  {}\n", "req/s", "sent",
                     "goodput", "good", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99", "verdict");
  for (const RampStage& stage : result.stages) {
    const Summary& s = stage.summary;
    out += fmt::format(
        "{:>9.2f} {:>8} {:>9.2f} {:>7} {:>8.1f}ms {:>8.1f}ms {:>7.2f}ms "
        "{:>7.2f}ms  {}\n",
        stage.rate, stage.num_requests, s.goodput, Percent(stage.good_fraction), s.ttft.p50 * 1e3,
        s.ttft.p99 * 1e3, s.tpot.p50 * 1e3, s.tpot.p99 * 1e3,
        stage.held ? "held" : "broke: " + stage.reason);
  }
  out += result.highest_rate_held
             ? fmt::format("Highest rate that held: {:g} req/s{}\n", *result.highest_rate_held,
                           result.all_held ? " (every rate held)" : "")
             : "No rate held: the first stage broke.\n";
  out += std::string(100, '=') + "\n";
  return out;
}

}  // namespace shoal::bench
