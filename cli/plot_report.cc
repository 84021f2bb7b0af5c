#include "cli/plot_report.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "fmt/format.h"

extern char** environ;

namespace shoal::cli {
namespace {

namespace fs = std::filesystem;

std::string FromEnv(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// Where the running binary lives (empty when /proc does not say).
fs::path ExecutableDir() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : exe.parent_path();
}

bool IsFile(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

std::string FindScript() {
  if (std::string script = FromEnv("SHOAL_PLOT_SCRIPT"); !script.empty()) return script;
  const fs::path dir = ExecutableDir();
  if (dir.empty()) return "";
  for (const fs::path& candidate : {dir / "../../bench/plot.py", dir / "../share/shoal/plot.py"}) {
    if (IsFile(candidate)) return fs::weakly_canonical(candidate).string();
  }
  return "";
}

std::string FindPython(const fs::path& script) {
  if (std::string python = FromEnv("SHOAL_PYTHON"); !python.empty()) return python;
  // bench/plot.py -> the tree's .venv, where scripts/setup puts matplotlib.
  const fs::path venv = script.parent_path().parent_path() / ".venv/bin/python";
  if (IsFile(venv)) return venv.string();
  return "python3";
}

}  // namespace

absl::Status PlotReport(const std::string& json_path, const std::string& png_path) {
  const std::string script = FindScript();
  if (script.empty()) {
    return absl::FailedPreconditionError(
        "--plot: bench/plot.py not found beside this binary; set SHOAL_PLOT_SCRIPT to it");
  }
  const std::string python = FindPython(script);
  std::vector<std::string> words = {python, script, json_path, "--out", png_path};
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  // posix_spawnp: the child's stdout would mix with the report table, so both of its
  // streams go where ours go and it prints one line ("wrote FILE").
  if (const int error = posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ);
      error != 0) {
    return absl::FailedPreconditionError(
        fmt::format("--plot: cannot start {}: {}", python, std::strerror(error)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return absl::InternalError("--plot: lost the plotting process");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(fmt::format(
        "--plot: {} {} failed (exit {}); the report is in {}", python, script,
        WIFEXITED(status) ? WEXITSTATUS(status) : -1, json_path));
  }
  return absl::OkStatus();
}

}  // namespace shoal::cli
