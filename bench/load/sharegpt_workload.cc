#include "bench/load/sharegpt_workload.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <utility>

#include "fmt/format.h"
#include "nlohmann/json.hpp"

namespace shoal::bench {
namespace {

using Json = nlohmann::json;

constexpr int32_t kMinPromptLen = 4;  // vLLM's filter

// A prompt and the answer it got.
struct Exchange {
  std::string prompt, answer;
};

bool IsHuman(const std::string& from) { return from == "human" || from == "user"; }
bool IsGpt(const std::string& from) {
  return from == "gpt" || from == "assistant" || from == "chatgpt" || from == "bing";
}

// The turn's speaker and text, when it is {"from": string, "value": string}.
std::optional<std::pair<std::string, std::string>> TurnOf(const Json& turn) {
  if (!turn.is_object()) return std::nullopt;
  const auto from = turn.find("from");
  const auto value = turn.find("value");
  if (from == turn.end() || value == turn.end() || !from->is_string() || !value->is_string()) {
    return std::nullopt;
  }
  return std::make_pair(from->get<std::string>(), value->get<std::string>());
}

// The entry's first human turn that a gpt turn follows.
std::optional<Exchange> FirstExchange(const Json& entry) {
  const auto conversations = entry.find("conversations");
  if (conversations == entry.end() || !conversations->is_array()) return std::nullopt;
  for (size_t i = 0; i + 1 < conversations->size(); ++i) {
    const auto human = TurnOf((*conversations)[i]);
    if (!human || !IsHuman(human->first)) continue;
    const auto gpt = TurnOf((*conversations)[i + 1]);
    if (gpt && IsGpt(gpt->first)) return Exchange{human->second, gpt->second};
  }
  return std::nullopt;
}

// Takes one entry of the file; `where` names it in an error.
absl::Status AddEntry(const Json& entry, const std::string& where,
                      std::vector<Exchange>& exchanges) {
  if (!entry.is_object()) {
    return absl::InvalidArgumentError(
        fmt::format("{} is not an object with \"conversations\"", where));
  }
  if (std::optional<Exchange> exchange = FirstExchange(entry)) {
    exchanges.push_back(std::move(*exchange));
  }
  return absl::OkStatus();
}

// A JSON array, parsed an entry at a time (each discarded once taken: the dataset's
// file is hundreds of megabytes).
absl::Status ReadArray(std::istream& in, const std::string& path,
                       std::vector<Exchange>& exchanges) {
  absl::Status status;
  int64_t entries = 0;
  const Json::parser_callback_t take = [&](int depth, Json::parse_event_t event, Json& parsed) {
    // Depth 1 is an element of the top-level array ending (a scalar is a "value").
    if (depth != 1 ||
        (event != Json::parse_event_t::object_end && event != Json::parse_event_t::array_end &&
         event != Json::parse_event_t::value)) {
      return true;
    }
    if (status.ok())
      status = AddEntry(parsed, fmt::format("{}: entry {}", path, entries), exchanges);
    ++entries;
    return false;
  };
  try {
    if (!Json::parse(in, take).is_array()) {
      return absl::InvalidArgumentError(fmt::format("{} is not a JSON array", path));
    }
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(fmt::format("{} is not valid JSON: {}", path, e.what()));
  }
  return status;
}

absl::Status ReadLines(std::istream& in, const std::string& path,
                       std::vector<Exchange>& exchanges) {
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json entry;
    try {
      entry = Json::parse(line);
    } catch (const Json::exception& e) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{} is not a JSON line: {}", path, number, e.what()));
    }
    if (absl::Status status = AddEntry(entry, fmt::format("{}:{}", path, number), exchanges);
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Exchange>> ReadExchanges(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(fmt::format("no ShareGPT file at {}", path));
  }
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::InvalidArgumentError(fmt::format("{} is not a file", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(fmt::format("cannot read {}", path));
  in >> std::ws;
  const int first = in.peek();
  std::vector<Exchange> exchanges;
  absl::Status status;
  if (first == '[') {
    status = ReadArray(in, path, exchanges);
  } else if (first == '{') {
    status = ReadLines(in, path, exchanges);
  } else {
    return absl::InvalidArgumentError(
        fmt::format("{} is {}, not a JSON array or JSON lines of {{\"conversations\": [...]}}",
                    path, first == std::char_traits<char>::eof() ? "empty" : "something else"));
  }
  if (!status.ok()) return status;
  return exchanges;
}

}  // namespace

absl::Status ShareGptOptions::Validate() const {
  if (num_requests < 0) return absl::InvalidArgumentError("--num-requests must be >= 0");
  if (max_prompt_len < kMinPromptLen) {
    return absl::InvalidArgumentError(fmt::format("--max-prompt-len must be >= {}", kMinPromptLen));
  }
  if (max_output_len < 1) return absl::InvalidArgumentError("--max-output-len must be >= 1");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RequestSpec>> LoadShareGptWorkload(const model::Tokenizer& tokenizer,
                                                              const std::string& path,
                                                              const ShareGptOptions& options) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  absl::StatusOr<std::vector<Exchange>> exchanges = ReadExchanges(path);
  if (!exchanges.ok()) return exchanges.status();
  std::mt19937_64 rng(options.seed);
  std::shuffle(exchanges->begin(), exchanges->end(), rng);

  std::vector<RequestSpec> specs;
  for (Exchange& exchange : *exchanges) {
    if (options.num_requests > 0 && static_cast<int64_t>(specs.size()) >= options.num_requests) {
      break;
    }
    std::vector<int32_t> ids = tokenizer.Encode(exchange.prompt);
    if (ids.size() < kMinPromptLen || ids.size() > static_cast<size_t>(options.max_prompt_len)) {
      continue;
    }
    const auto answer_len =
        static_cast<int64_t>(tokenizer.Encode(exchange.answer, {.add_special = false}).size());
    RequestSpec spec;
    spec.index = static_cast<int64_t>(specs.size());
    spec.prompt_tokens = static_cast<int32_t>(ids.size());
    spec.prompt_token_ids = std::move(ids);
    spec.messages.emplace_back("user", exchange.prompt);
    spec.prompt_text = std::move(exchange.prompt);
    spec.max_tokens =
        static_cast<int32_t>(std::clamp<int64_t>(answer_len, 1, options.max_output_len));
    spec.ignore_eos = options.ignore_eos;
    specs.push_back(std::move(spec));
  }
  if (specs.empty() || static_cast<int64_t>(specs.size()) < options.num_requests) {
    return absl::FailedPreconditionError(fmt::format(
        "{}: {} of the {} prompts with an answer have {} to {} tokens; {} requests were "
        "asked for",
        path, specs.size(), exchanges->size(), kMinPromptLen, options.max_prompt_len,
        options.num_requests > 0 ? fmt::format("{}", options.num_requests) : "at least 1"));
  }
  return specs;
}

}  // namespace shoal::bench
