// A model file opened for use: the GGUF mapping, its config (checked against the
// tensors), its tokenizer, and its chat template (the file's own, else the built-in
// one for its architecture). This is what the router (tokenizer, template), the
// scheduler (config) and the workers (weights) each load.
#ifndef SHOAL_MODEL_MODEL_FILE_H_
#define SHOAL_MODEL_MODEL_FILE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/chat_template.h"
#include "model/gguf/gguf_file.h"
#include "model/model_config.h"
#include "model/tokenizer/tokenizer.h"

namespace shoal::model {

enum class ChatTemplateSource {
  kNone,     // the file has none and the architecture has no built-in one
  kFile,     // tokenizer.chat_template
  kBuiltin,  // the architecture's built-in template (the file has none)
};

// Immutable after Open(); safe to use from any thread.
class ModelFile {
 public:
  // Opens and validates the file: metadata, tensor shapes and types, vocabulary, and
  // chat template must all be usable, else a clear error naming what is wrong.
  static absl::StatusOr<std::unique_ptr<ModelFile>> Open(const std::string& path);

  const GgufFile& gguf() const { return *gguf_; }
  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  // Null when chat_template_source() is kNone.
  const ChatTemplate* chat_template() const { return chat_template_ ? &*chat_template_ : nullptr; }
  ChatTemplateSource chat_template_source() const { return chat_template_source_; }

  // A conversation rendered with the chat template and tokenized as llama.cpp does:
  // the template's BOS text is dropped when the tokenizer adds BOS itself (Gemma's
  // template writes "<bos>", which must not become a second BOS), and so is a trailing
  // EOS text when it adds EOS; special-token text in the result becomes special tokens.
  absl::StatusOr<std::vector<int32_t>> EncodeChat(const ChatTemplateInputs& inputs) const;

  // The rendered prompt text of EncodeChat, after the BOS/EOS adjustment.
  absl::StatusOr<std::string> RenderChat(const ChatTemplateInputs& inputs) const;

 private:
  ModelFile() = default;

  std::unique_ptr<GgufFile> gguf_;
  ModelConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::optional<ChatTemplate> chat_template_;
  ChatTemplateSource chat_template_source_ = ChatTemplateSource::kNone;
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_MODEL_FILE_H_
