// Command-line flags of the `shoal` binary. Only cli/ defines flags; it maps them onto
// the libraries' config structs. The names follow DESIGN.md's command table.
#ifndef SHOAL_CLI_FLAGS_H_
#define SHOAL_CLI_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(bool, decode);
ABSL_DECLARE_FLAG(bool, metadata);
ABSL_DECLARE_FLAG(bool, tensors);
ABSL_DECLARE_FLAG(bool, parse_special);
ABSL_DECLARE_FLAG(bool, add_special);

#endif  // SHOAL_CLI_FLAGS_H_
