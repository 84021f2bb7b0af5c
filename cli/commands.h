// The `shoal` subcommands. Each takes the positional arguments left after flag
// parsing (the subcommand name removed) and returns the process exit code.
#ifndef SHOAL_CLI_COMMANDS_H_
#define SHOAL_CLI_COMMANDS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace shoal::cli {

// For commands without positional arguments: 2 (with a message) when there are some,
// else `body`'s status as the exit code (1 with "shoal NAME: message" on an error).
int RunWithoutArguments(const char* name, const std::vector<std::string>& args,
                        const std::function<absl::Status()>& body);

int RunInfo(const std::vector<std::string>& args);
int RunTokenize(const std::vector<std::string>& args);
int RunRun(const std::vector<std::string>& args);
int RunScheduler(const std::vector<std::string>& args);
int RunSelftest(const std::vector<std::string>& args);
int RunServe(const std::vector<std::string>& args);
int RunRouter(const std::vector<std::string>& args);
int RunBench(const std::vector<std::string>& args);

}  // namespace shoal::cli

#endif  // SHOAL_CLI_COMMANDS_H_
