// Reads the tokenizer.ggml.* keys of a GGUF file into a VocabSpec, checking their types
// and sizes; every error names the key.
#ifndef SHOAL_MODEL_TOKENIZER_VOCAB_LOADER_H_
#define SHOAL_MODEL_TOKENIZER_VOCAB_LOADER_H_

#include "absl/status/statusor.h"
#include "model/gguf/gguf_file.h"
#include "model/tokenizer/vocab_spec.h"

namespace shoal::model {

absl::StatusOr<VocabSpec> ReadVocabSpec(const GgufFile& file);

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_VOCAB_LOADER_H_
