#include "bench/load/agent_workload.h"

#include <algorithm>
#include <random>

#include "bench/load/workload.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"

namespace shoal::bench {
namespace {

using Messages = std::vector<std::pair<std::string, std::string>>;

int64_t CountTokens(const model::Tokenizer& tokenizer, const std::string& text) {
  return static_cast<int64_t>(tokenizer.Encode(text, {.add_special = false}).size());
}

// One OpenAI-style function definition of about `len` tokens of JSON: a name, two
// parameters with short descriptions, and a description that makes up the rest.
std::string ToolDefinition(const model::Tokenizer& tokenizer, const WordSampler& words, int32_t len,
                           std::mt19937_64& rng) {
  const std::string first = words.Word(rng);
  std::string second = words.Word(rng);
  while (second == first) second = words.Word(rng);
  std::string name = words.Word(rng);
  name += '_';
  name += words.Word(rng);
  const int32_t param_words = std::max(1, len / 8);
  nlohmann::ordered_json properties = {
      {first, {{"type", "string"}, {"description", words.Words(param_words, rng)}}},
      {second, {{"type", "integer"}, {"description", words.Words(param_words, rng)}}}};
  nlohmann::ordered_json tool = {{"type", "function"},
                                 {"function",
                                  {{"name", name},
                                   {"description", ""},
                                   {"parameters",
                                    {{"type", "object"},
                                     {"properties", std::move(properties)},
                                     {"required", nlohmann::ordered_json::array({first})}}}}}};
  const int64_t structure = CountTokens(tokenizer, tool.dump());
  const auto description = static_cast<int32_t>(std::max<int64_t>(1, len - structure));
  tool["function"]["description"] = words.Words(description, rng);
  return tool.dump();
}

// The system message every agent shares: the system prompt, then the tools.
std::string SystemMessage(const model::Tokenizer& tokenizer, const WordSampler& words,
                          const AgentWorkloadOptions& options, std::mt19937_64& rng) {
  std::string text = words.Words(options.system_prompt_len, rng);
  if (options.num_tools == 0) return text;
  if (!text.empty()) text += "\n\n";
  text +=
      "# Tools\n\nYou may call one of these functions by answering with a JSON object "
      "{\"name\": NAME, \"arguments\": {...}}:\n";
  for (int32_t i = 0; i < options.num_tools; ++i) {
    text += '\n';
    text += ToolDefinition(tokenizer, words, options.tool_len, rng);
  }
  return text;
}

// One agent's pre-written conversation: user turns 1..turns, assistant turns
// 1..turns-1 (the last answer is the server's).
struct Conversation {
  std::vector<std::string> user, assistant;
};

Conversation MakeConversation(const WordSampler& words, const AgentWorkloadOptions& options,
                              std::mt19937_64& rng) {
  Conversation conversation;
  for (int32_t k = 0; k < options.turns; ++k) {
    conversation.user.push_back(words.Words(options.user_turn_len, rng));
    if (k + 1 < options.turns) {
      conversation.assistant.push_back(words.Words(options.assistant_turn_len, rng));
    }
  }
  return conversation;
}

}  // namespace

absl::Status AgentWorkloadOptions::Validate() const {
  if (num_agents < 1) return absl::InvalidArgumentError("--agents must be >= 1");
  if (turns < 1) return absl::InvalidArgumentError("--turns must be >= 1");
  if (system_prompt_len < 0) return absl::InvalidArgumentError("--system-prompt-len must be >= 0");
  if (num_tools < 0) return absl::InvalidArgumentError("--tools must be >= 0");
  if (num_tools > 0 && tool_len < 1) return absl::InvalidArgumentError("--tool-len must be >= 1");
  if (user_turn_len < 1 || assistant_turn_len < 1 || output_len < 1) {
    return absl::InvalidArgumentError(
        "--user-turn-len, --assistant-turn-len and --output-len must be >= 1");
  }
  return absl::OkStatus();
}

std::string ChatAsText(const Messages& messages) {
  std::string text;
  for (const auto& [role, content] : messages) {
    const std::string label = role == "system"      ? "System"
                              : role == "user"      ? "User"
                              : role == "assistant" ? "Assistant"
                                                    : role;
    text += fmt::format("{}: {}\n\n", label, content);
  }
  text += "Assistant:";
  return text;
}

absl::StatusOr<std::vector<RequestSpec>> MakeAgentWorkload(const model::Tokenizer& tokenizer,
                                                           const AgentWorkloadOptions& options) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  absl::StatusOr<WordSampler> words = WordSampler::Create(tokenizer);
  if (!words.ok()) return words.status();
  std::mt19937_64 rng(options.seed);
  const std::string system = SystemMessage(tokenizer, *words, options, rng);
  std::vector<Conversation> conversations;
  for (int32_t a = 0; a < options.num_agents; ++a) {
    conversations.push_back(MakeConversation(*words, options, rng));
  }

  std::vector<RequestSpec> specs;
  specs.reserve(static_cast<size_t>(options.num_agents) * options.turns);
  for (int32_t k = 0; k < options.turns; ++k) {
    for (int32_t a = 0; a < options.num_agents; ++a) {
      const Conversation& conversation = conversations[a];
      RequestSpec spec;
      spec.index = static_cast<int64_t>(specs.size());
      spec.session = a;
      spec.turn = k + 1;
      spec.after = k == 0 ? -1 : spec.index - options.num_agents;
      if (!system.empty()) spec.messages.emplace_back("system", system);
      for (int32_t j = 0; j < k; ++j) {
        spec.messages.emplace_back("user", conversation.user[j]);
        spec.messages.emplace_back("assistant", conversation.assistant[j]);
      }
      spec.messages.emplace_back("user", conversation.user[k]);
      spec.prompt_text = ChatAsText(spec.messages);
      spec.prompt_token_ids = tokenizer.Encode(spec.prompt_text);
      spec.prompt_tokens = static_cast<int32_t>(spec.prompt_token_ids.size());
      spec.max_tokens = options.output_len;
      spec.ignore_eos = options.ignore_eos;
      specs.push_back(std::move(spec));
    }
  }
  return specs;
}

}  // namespace shoal::bench
