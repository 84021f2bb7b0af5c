// The arithmetic follows vLLM's `benchmarks/serve.py` (calculate_metrics) so that a
// number from `shoal bench` means what the same number from `vllm bench serve` means.
#include "bench/load/stats.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "fmt/format.h"

namespace shoal::bench {
namespace {

std::string_view Trim(std::string_view text) {
  const auto not_space = text.find_first_not_of(" \t\r\n");
  if (not_space == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(not_space, last - not_space + 1);
}

// "2", "2s", "150ms" → seconds.
absl::StatusOr<double> ParseSeconds(std::string_view key, std::string_view text) {
  bool milliseconds = false;
  std::string_view number = text;
  if (number.size() > 2 && number.substr(number.size() - 2) == "ms") {
    milliseconds = true;
    number.remove_suffix(2);
  } else if (number.size() > 1 && number.back() == 's') {
    number.remove_suffix(1);
  }
  double value = 0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (error != std::errc() || end != number.data() + number.size() || !std::isfinite(value)) {
    return absl::InvalidArgumentError(fmt::format(
        "--slo: bad value \"{}\" for {} (want seconds, or a number with ms or s)", text, key));
  }
  if (value <= 0) {
    return absl::InvalidArgumentError(fmt::format("--slo: {} must be positive, got {}", key, text));
  }
  // Divide rather than multiply by 1e-3 so "150ms" is exactly the double 0.15.
  return milliseconds ? value / 1000 : value;
}

double* SloBound(Slo& slo, std::string_view key) {
  if (key == "ttft") return &slo.ttft;
  if (key == "tpot") return &slo.tpot;
  if (key == "e2e") return &slo.e2e;
  return nullptr;
}

// Linear interpolation between closest ranks, as numpy.percentile's default computes it
// (including its choice of endpoint for the interpolation, for bit-identical results).
double Percentile(const std::vector<double>& sorted, double percent) {
  const double index = static_cast<double>(sorted.size() - 1) * (percent / 100);
  const double below = std::floor(index);
  const size_t lo = static_cast<size_t>(below);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double t = index - below;
  const double diff = sorted[hi] - sorted[lo];
  return t >= 0.5 ? sorted[hi] - diff * (1 - t) : sorted[lo] + diff * t;
}

std::string ErrorKey(const RequestRecord& record) {
  switch (record.outcome) {
    case Outcome::kHttpError:
      return fmt::format("http {}", record.code);
    case Outcome::kGrpcError:
      return fmt::format("grpc {}", record.code);
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kDisconnect:
      return "disconnect";
    case Outcome::kOk:
      break;
  }
  return "ok";
}

bool MeetsSlo(const RequestRecord& record, const Slo& slo) {
  // A request that produced no token has no TTFT, so it cannot have met a TTFT bound.
  if (record.ttft() < 0 && std::isfinite(slo.ttft)) return false;
  return record.ttft() <= slo.ttft && record.tpot() <= slo.tpot && record.e2e() <= slo.e2e;
}

double PerSecond(double count, double duration) { return duration > 0 ? count / duration : 0; }

double RecordsDuration(const std::vector<RequestRecord>& records) {
  if (records.empty()) return 0;
  double first = records.front().start, last = records.front().end;
  for (const RequestRecord& record : records) {
    first = std::min(first, record.start);
    last = std::max(last, record.end);
  }
  return std::max(0.0, last - first);
}

// The summary of one group of records (the run, or one tenant's share of it).
Summary SummarizeGroup(const std::vector<const RequestRecord*>& records, const Slo& slo,
                       double duration) {
  Summary summary;
  summary.requests = static_cast<int64_t>(records.size());
  summary.duration = duration;
  std::vector<double> ttfts, tpots, itls, e2es;
  for (const RequestRecord* record : records) {
    if (!record->ok()) {
      ++summary.errors[ErrorKey(*record)];
      continue;
    }
    ++summary.completed;
    summary.prompt_tokens += record->prompt_tokens;
    summary.output_tokens += record->output_tokens;
    summary.cached_prompt_tokens += record->cached_prompt_tokens;
    if (record->ttft() >= 0) ttfts.push_back(record->ttft());
    if (record->output_tokens > 1 && record->ttft() >= 0) tpots.push_back(record->tpot());
    for (size_t i = 1; i < record->token_times.size(); ++i) {
      itls.push_back(record->token_times[i] - record->token_times[i - 1]);
    }
    e2es.push_back(record->e2e());
    if (MeetsSlo(*record, slo)) ++summary.good;
  }
  summary.failed = summary.requests - summary.completed;
  summary.requests_per_s = PerSecond(static_cast<double>(summary.completed), duration);
  summary.output_tokens_per_s = PerSecond(static_cast<double>(summary.output_tokens), duration);
  summary.total_tokens_per_s =
      PerSecond(static_cast<double>(summary.prompt_tokens + summary.output_tokens), duration);
  summary.goodput = PerSecond(static_cast<double>(summary.good), duration);
  summary.ttft = Distribute(std::move(ttfts));
  summary.tpot = Distribute(std::move(tpots));
  summary.itl = Distribute(std::move(itls));
  summary.e2e = Distribute(std::move(e2es));
  return summary;
}

}  // namespace

bool Slo::empty() const { return std::isinf(ttft) && std::isinf(tpot) && std::isinf(e2e); }

absl::StatusOr<Slo> ParseSlo(std::string_view text) {
  Slo slo;
  text = Trim(text);
  if (text.empty()) return slo;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view part = Trim(text.substr(0, comma));
    const size_t equals = part.find('=');
    if (equals == std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("--slo: \"{}\" is not key=value (keys: ttft, tpot, e2e)", part));
    }
    const std::string_view key = Trim(part.substr(0, equals));
    double* bound = SloBound(slo, key);
    if (bound == nullptr) {
      return absl::InvalidArgumentError(
          fmt::format("--slo: unknown key \"{}\" (keys: ttft, tpot, e2e)", key));
    }
    // Parsed bounds are finite, so a finite one was given before.
    if (std::isfinite(*bound)) {
      return absl::InvalidArgumentError(fmt::format("--slo: {} given twice", key));
    }
    absl::StatusOr<double> seconds = ParseSeconds(key, Trim(part.substr(equals + 1)));
    if (!seconds.ok()) return seconds.status();
    *bound = *seconds;
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return slo;
}

Distribution Distribute(std::vector<double> values) {
  Distribution distribution;
  if (values.empty()) return distribution;
  std::sort(values.begin(), values.end());
  distribution.count = static_cast<int64_t>(values.size());
  distribution.mean =
      std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  distribution.p50 = Percentile(values, 50);
  distribution.p90 = Percentile(values, 90);
  distribution.p95 = Percentile(values, 95);
  distribution.p99 = Percentile(values, 99);
  distribution.max = values.back();
  return distribution;
}

Summary Summarize(const std::vector<RequestRecord>& records, const Slo& slo, double duration) {
  if (duration <= 0) duration = RecordsDuration(records);
  std::vector<const RequestRecord*> all;
  std::map<std::string, std::vector<const RequestRecord*>> by_tenant;
  std::map<int32_t, std::vector<const RequestRecord*>> by_turn;
  bool any_tenant = false;
  for (const RequestRecord& record : records) {
    all.push_back(&record);
    by_tenant[record.tenant].push_back(&record);
    any_tenant = any_tenant || !record.tenant.empty();
    if (record.turn > 0) by_turn[record.turn].push_back(&record);
  }
  Summary summary = SummarizeGroup(all, slo, duration);
  if (any_tenant) {
    for (const auto& [tenant, group] : by_tenant) {
      summary.tenants.emplace(tenant, SummarizeGroup(group, slo, duration));
    }
  }
  for (const auto& [turn, group] : by_turn) {
    summary.turns.emplace(turn, SummarizeGroup(group, slo, duration));
  }
  return summary;
}

namespace {

nlohmann::ordered_json DistributionJson(const Distribution& d) {
  return {{"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90},    {"p95", d.p95},
          {"p99", d.p99},   {"max", d.max}, {"count", d.count}};
}

// Every field of ToJson but "tenants" and "turns".
nlohmann::ordered_json SummaryJson(const Summary& summary) {
  nlohmann::ordered_json json;
  json["requests"] = summary.requests;
  json["completed"] = summary.completed;
  json["failed"] = summary.failed;
  json["errors"] = nlohmann::ordered_json::object();
  for (const auto& [kind, count] : summary.errors) json["errors"][kind] = count;
  json["duration_s"] = summary.duration;
  json["prompt_tokens"] = summary.prompt_tokens;
  json["output_tokens"] = summary.output_tokens;
  json["cached_prompt_tokens"] = summary.cached_prompt_tokens;
  json["requests_per_s"] = summary.requests_per_s;
  json["output_tokens_per_s"] = summary.output_tokens_per_s;
  json["total_tokens_per_s"] = summary.total_tokens_per_s;
  json["ttft_s"] = DistributionJson(summary.ttft);
  json["tpot_s"] = DistributionJson(summary.tpot);
  json["itl_s"] = DistributionJson(summary.itl);
  json["e2e_s"] = DistributionJson(summary.e2e);
  json["good"] = summary.good;
  json["goodput_requests_per_s"] = summary.goodput;
  return json;
}

// vLLM's report layout: a 40-column label, then the value.
void AppendRow(std::string& out, std::string_view label, std::string_view value) {
  out += fmt::format("{:<40} {}\n", label, value);
}

void AppendLatency(std::string& out, std::string_view title, std::string_view name,
                   const Distribution& d) {
  out += fmt::format("{:-^50}\n", title);
  const std::pair<const char*, double> rows[] = {{"Mean", d.mean}, {"Median", d.p50},
                                                 {"P90", d.p90},   {"P95", d.p95},
                                                 {"P99", d.p99},   {"Max", d.max}};
  for (const auto& [stat, seconds] : rows) {
    AppendRow(out, fmt::format("{} {} (ms):", stat, name), fmt::format("{:.2f}", seconds * 1e3));
  }
}

std::string SloText(const Slo& slo) {
  std::string text;
  const std::pair<const char*, double> bounds[] = {
      {"ttft", slo.ttft}, {"tpot", slo.tpot}, {"e2e", slo.e2e}};
  for (const auto& [name, seconds] : bounds) {
    if (std::isinf(seconds)) continue;
    if (!text.empty()) text += ", ";
    text += fmt::format("{} <= {:g} ms", name, seconds * 1e3);
  }
  return text;
}

// Per tenant or per turn: one row per group.
template <typename Key>
void AppendGroups(std::string& out, std::string_view title, std::string_view key_name,
                  const std::map<Key, Summary>& groups) {
  constexpr std::string_view kRow = "{:<12} {:>6} {:>7} {:>8} {:>10} {:>10} {:>10} {:>10} {:>6}\n";
  out += fmt::format("{:-^50}\n", fmt::format("Per {} (latencies in ms)", title));
  out += fmt::format(kRow, key_name, "ok", "failed", "req/s", "out tok/s", "p50 TTFT", "p99 TTFT",
                     "p50 TPOT", "good");
  for (const auto& [key, s] : groups) {
    std::string label = fmt::format("{}", key);
    if (label.empty()) label = "(none)";
    out += fmt::format(
        kRow, label, s.completed, s.failed,
        fmt::format("{:.2f}", s.requests_per_s), fmt::format("{:.2f}", s.output_tokens_per_s),
        fmt::format("{:.2f}", s.ttft.p50 * 1e3), fmt::format("{:.2f}", s.ttft.p99 * 1e3),
        fmt::format("{:.2f}", s.tpot.p50 * 1e3), s.good);
  }
}

}  // namespace

nlohmann::ordered_json ToJson(const Summary& summary) {
  nlohmann::ordered_json json = SummaryJson(summary);
  json["tenants"] = nlohmann::ordered_json::object();
  for (const auto& [tenant, tenant_summary] : summary.tenants) {
    json["tenants"][tenant] = SummaryJson(tenant_summary);
  }
  json["turns"] = nlohmann::ordered_json::object();
  for (const auto& [turn, turn_summary] : summary.turns) {
    json["turns"][std::to_string(turn)] = SummaryJson(turn_summary);
  }
  return json;
}

std::string FormatTable(const Summary& summary, const Slo& slo) {
  std::string out = fmt::format("{:=^50}\n", " Serving Benchmark Result ");
  AppendRow(out, "Successful requests:", std::to_string(summary.completed));
  AppendRow(out, "Failed requests:", std::to_string(summary.failed));
  for (const auto& [kind, count] : summary.errors) {
    AppendRow(out, fmt::format("  {}:", kind), std::to_string(count));
  }
  AppendRow(out, "Benchmark duration (s):", fmt::format("{:.2f}", summary.duration));
  AppendRow(out, "Total input tokens:", std::to_string(summary.prompt_tokens));
  AppendRow(out, "Cached input tokens:", std::to_string(summary.cached_prompt_tokens));
  AppendRow(out, "Total generated tokens:", std::to_string(summary.output_tokens));
  AppendRow(out, "Request throughput (req/s):", fmt::format("{:.2f}", summary.requests_per_s));
  if (!slo.empty()) {
    AppendRow(out, "SLO:", SloText(slo));
    AppendRow(out, "Good requests (within SLO):", std::to_string(summary.good));
    AppendRow(out, "Request goodput (req/s):", fmt::format("{:.2f}", summary.goodput));
  }
  AppendRow(out,
            "Output token throughput (tok/s):", fmt::format("{:.2f}", summary.output_tokens_per_s));
  AppendRow(out,
            "Total token throughput (tok/s):", fmt::format("{:.2f}", summary.total_tokens_per_s));
  AppendLatency(out, "Time to First Token", "TTFT", summary.ttft);
  AppendLatency(out, "Time per Output Token (excl. 1st token)", "TPOT", summary.tpot);
  AppendLatency(out, "Inter-token Latency", "ITL", summary.itl);
  AppendLatency(out, "End-to-end Latency", "E2EL", summary.e2e);
  if (!summary.tenants.empty()) AppendGroups(out, "tenant", "tenant", summary.tenants);
  if (!summary.turns.empty()) AppendGroups(out, "turn", "turn", summary.turns);
  out += std::string(50, '=') + "\n";
  return out;
}

}  // namespace shoal::bench
