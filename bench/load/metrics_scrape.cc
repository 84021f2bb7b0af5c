// The Prometheus text exposition format (version 0.0.4, which prometheus-cpp, vLLM's
// prometheus_client and llama-server write), and the delta between two scrapes.
#include "bench/load/metrics_scrape.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "fmt/format.h"

namespace shoal::bench {
namespace {

using Labels = std::map<std::string, std::string>;

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

void SkipBlanks(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}

// A metric or label name at the front of `s` (label names have no ':', which a
// well-formed exposition never puts there; we do not insist).
std::optional<std::string_view> TakeName(std::string_view& s) {
  if (s.empty() || !IsNameStart(s.front())) return std::nullopt;
  size_t n = 1;
  while (n < s.size() && IsNameChar(s[n])) ++n;
  const std::string_view name = s.substr(0, n);
  s.remove_prefix(n);
  return name;
}

// A quoted label value with the format's escapes (\\, \", \n); an unknown escape is
// kept as written, as Prometheus does.
std::optional<std::string> TakeQuoted(std::string_view& s) {
  if (s.empty() || s.front() != '"') return std::nullopt;
  std::string value;
  for (size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      s.remove_prefix(i + 1);
      return value;
    }
    if (c == '\\' && i + 1 < s.size()) {
      const char next = s[++i];
      if (next == 'n') {
        value += '\n';
      } else if (next == '\\' || next == '"') {
        value += next;
      } else {
        value += '\\';
        value += next;
      }
    } else {
      value += c;
    }
  }
  return std::nullopt;  // unterminated
}

// `{name="value",...}` (a trailing comma and blanks around the pieces allowed), from
// the opening brace.
bool TakeLabels(std::string_view& s, Labels* labels) {
  if (s.empty() || s.front() != '{') return false;
  s.remove_prefix(1);
  for (;;) {
    SkipBlanks(s);
    if (!s.empty() && s.front() == '}') break;
    const std::optional<std::string_view> name = TakeName(s);
    if (!name) return false;
    SkipBlanks(s);
    if (s.empty() || s.front() != '=') return false;
    s.remove_prefix(1);
    SkipBlanks(s);
    std::optional<std::string> value = TakeQuoted(s);
    if (!value) return false;
    (*labels)[std::string(*name)] = std::move(*value);
    SkipBlanks(s);
    if (!s.empty() && s.front() == ',') {
      s.remove_prefix(1);
    } else if (s.empty() || s.front() != '}') {
      return false;
    }
  }
  s.remove_prefix(1);
  return true;
}

// A sample value: a float, or +Inf / -Inf / NaN (any case, as Go's ParseFloat takes
// them). Locale-independent.
std::optional<double> ParseValue(std::string_view token) {
  if (token.size() > 1 && token.front() == '+' && token[1] != '-') token.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return value;
}

bool IsTimestamp(std::string_view token) {
  if (!token.empty() && token.front() == '-') token.remove_prefix(1);
  if (token.empty()) return false;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string SeriesKey(std::string_view name, const Labels& labels) {
  std::string key(name);
  if (labels.empty()) return key;
  key += '{';
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) key += ',';
    first = false;
    key += fmt::format("{}=\"{}\"", label, EscapeLabelValue(value));
  }
  key += '}';
  return key;
}

std::optional<std::pair<std::string, double>> ParseSample(std::string_view line) {
  std::optional<std::string_view> name = TakeName(line);
  if (!name) return std::nullopt;
  Labels labels;
  SkipBlanks(line);
  if (!line.empty() && line.front() == '{' && !TakeLabels(line, &labels)) return std::nullopt;
  SkipBlanks(line);
  const size_t value_end = line.find_first_of(" \t");
  const std::optional<double> value = ParseValue(line.substr(0, value_end));
  if (!value) return std::nullopt;
  line.remove_prefix(value_end == std::string_view::npos ? line.size() : value_end);
  SkipBlanks(line);
  if (!line.empty() && !IsTimestamp(line)) return std::nullopt;
  return std::make_pair(SeriesKey(*name, labels), *value);
}

// The series of metric `name` in `snapshot`: keys `name` and `name{...}`.
template <typename F>
void ForEachSeries(const MetricsSnapshot& snapshot, const std::string& name, F&& f) {
  for (auto it = snapshot.lower_bound(name);
       it != snapshot.end() && it->first.compare(0, name.size(), name) == 0; ++it) {
    if (it->first.size() == name.size() || it->first[name.size()] == '{') f(it->first, it->second);
  }
}

bool Has(const MetricsSnapshot& snapshot, const std::string& name) {
  bool found = false;
  ForEachSeries(snapshot, name, [&](const std::string&, double) { found = true; });
  return found;
}

// The labels of a key SeriesKey made.
Labels LabelsOf(const std::string& key) {
  Labels labels;
  std::string_view rest(key);
  const size_t brace = rest.find('{');
  if (brace == std::string_view::npos) return labels;
  rest.remove_prefix(brace);
  TakeLabels(rest, &labels);
  return labels;
}

// A router request series of the API, not of /metrics, /health or /ready: the scrapes
// around a run (and probes) are not the run's requests.
bool IsApiRequest(const std::string& series_key) {
  const std::string route = LabelsOf(series_key)["route"];
  return route != "/metrics" && route != "/health" && route != "/ready";
}

class Differ {
 public:
  Differ(const MetricsSnapshot& before, const MetricsSnapshot& after)
      : before_(before), after_(after) {}

  // The first of `names` the server exports (after the run); absent for none.
  std::optional<std::string> Pick(std::initializer_list<const char*> names) const {
    for (const char* name : names) {
      if (Has(after_, name)) return std::string(name);
    }
    return std::nullopt;
  }

  // Summed over label sets, grouped by `label` ("" = one group, ""); only the series
  // `keep` accepts, when it is given.
  using Filter = bool (*)(const std::string& series_key);
  std::optional<std::map<std::string, double>> By(std::initializer_list<const char*> names,
                                                  const std::string& label,
                                                  Filter keep = nullptr) {
    const std::optional<std::string> name = Pick(names);
    if (!name) return std::nullopt;
    std::map<std::string, double> groups;
    ForEachSeries(after_, *name, [&](const std::string& key, double value) {
      if (std::isnan(value) || (keep != nullptr && !keep(key))) return;
      const auto old = before_.find(key);
      double delta = value - (old == before_.end() ? 0.0 : old->second);
      if (delta < 0) {  // the server restarted: the counter began again from zero
        delta = value;
        reset_ = true;
      }
      groups[label.empty() ? std::string() : LabelsOf(key)[label]] += delta;
    });
    return groups;
  }

  std::optional<double> Sum(std::initializer_list<const char*> names, Filter keep = nullptr) {
    std::optional<std::map<std::string, double>> groups = By(names, "", keep);
    if (!groups) return std::nullopt;
    return groups->empty() ? 0.0 : groups->begin()->second;
  }

  std::optional<MeanDelta> Mean(const std::string& histogram) {
    const std::string sum_name = histogram + "_sum", count_name = histogram + "_count";
    const std::optional<double> sum = Sum({sum_name.c_str()});
    const std::optional<double> count = Sum({count_name.c_str()});
    if (!sum || !count) return std::nullopt;
    MeanDelta mean{.count = *count};
    if (*count > 0) mean.mean = *sum / *count;
    return mean;
  }

  bool reset() const { return reset_; }

 private:
  const MetricsSnapshot& before_;
  const MetricsSnapshot& after_;
  bool reset_ = false;
};

// Counts as integers when they are (counters usually are), other values as doubles.
nlohmann::ordered_json Number(double value) {
  if (std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 9e15) {
    return static_cast<int64_t>(value);
  }
  return value;
}

nlohmann::ordered_json OrNull(const std::optional<double>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json CountOrNull(const std::optional<double>& value) {
  return value ? Number(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json OrNull(const std::optional<MeanDelta>& value) {
  if (!value) return nullptr;
  return {{"count", Number(value->count)}, {"mean", OrNull(value->mean)}};
}

nlohmann::ordered_json OrNull(const std::optional<std::map<std::string, double>>& value) {
  if (!value) return nullptr;
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const auto& [key, count] : *value) object[key] = Number(count);
  return object;
}

void AppendRow(std::string& out, std::string_view label, std::string_view value) {
  out += fmt::format("{:<40} {}\n", label, value);
}

std::string Count(const std::optional<double>& value) {
  return value ? fmt::format("{:.0f}", *value) : "-";
}

std::string MeanText(const std::optional<MeanDelta>& value) {
  if (!value) return "-";
  if (!value->mean) return "no observations";
  return fmt::format("{:.2f} (of {:.0f})", *value->mean * 1e3, value->count);
}

std::string GroupsText(const std::optional<std::map<std::string, double>>& groups) {
  if (!groups) return "-";
  std::string text;
  for (const auto& [key, count] : *groups) {
    if (count == 0) continue;
    if (!text.empty()) text += ", ";
    text += fmt::format("{}: {:.0f}", key, count);
  }
  return text.empty() ? "none" : text;
}

}  // namespace

MetricsSnapshot ParsePrometheusText(std::string_view text) {
  MetricsSnapshot snapshot;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    SkipBlanks(line);
    if (line.empty() || line.front() == '#') continue;
    if (std::optional<std::pair<std::string, double>> sample = ParseSample(line)) {
      snapshot[std::move(sample->first)] = sample->second;
    }
  }
  return snapshot;
}

MetricsDelta Compare(const MetricsSnapshot& before, const MetricsSnapshot& after) {
  Differ differ(before, after);
  MetricsDelta delta;
  delta.prefix_cache_queries = differ.Sum({"vllm:prefix_cache_queries_total"});
  delta.prefix_cache_hits = differ.Sum({"vllm:prefix_cache_hits_total"});
  if (delta.prefix_cache_queries && delta.prefix_cache_hits && *delta.prefix_cache_queries > 0) {
    delta.prefix_cache_hit_rate = *delta.prefix_cache_hits / *delta.prefix_cache_queries;
  }
  delta.preemptions = differ.Sum({"vllm:num_preemptions_total"});
  delta.prompt_tokens = differ.Sum({"vllm:prompt_tokens_total", "llamacpp:prompt_tokens_total"});
  delta.generation_tokens =
      differ.Sum({"vllm:generation_tokens_total", "llamacpp:tokens_predicted_total"});
  delta.queue_time = differ.Mean("vllm:request_queue_time_seconds");
  delta.prefill_time = differ.Mean("vllm:request_prefill_time_seconds");
  delta.decode_time = differ.Mean("vllm:request_decode_time_seconds");
  delta.finished_by_reason = differ.By({"vllm:request_success_total"}, "finished_reason");
  delta.router_requests = differ.Sum({"shoal_router_requests_total"}, IsApiRequest);
  delta.router_requests_by_code =
      differ.By({"shoal_router_requests_total"}, "code", IsApiRequest);
  delta.counter_reset = differ.reset();
  return delta;
}

nlohmann::ordered_json ToJson(const MetricsDelta& delta) {
  return {{"prefix_cache_queries", CountOrNull(delta.prefix_cache_queries)},
          {"prefix_cache_hits", CountOrNull(delta.prefix_cache_hits)},
          {"prefix_cache_hit_rate", OrNull(delta.prefix_cache_hit_rate)},
          {"preemptions", CountOrNull(delta.preemptions)},
          {"prompt_tokens", CountOrNull(delta.prompt_tokens)},
          {"generation_tokens", CountOrNull(delta.generation_tokens)},
          {"queue_time_s", OrNull(delta.queue_time)},
          {"prefill_time_s", OrNull(delta.prefill_time)},
          {"decode_time_s", OrNull(delta.decode_time)},
          {"finished_by_reason", OrNull(delta.finished_by_reason)},
          {"router_requests", CountOrNull(delta.router_requests)},
          {"router_requests_by_code", OrNull(delta.router_requests_by_code)},
          {"counter_reset", delta.counter_reset}};
}

std::string FormatMetricsTable(const MetricsDelta& delta) {
  std::string out = fmt::format("{:-^50}\n", " Server metrics over the run ");
  std::string hit_rate = "-";
  if (delta.prefix_cache_hit_rate) {
    hit_rate = fmt::format("{:.1f}% ({:.0f} of {:.0f} tokens)", *delta.prefix_cache_hit_rate * 100,
                           *delta.prefix_cache_hits, *delta.prefix_cache_queries);
  } else if (delta.prefix_cache_queries) {
    hit_rate = "no lookups";
  }
  AppendRow(out, "Prefix cache hit rate:", hit_rate);
  AppendRow(out, "Preemptions:", Count(delta.preemptions));
  AppendRow(out, "Prompt / generated tokens:",
            fmt::format("{} / {}", Count(delta.prompt_tokens), Count(delta.generation_tokens)));
  AppendRow(out, "Mean queue time (ms):", MeanText(delta.queue_time));
  AppendRow(out, "Mean prefill time (ms):", MeanText(delta.prefill_time));
  AppendRow(out, "Mean decode time (ms):", MeanText(delta.decode_time));
  AppendRow(out, "Finished by reason:", GroupsText(delta.finished_by_reason));
  AppendRow(out, "Router requests:",
            delta.router_requests ? fmt::format("{:.0f} ({})", *delta.router_requests,
                                                GroupsText(delta.router_requests_by_code))
                                  : "-");
  if (delta.counter_reset) AppendRow(out, "Note:", "a counter went down (server restarted?)");
  return out;
}

}  // namespace shoal::bench
