// The `shoal` subcommands. Each takes the positional arguments left after flag
// parsing (the subcommand name removed) and returns the process exit code.
#ifndef SHOAL_CLI_COMMANDS_H_
#define SHOAL_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace shoal::cli {

int RunInfo(const std::vector<std::string>& args);
int RunTokenize(const std::vector<std::string>& args);
int RunRun(const std::vector<std::string>& args);
int RunScheduler(const std::vector<std::string>& args);
int RunSelftest(const std::vector<std::string>& args);
int RunServe(const std::vector<std::string>& args);
int RunRouter(const std::vector<std::string>& args);

}  // namespace shoal::cli

#endif  // SHOAL_CLI_COMMANDS_H_
