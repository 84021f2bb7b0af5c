#include "cli/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, model, "",
          "GGUF model file (default: $SHOAL_MODEL, else the Gemma 3 270M file that "
          "scripts/setup installs)");
ABSL_FLAG(bool, decode, false, "tokenize: read token ids and print the text they decode to");
ABSL_FLAG(bool, metadata, false, "info: also print every metadata key");
ABSL_FLAG(bool, tensors, false, "info: also print every tensor");
ABSL_FLAG(bool, parse_special, true,
          "tokenize: recognise special-token text such as <start_of_turn>");
ABSL_FLAG(bool, add_special, true, "tokenize: add BOS/EOS as the model's tokenizer says");
