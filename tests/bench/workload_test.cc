// The workloads of `shoal bench` beyond random prompts, with the real Gemma 3 tokenizer:
// the agent workload's exact prompt structure (a history that extends turn by turn
// behind one system message every agent shares, tool definitions as JSON text, lengths
// as asked, token counts as the tokenizer counts them); ShareGPT files (a JSON array
// and JSON lines) with vLLM's filters and clear errors; a tenant mix in exact
// proportions.
#include "bench/load/workload.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/load/agent_workload.h"
#include "bench/load/sharegpt_workload.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/model_file.h"
#include "nlohmann/json.hpp"
#include "tests/support/model_files.h"
#include "tests/support/status_matchers.h"

namespace shoal::bench {
namespace {

using ::shoal::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Messages = std::vector<std::pair<std::string, std::string>>;

// The Gemma 3 tokenizer, loaded once for the whole file.
const model::Tokenizer& Gemma() {
  static const model::ModelFile* const file = [] {
    absl::StatusOr<std::unique_ptr<model::ModelFile>> opened =
        model::ModelFile::Open(shoal::testing::Gemma3Path());
    EXPECT_TRUE(opened.ok()) << opened.status();
    return opened.ok() ? opened->release() : nullptr;
  }();
  if (file == nullptr) std::abort();
  return file->tokenizer();
}

int64_t Tokens(const std::string& text) {
  return static_cast<int64_t>(Gemma().Encode(text, {.add_special = false}).size());
}

// ---------------------------------------------------------------------------------
// Agent workload.

AgentWorkloadOptions SmallAgents() {
  return {.num_agents = 3,
          .turns = 4,
          .system_prompt_len = 300,
          .num_tools = 3,
          .tool_len = 100,
          .user_turn_len = 20,
          .assistant_turn_len = 40,
          .output_len = 16,
          .seed = 5};
}

TEST(AgentWorkloadTest, TurnsExtendTheirHistoryBehindOneSharedSystemMessage) {
  ASSERT_OK_AND_ASSIGN(const std::vector<RequestSpec> specs,
                       MakeAgentWorkload(Gemma(), SmallAgents()));
  ASSERT_EQ(specs.size(), 12u);
  const std::string& system = specs[0].messages.at(0).second;
  for (size_t i = 0; i < specs.size(); ++i) {
    const RequestSpec& spec = specs[i];
    SCOPED_TRACE(::testing::Message() << "spec " << i);
    // Turn-major: every agent's turn 1, then every agent's turn 2, ...
    EXPECT_EQ(spec.index, static_cast<int64_t>(i));
    EXPECT_EQ(spec.session, static_cast<int64_t>(i % 3));
    EXPECT_EQ(spec.turn, static_cast<int32_t>(i / 3 + 1));
    EXPECT_EQ(spec.after, i < 3 ? -1 : static_cast<int64_t>(i) - 3);
    EXPECT_EQ(spec.max_tokens, 16);
    EXPECT_TRUE(spec.ignore_eos);
    // system, (user, assistant) * (turn - 1), user.
    ASSERT_EQ(spec.messages.size(), static_cast<size_t>(2 * spec.turn));
    EXPECT_EQ(spec.messages[0], std::make_pair(std::string("system"), system));
    for (size_t m = 1; m < spec.messages.size(); ++m) {
      EXPECT_EQ(spec.messages[m].first, m % 2 == 1 ? "user" : "assistant");
      EXPECT_FALSE(spec.messages[m].second.empty());
    }
    // The completion prompt is the messages' text, and its tokens are the tokenizer's.
    EXPECT_EQ(spec.prompt_text, ChatAsText(spec.messages));
    EXPECT_EQ(spec.prompt_token_ids, Gemma().Encode(spec.prompt_text));
    EXPECT_EQ(spec.prompt_token_ids.front(), Gemma().bos_id());
    EXPECT_EQ(spec.prompt_tokens, static_cast<int32_t>(spec.prompt_token_ids.size()));
    if (spec.after < 0) continue;
    // Turn k = turn k-1's messages + one assistant answer + one user message; its text
    // and its tokens extend turn k-1's (what a prefix cache reuses).
    const RequestSpec& previous = specs[spec.after];
    EXPECT_EQ(previous.session, spec.session);
    EXPECT_EQ(previous.turn + 1, spec.turn);
    ASSERT_EQ(previous.messages.size() + 2, spec.messages.size());
    EXPECT_TRUE(
        std::equal(previous.messages.begin(), previous.messages.end(), spec.messages.begin()));
    EXPECT_TRUE(spec.prompt_text.starts_with(previous.prompt_text));
    ASSERT_LT(previous.prompt_token_ids.size(), spec.prompt_token_ids.size());
    EXPECT_TRUE(std::equal(previous.prompt_token_ids.begin(), previous.prompt_token_ids.end(),
                           spec.prompt_token_ids.begin()));
  }
  // The agents' own turns differ.
  EXPECT_NE(specs[0].messages[1].second, specs[1].messages[1].second);
  EXPECT_NE(specs[3].messages[2].second, specs[4].messages[2].second);
}

TEST(AgentWorkloadTest, TheChatTextHasOneLabelledParagraphPerMessage) {
  EXPECT_EQ(
      ChatAsText(
          {{"system", "Be brief."}, {"user", "Hi there"}, {"assistant", "Hello"}, {"user", "Bye"}}),
      "System: Be brief.\n\nUser: Hi there\n\nAssistant: Hello\n\nUser: Bye\n\nAssistant:");
  EXPECT_EQ(ChatAsText({{"tool", "42"}}), "tool: 42\n\nAssistant:");
}

TEST(AgentWorkloadTest, LengthsFollowTheOptions) {
  ASSERT_OK_AND_ASSIGN(const std::vector<RequestSpec> specs,
                       MakeAgentWorkload(Gemma(), SmallAgents()));
  const std::string& system = specs[0].messages[0].second;
  const size_t tools_at = system.find("\n\n# Tools\n\n");
  ASSERT_NE(tools_at, std::string::npos);
  // Words of one token each (the first, without its space, may take two).
  const int64_t prompt = Tokens(system.substr(0, tools_at));
  EXPECT_GE(prompt, 300);
  EXPECT_LE(prompt, 302);
  // The tools: one JSON function definition a line after the instructions.
  std::vector<std::string> lines;
  std::string line;
  for (std::istringstream in(system.substr(tools_at)); std::getline(in, line);) {
    if (line.starts_with("{\"type\"")) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 3u);
  std::set<std::string> names;
  for (const std::string& tool_text : lines) {
    const nlohmann::json tool = nlohmann::json::parse(tool_text, nullptr, false);
    ASSERT_TRUE(tool.is_object()) << tool_text;
    EXPECT_EQ(tool["type"], "function");
    names.insert(tool["function"]["name"].get<std::string>());
    EXPECT_FALSE(tool["function"]["description"].get<std::string>().empty());
    EXPECT_EQ(tool["function"]["parameters"]["properties"].size(), 2u);
    EXPECT_GE(Tokens(tool_text), 98) << tool_text;
    EXPECT_LE(Tokens(tool_text), 104) << tool_text;
  }
  EXPECT_EQ(names.size(), 3u);
  // User and assistant turns.
  for (const RequestSpec& spec : specs) {
    for (size_t m = 1; m < spec.messages.size(); ++m) {
      const int64_t want = m % 2 == 1 ? 20 : 40;
      EXPECT_GE(Tokens(spec.messages[m].second), want) << spec.messages[m].second;
      EXPECT_LE(Tokens(spec.messages[m].second), want + 2) << spec.messages[m].second;
    }
  }
  // Each turn adds one answer, one user turn and their labels.
  for (size_t i = 3; i < specs.size(); ++i) {
    const int64_t growth = specs[i].prompt_tokens - specs[i - 3].prompt_tokens;
    EXPECT_GE(growth, 40 + 20);
    EXPECT_LE(growth, 40 + 20 + 10);
  }
}

TEST(AgentWorkloadTest, WithoutToolsOrSystemPromptTheMessagesSaySo) {
  AgentWorkloadOptions options = SmallAgents();
  options.num_tools = 0;
  ASSERT_OK_AND_ASSIGN(std::vector<RequestSpec> specs, MakeAgentWorkload(Gemma(), options));
  EXPECT_EQ(specs[0].messages[0].first, "system");
  EXPECT_EQ(specs[0].messages[0].second.find("Tools"), std::string::npos);
  options.system_prompt_len = 0;
  ASSERT_OK_AND_ASSIGN(specs, MakeAgentWorkload(Gemma(), options));
  ASSERT_EQ(specs[0].messages.size(), 1u);
  EXPECT_EQ(specs[0].messages[0].first, "user");
}

TEST(AgentWorkloadTest, TheSeedMakesTheWorkload) {
  ASSERT_OK_AND_ASSIGN(const std::vector<RequestSpec> a, MakeAgentWorkload(Gemma(), SmallAgents()));
  ASSERT_OK_AND_ASSIGN(const std::vector<RequestSpec> b, MakeAgentWorkload(Gemma(), SmallAgents()));
  AgentWorkloadOptions other = SmallAgents();
  other.seed = 6;
  ASSERT_OK_AND_ASSIGN(const std::vector<RequestSpec> c, MakeAgentWorkload(Gemma(), other));
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].messages, b[i].messages);
    EXPECT_EQ(a[i].prompt_token_ids, b[i].prompt_token_ids);
  }
  EXPECT_NE(a[0].messages[0].second, c[0].messages[0].second);
  EXPECT_NE(a.back().prompt_text, c.back().prompt_text);
}

TEST(AgentWorkloadTest, BadOptionsAreRefused) {
  for (auto change : std::vector<void (*)(AgentWorkloadOptions&)>{
           [](AgentWorkloadOptions& o) { o.num_agents = 0; },
           [](AgentWorkloadOptions& o) { o.turns = 0; },
           [](AgentWorkloadOptions& o) { o.system_prompt_len = -1; },
           [](AgentWorkloadOptions& o) { o.num_tools = -1; },
           [](AgentWorkloadOptions& o) { o.tool_len = 0; },
           [](AgentWorkloadOptions& o) { o.user_turn_len = 0; },
           [](AgentWorkloadOptions& o) { o.assistant_turn_len = 0; },
           [](AgentWorkloadOptions& o) { o.output_len = 0; }}) {
    AgentWorkloadOptions options = SmallAgents();
    change(options);
    EXPECT_THAT(MakeAgentWorkload(Gemma(), options),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be")));
  }
}

// ---------------------------------------------------------------------------------
// ShareGPT.

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::path(::testing::TempDir()) / name).string();
  std::ofstream(path) << text;
  return path;
}

nlohmann::json Entry(const std::vector<std::pair<std::string, std::string>>& turns) {
  nlohmann::json conversations = nlohmann::json::array();
  for (const auto& [from, value] : turns)
    conversations.push_back({{"from", from}, {"value", value}});
  return {{"id", "x"}, {"conversations", std::move(conversations)}};
}

const std::string kLongAnswer = [] {
  std::string text;
  for (int i = 0; i < 200; ++i) text += " and then";
  return text;
}();

// Three usable entries (one behind a system turn, one with an answer longer than
// max_output_len) and four that are skipped.
std::vector<nlohmann::json> Entries() {
  return {
      Entry({{"human", "What is the capital of France?"}, {"gpt", "Paris is the capital."}}),
      Entry({{"system", "Be helpful."},
             {"human", "Name three colours please"},
             {"gpt", "Red, green and blue."},
             {"human", "More?"},
             {"gpt", "Yellow."}}),
      Entry({{"human", "Write a long list of words for me"}, {"gpt", kLongAnswer}}),
      Entry({{"human", "Only a question without any answer"}}),         // no answer
      Entry({{"human", "Hi"}, {"gpt", "Hello! How can I help you?"}}),  // prompt < 4 tokens
      Entry({{"human", kLongAnswer}, {"gpt", "Yes."}}),                 // prompt too long
      {{"id", "y"}, {"conversations", "not a list"}},
  };
}

ShareGptOptions SmallShareGpt() { return {.seed = 3, .max_prompt_len = 64, .max_output_len = 100}; }

TEST(ShareGptWorkloadTest, AJsonArrayGivesTheFirstExchangeOfEachUsableEntry) {
  const std::string path = WriteFile("sharegpt.json", nlohmann::json(Entries()).dump(2));
  ASSERT_OK_AND_ASSIGN(const std::vector<RequestSpec> specs,
                       LoadShareGptWorkload(Gemma(), path, SmallShareGpt()));
  ASSERT_EQ(specs.size(), 3u);
  const std::map<std::string, std::string> answers = {
      {"What is the capital of France?", "Paris is the capital."},
      {"Name three colours please", "Red, green and blue."},
      {"Write a long list of words for me", kLongAnswer}};
  std::set<std::string> prompts;
  for (size_t i = 0; i < specs.size(); ++i) {
    const RequestSpec& spec = specs[i];
    EXPECT_EQ(spec.index, static_cast<int64_t>(i));
    ASSERT_TRUE(answers.contains(spec.prompt_text)) << spec.prompt_text;
    prompts.insert(spec.prompt_text);
    EXPECT_EQ(spec.messages, (Messages{{"user", spec.prompt_text}}));
    EXPECT_EQ(spec.prompt_token_ids, Gemma().Encode(spec.prompt_text));
    EXPECT_EQ(spec.prompt_tokens, static_cast<int32_t>(spec.prompt_token_ids.size()));
    const int64_t answer = Tokens(answers.at(spec.prompt_text));
    EXPECT_EQ(spec.max_tokens, std::min<int64_t>(answer, 100));
    EXPECT_EQ(spec.session, -1);
    EXPECT_EQ(spec.after, -1);
  }
  EXPECT_EQ(prompts.size(), 3u);
  EXPECT_GT(Tokens(kLongAnswer), 100) << "the long answer is clamped";
}

TEST(ShareGptWorkloadTest, JsonLinesGiveTheSameWorkload) {
  std::string lines;
  for (const nlohmann::json& entry : Entries()) lines += entry.dump() + "\n\n";
  const std::string jsonl = WriteFile("sharegpt.jsonl", lines);
  const std::string array = WriteFile("sharegpt2.json", nlohmann::json(Entries()).dump());
  ASSERT_OK_AND_ASSIGN(const std::vector<RequestSpec> from_lines,
                       LoadShareGptWorkload(Gemma(), jsonl, SmallShareGpt()));
  ASSERT_OK_AND_ASSIGN(const std::vector<RequestSpec> from_array,
                       LoadShareGptWorkload(Gemma(), array, SmallShareGpt()));
  ASSERT_EQ(from_lines.size(), 3u);
  ASSERT_EQ(from_array.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(from_lines[i].prompt_text, from_array[i].prompt_text);
    EXPECT_EQ(from_lines[i].max_tokens, from_array[i].max_tokens);
  }
}

TEST(ShareGptWorkloadTest, TheSeedShufflesAndNumRequestsTakesTheFirst) {
  std::vector<nlohmann::json> entries;
  for (int i = 0; i < 30; ++i) {
    entries.push_back(Entry({{"human", "Question number " + std::to_string(i) + " is about cats"},
                             {"gpt", "An answer."}}));
  }
  const std::string path = WriteFile("sharegpt30.json", nlohmann::json(entries).dump());
  auto order = [&](uint64_t seed, int64_t n) {
    ShareGptOptions options = SmallShareGpt();
    options.seed = seed;
    options.num_requests = n;
    std::vector<std::string> prompts;
    absl::StatusOr<std::vector<RequestSpec>> specs = LoadShareGptWorkload(Gemma(), path, options);
    EXPECT_TRUE(specs.ok()) << specs.status();
    if (specs.ok()) {
      for (const RequestSpec& spec : *specs) prompts.push_back(spec.prompt_text);
    }
    return prompts;
  };
  const std::vector<std::string> all = order(1, 0);
  ASSERT_EQ(all.size(), 30u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 30u);
  EXPECT_EQ(order(1, 0), all);
  EXPECT_NE(order(2, 0), all);
  const std::vector<std::string> first = order(1, 7);
  EXPECT_EQ(first, std::vector<std::string>(all.begin(), all.begin() + 7));
  EXPECT_NE(all[0], "Question number 0 is about cats") << "shuffled, not in file order";
}

TEST(ShareGptWorkloadTest, BadFilesAreClearErrors) {
  const ShareGptOptions options = SmallShareGpt();
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), "/nonexistent/sharegpt.json", options),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/sharegpt.json")));
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), ::testing::TempDir(), options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a file")));
  const std::string garbled = WriteFile("garbled.json", R"([{"conversations": [}])");
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), garbled, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(garbled), HasSubstr("not valid JSON"))));
  const std::string bad_line = WriteFile(
      "garbled.jsonl", Entries()[0].dump() + "\n{\"conversations\": [\n" + Entries()[1].dump());
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), bad_line, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(bad_line + ":2"), HasSubstr("not a JSON line"))));
  const std::string not_objects = WriteFile("numbers.json", "[" + Entries()[0].dump() + ", 7]");
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), not_objects, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("entry 1 is not an object")));
  const std::string empty = WriteFile("empty.json", "  \n");
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), empty, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  const std::string text = WriteFile("text.json", "hello");
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), text, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a JSON array")));
}

TEST(ShareGptWorkloadTest, TooFewUsableEntriesIsAnError) {
  const std::string path = WriteFile("sharegpt3.json", nlohmann::json(Entries()).dump());
  ShareGptOptions options = SmallShareGpt();
  options.num_requests = 4;
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), path, options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("3 of the 5 prompts")));
  const std::string none =
      WriteFile("sharegpt0.json", nlohmann::json::array({Entries()[3], Entries()[4]}).dump());
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), none, SmallShareGpt()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("0 of the 1 prompts")));
}

TEST(ShareGptWorkloadTest, BadOptionsAreRefused) {
  const std::string path = WriteFile("sharegpt4.json", nlohmann::json(Entries()).dump());
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), path, {.num_requests = -1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--num-requests")));
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), path, {.max_prompt_len = 3}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max-prompt-len")));
  EXPECT_THAT(LoadShareGptWorkload(Gemma(), path, {.max_output_len = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max-output-len")));
}

// ---------------------------------------------------------------------------------
// Tenants.

TEST(TenantTest, ParsesNamesKeysAndWeights) {
  ASSERT_OK_AND_ASSIGN(const std::vector<Tenant> tenants,
                       ParseTenants("gold:sk-gold:3, free:sk-free:0.5,anon:,batch:sk-b"));
  ASSERT_EQ(tenants.size(), 4u);
  EXPECT_EQ(tenants[0].name, "gold");
  EXPECT_EQ(tenants[0].api_key, "sk-gold");
  EXPECT_EQ(tenants[0].weight, 3);
  EXPECT_EQ(tenants[1].name, "free");
  EXPECT_EQ(tenants[1].weight, 0.5);
  EXPECT_EQ(tenants[2].name, "anon");
  EXPECT_EQ(tenants[2].api_key, "");
  EXPECT_EQ(tenants[2].weight, 1);
  EXPECT_EQ(tenants[3].api_key, "sk-b");
  EXPECT_EQ(TotalWeight(tenants), 5.5);
}

TEST(TenantTest, BadMixesAreRefused) {
  for (const char* text : {"", " , ", "gold", ":sk:1", "gold:sk:0", "gold:sk:-2", "gold:sk:x",
                           "gold:sk:inf", "gold:sk:nan", "gold:sk:1:2", "a:k1:1,a:k2:1"}) {
    EXPECT_THAT(ParseTenants(text),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tenants")))
        << text;
  }
}

std::map<std::string, int> CountTenants(const std::vector<RequestSpec>& specs,
                                        const std::vector<Tenant>& tenants) {
  std::map<std::string, int> counts;
  for (const RequestSpec& spec : specs) {
    ++counts[spec.tenant];
    const auto tenant = std::find_if(tenants.begin(), tenants.end(),
                                     [&](const Tenant& t) { return t.name == spec.tenant; });
    EXPECT_NE(tenant, tenants.end()) << spec.tenant;
    if (tenant != tenants.end()) {
      EXPECT_EQ(spec.api_key, tenant->api_key);
    }
  }
  return counts;
}

std::vector<RequestSpec> Independent(int n) {
  std::vector<RequestSpec> specs(n);
  for (int i = 0; i < n; ++i) specs[i].index = i;
  return specs;
}

TEST(TenantTest, RequestsAreSplitInExactProportionToTheWeights) {
  ASSERT_OK_AND_ASSIGN(const std::vector<Tenant> tenants, ParseTenants("a:ka:3,b:kb:1"));
  std::vector<RequestSpec> specs = Independent(100);
  ASSERT_OK(AssignTenants(specs, tenants, 1));
  EXPECT_EQ(CountTenants(specs, tenants), (std::map<std::string, int>{{"a", 75}, {"b", 25}}));
  // Shuffled by the seed, not in blocks: b appears among the first 20.
  EXPECT_TRUE(std::any_of(specs.begin(), specs.begin() + 20,
                          [](const RequestSpec& s) { return s.tenant == "b"; }));
  std::vector<RequestSpec> same = Independent(100), other = Independent(100);
  ASSERT_OK(AssignTenants(same, tenants, 1));
  ASSERT_OK(AssignTenants(other, tenants, 2));
  auto labels = [](const std::vector<RequestSpec>& s) {
    std::vector<std::string> out;
    for (const RequestSpec& spec : s) out.push_back(spec.tenant);
    return out;
  };
  EXPECT_EQ(labels(same), labels(specs));
  EXPECT_NE(labels(other), labels(specs));
  EXPECT_EQ(CountTenants(other, tenants), (std::map<std::string, int>{{"a", 75}, {"b", 25}}));
}

TEST(TenantTest, RemaindersGoToTheLargestFractionsThenTheEarliest) {
  ASSERT_OK_AND_ASSIGN(const std::vector<Tenant> even, ParseTenants("a:1,b:2,c:3"));
  std::vector<RequestSpec> specs = Independent(10);
  ASSERT_OK(AssignTenants(specs, even, 9));
  EXPECT_EQ(CountTenants(specs, even), (std::map<std::string, int>{{"a", 4}, {"b", 3}, {"c", 3}}));
  // 7 * (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4: floors 3, 2, 1, the last one to a (0.5).
  ASSERT_OK_AND_ASSIGN(const std::vector<Tenant> weighted, ParseTenants("a:1:5,b:2:3,c:3:2"));
  specs = Independent(7);
  ASSERT_OK(AssignTenants(specs, weighted, 9));
  EXPECT_EQ(CountTenants(specs, weighted),
            (std::map<std::string, int>{{"a", 4}, {"b", 2}, {"c", 1}}));
}

TEST(TenantTest, AllTurnsOfASessionGoToOneTenant) {
  ASSERT_OK_AND_ASSIGN(const std::vector<Tenant> tenants, ParseTenants("a:ka:1,b:kb:1"));
  ASSERT_OK_AND_ASSIGN(std::vector<RequestSpec> specs,
                       MakeAgentWorkload(Gemma(), {.num_agents = 8,
                                                   .turns = 3,
                                                   .system_prompt_len = 10,
                                                   .num_tools = 0,
                                                   .user_turn_len = 4,
                                                   .assistant_turn_len = 4,
                                                   .output_len = 4}));
  specs.push_back(Independent(1)[0]);  // and one spec of no session
  specs.back().index = static_cast<int64_t>(specs.size()) - 1;
  ASSERT_OK(AssignTenants(specs, tenants, 4));
  std::map<int64_t, std::string> tenant_of_session;
  for (const RequestSpec& spec : specs) {
    if (spec.session < 0) continue;
    const auto [it, added] = tenant_of_session.emplace(spec.session, spec.tenant);
    EXPECT_EQ(it->second, spec.tenant) << "session " << spec.session;
  }
  ASSERT_EQ(tenant_of_session.size(), 8u);
  // 9 units (8 sessions and the lone spec) split 1:1 = 5 and 4 (a first on the tie).
  std::map<std::string, int> units;
  for (const auto& [session, tenant] : tenant_of_session) ++units[tenant];
  ++units[specs.back().tenant];
  EXPECT_EQ(units, (std::map<std::string, int>{{"a", 5}, {"b", 4}}));
}

TEST(TenantTest, NoTenantsIsAnError) {
  std::vector<RequestSpec> specs = Independent(3);
  EXPECT_THAT(AssignTenants(specs, {}, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no tenants")));
}

// ---------------------------------------------------------------------------------
// Words.

TEST(WordSamplerTest, WordsAreOrdinaryAndCountAsOneTokenEach) {
  ASSERT_OK_AND_ASSIGN(const WordSampler words, WordSampler::Create(Gemma()));
  std::mt19937_64 rng(11);
  const std::string text = words.Words(500, rng);
  EXPECT_NE(text.front(), ' ');
  EXPECT_EQ(std::count(text.begin(), text.end(), ' '), 499);
  EXPECT_TRUE(std::all_of(text.begin(), text.end(),
                          [](unsigned char c) { return c == ' ' || std::isalpha(c) != 0; }));
  const std::vector<int32_t> ids = Gemma().Encode(text, {.add_special = false});
  EXPECT_GE(ids.size(), 500u);
  EXPECT_LE(ids.size(), 505u);
  for (const int32_t id : ids) EXPECT_FALSE(Gemma().IsControl(id));
  EXPECT_EQ(words.Words(0, rng), "");
}

}  // namespace
}  // namespace shoal::bench
