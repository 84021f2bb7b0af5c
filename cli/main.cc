// shoal: the single binary for every role (DESIGN.md's command table).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "kernels/cpu_features.h"

namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  std::vector<std::string_view> flags;  // the flags this command accepts
  int (*run)(const std::vector<std::string>& args);
};

using FlagList = std::vector<std::string_view>;

// Flag groups that several commands share: the engine's (scheduler, serve) and the
// front door's (router, serve).
// clang-format off
const FlagList kEngineFlags = {
    "threads", "device", "bf16_weights", "gpu_memory_fraction", "interleave_weights",
    "max_num_batched_tokens", "max_num_seqs", "long_prefill_token_threshold", "max_waiting",
    "block_size", "enable_prefix_caching", "kv_memory_fraction", "max_kv_blocks"};
const FlagList kFrontDoorFlags = {
    "model", "host", "port", "grpc_port", "served_model_name", "http_threads",
    "max_connections", "max_request_bytes", "http_request_timeout_seconds",
    "http_write_timeout_seconds", "sse_keepalive_seconds", "api_keys",
    "cache_salt_secret_file"};
const FlagList kServerFlags = {"drain_seconds", "log_format", "log_level"};
// clang-format on

FlagList Join(std::initializer_list<FlagList> groups) {
  FlagList all;
  for (const FlagList& group : groups) all.insert(all.end(), group.begin(), group.end());
  return all;
}

const std::vector<Command>& Commands() {
  // clang-format off
  static const std::vector<Command> commands = {
      {"info",
       "inspect a model: shoal info [--model FILE] [--metadata] [--tensors]",
       {"model", "metadata", "tensors"},
       shoal::cli::RunInfo},
      {"tokenize",
       "text to token ids (argument or stdin): shoal tokenize [--model FILE] [--decode] [TEXT]",
       {"model", "decode", "parse_special", "add_special"},
       shoal::cli::RunTokenize},
      {"run",
       "one generation: shoal run [--model FILE] --prompt TEXT [--chat] [-n N] [--threads T] "
       "[--temperature T] [--top_k K] [--top_p P] [--min_p P] [--seed S] [--device cpu|cuda:K]",
       {"model", "prompt", "chat", "n", "threads", "device", "bf16_weights", "interleave_weights",
        "ignore_eos", "temperature", "top_k", "top_p", "min_p", "repetition_penalty",
        "presence_penalty", "frequency_penalty", "seed"},
       shoal::cli::RunRun},
      {"scheduler",
       "one model replica's engine as a gRPC service: shoal scheduler [--model FILE] "
       "[--host H] [--port P] [--metrics-port M] [--world 1] [--threads T] [--device cpu|cuda:K]",
       Join({{"model", "host", "port", "metrics_port", "world"}, kEngineFlags, kServerFlags}),
       shoal::cli::RunScheduler},
      {"serve",
       "router, scheduler and worker in one process, the OpenAI HTTP API on --port and the "
       "gRPC API on --grpc-port: shoal serve [--model FILE] [--host H] [--port P] "
       "[--grpc-port G] [--threads T] [--served-model-name NAMES]",
       Join({kFrontDoorFlags, kEngineFlags, kServerFlags}),
       shoal::cli::RunServe},
      {"router",
       "the front door alone, in front of shoal scheduler processes: shoal router --scheduler "
       "HOST:PORT [--scheduler ...] [--model FILE] [--host H] [--port P] [--grpc-port G]",
       Join({{"scheduler"}, kFrontDoorFlags, kServerFlags}),
       shoal::cli::RunRouter},
      {"bench",
       "load generator (OpenAI HTTP with SSE, or gRPC): shoal bench --target HOST:PORT "
       "--protocol http|grpc [--concurrency C] [--request-rate R] [--num-requests N] [--json F] "
       "[--plot F.png]",
       {"target", "protocol", "endpoint", "model", "served_model_name", "concurrency",
        "request_rate", "burstiness", "constant_arrivals", "num_requests", "duration",
        "input_len", "output_len", "range_ratio", "prefix_len", "stop_at_eos", "slo", "json",
        "plot", "request_timeout_seconds", "seed", "metrics_target", "metrics_path",
        "ramp_rates", "stage_seconds", "min_good_fraction", "max_error_fraction", "workload",
        "dataset_path", "agents", "turns", "system_prompt_len", "tools", "tool_len",
        "user_turn_len", "assistant_turn_len", "tenants"},
       shoal::cli::RunBench},
      {"selftest",
       "every op and whole-model forwards on a backend against the CPU reference: "
       "shoal selftest --backend cuda [--device-index K] [--models A.gguf,B.gguf] [--seed S]",
       {"backend", "device_index", "models", "threads", "seed"},
       shoal::cli::RunSelftest},
  };
  // clang-format on
  return commands;
}

void PrintUsage() {
  std::fprintf(stderr, "usage: shoal COMMAND [flags]\n\ncommands:\n");
  for (const Command& command : Commands()) {
    std::fprintf(stderr, "  %-10.*s %.*s\n", static_cast<int>(command.name.size()),
                 command.name.data(), static_cast<int>(command.summary.size()),
                 command.summary.data());
  }
  std::fprintf(stderr,
               "\nshoal COMMAND --help lists the command's flags. SHOAL_CPU_LEVEL=scalar|avx2|"
               "avx512|avx512-vnni caps the CPU kernels' instruction set.\n");
}

bool AsksForHelp(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpshort") return true;
  }
  return false;
}

// `shoal COMMAND --help`: the command's usage and its own flags. absl's --help would
// match flags by the file defining them (all in cli/flags.cc) and list none.
void PrintCommandHelp(const Command& command) {
  // A summary reads "what it does: shoal COMMAND [flags...]".
  std::string_view what = command.summary;
  std::string usage = "shoal " + std::string(command.name) + " [flags]";
  if (const size_t at = what.find(": shoal "); at != std::string_view::npos) {
    usage = what.substr(at + 2);
    what = what.substr(0, at);
  }
  std::printf("usage: %s\n%.*s\n\nflags (--a_b and --a-b are the same flag):\n", usage.c_str(),
              static_cast<int>(what.size()), what.data());
  const std::string prefix = std::string(command.name) + ": ";
  for (std::string_view name : command.flags) {
    // absl::string_view is not std::string_view in Debian's Abseil.
    const absl::CommandLineFlag* flag =
        absl::FindCommandLineFlag(absl::string_view(name.data(), name.size()));
    if (flag == nullptr) continue;
    std::string help = flag->Help();
    // "run: the prompt text" under `shoal run --help` says the obvious.
    if (help.starts_with(prefix)) help.erase(0, prefix.size());
    std::string default_value = flag->DefaultValue();
    if (default_value.empty()) default_value = "\"\"";
    std::printf("  --%.*s (default: %s)\n      %s\n", static_cast<int>(name.size()), name.data(),
                default_value.c_str(), help.c_str());
  }
}

// SHOAL_CPU_LEVEL caps the kernels' instruction set (to compare paths, or to rule one
// out); the library never reads the environment, so it is applied here, before any
// kernel runs. False, with the message printed, for a value that is no level.
bool ApplyCpuLevelCap() {
  const char* value = std::getenv("SHOAL_CPU_LEVEL");
  if (value == nullptr) return true;
  const absl::StatusOr<shoal::kernels::CpuLevel> level = shoal::kernels::ParseCpuLevel(value);
  if (!level.ok()) {
    std::fprintf(stderr, "shoal: SHOAL_CPU_LEVEL: %s\n",
                 std::string(level.status().message()).c_str());
    return false;
  }
  shoal::kernels::SetMaxCpuLevel(*level);
  return true;
}

// Flags are global to the binary; a command rejects the ones that are not its own so
// a misplaced flag is an error rather than silently ignored.
bool OnlyOwnFlags(const Command& command, int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    // Flags are -name or --name (absl takes both); anything else, such as a value or a
    // negative number, is skipped.
    if (!arg.starts_with("-") || arg.starts_with("--help")) continue;
    arg.remove_prefix(arg.starts_with("--") ? 2 : 1);
    if (arg.empty() || !std::isalpha(static_cast<unsigned char>(arg[0]))) continue;
    const std::string_view name = arg.substr(0, arg.find('='));
    bool known = false;
    for (std::string_view flag : command.flags) {
      known |= name == flag || (name.starts_with("no") && name.substr(2) == flag);  // --noflag
    }
    if (!known) {
      std::fprintf(stderr, "shoal %.*s: unknown flag --%.*s\n",
                   static_cast<int>(command.name.size()), command.name.data(),
                   static_cast<int>(name.size()), name.data());
      return false;
    }
  }
  return true;
}

}  // namespace

namespace shoal::cli {

int RunWithoutArguments(const char* name, const std::vector<std::string>& args,
                        const std::function<absl::Status()>& body) {
  if (!args.empty()) {
    std::fprintf(stderr, "shoal %s: unexpected argument '%s'\n", name, args[0].c_str());
    return 2;
  }
  const absl::Status status = body();
  if (!status.ok()) {
    std::fprintf(stderr, "shoal %s: %s\n", name, std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace shoal::cli

// DESIGN.md spells flags with hyphens (--max-num-seqs); absl's names use underscores.
// Rewrites the name part of every --flag-name[=value] so both spellings work.
void NormalizeFlagNames(int argc, char** argv, std::vector<std::string>& storage) {
  storage.reserve(argc);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (!arg.starts_with("--")) continue;
    std::string fixed(arg);
    const size_t end = std::min(fixed.find('='), fixed.size());
    std::replace(fixed.begin() + 2, fixed.begin() + static_cast<std::ptrdiff_t>(end), '-', '_');
    storage.push_back(std::move(fixed));
    argv[i] = storage.back().data();
  }
}

// `--scheduler A --scheduler B` lists replicas; absl keeps only the last occurrence of a
// flag, so the values are joined into one `--scheduler=A,B` before parsing.
std::vector<char*> JoinRepeatedSchedulerFlags(int argc, char** argv, std::string& joined) {
  std::vector<char*> out;
  std::vector<std::string> values;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--scheduler" && i + 1 < argc) {
      values.emplace_back(argv[++i]);
    } else if (arg.starts_with("--scheduler=")) {
      values.emplace_back(arg.substr(12));
    } else {
      out.push_back(argv[i]);
    }
  }
  if (!values.empty()) {
    joined = "--scheduler=";
    for (size_t k = 0; k < values.size(); ++k) joined += (k ? "," : "") + values[k];
    out.push_back(joined.data());
  }
  return out;
}

int main(int argc, char** argv) {
  if (!ApplyCpuLevelCap()) return 2;
  std::vector<std::string> normalized;
  NormalizeFlagNames(argc, argv, normalized);
  std::string joined_schedulers;
  std::vector<char*> args = JoinRepeatedSchedulerFlags(argc, argv, joined_schedulers);
  argc = static_cast<int>(args.size());
  argv = args.data();
  absl::SetProgramUsageMessage("shoal COMMAND [flags]: LLM serving (see README.md)");
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "help") {
    PrintUsage();
    return argc < 2 ? 2 : 0;
  }
  for (const Command& command : Commands()) {
    if (command.name != argv[1]) continue;
    if (AsksForHelp(argc, argv)) {
      PrintCommandHelp(command);
      return 0;
    }
    if (!OnlyOwnFlags(command, argc, argv)) return 2;
    // Parse with the command name as argv[0] so usage messages name it.
    std::vector<char*> command_argv(argv + 1, argv + argc);
    std::vector<char*> positional =
        absl::ParseCommandLine(static_cast<int>(command_argv.size()), command_argv.data());
    return command.run(std::vector<std::string>(positional.begin() + 1, positional.end()));
  }
  std::fprintf(stderr, "shoal: unknown command '%s'\n\n", argv[1]);
  PrintUsage();
  return 2;
}
