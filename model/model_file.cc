#include "model/model_file.h"

#include "absl/memory/memory.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "model/tensor_layout.h"

namespace shoal::model {
namespace {

// The text a template sees as bos_token / eos_token: the token's piece with special
// tokens rendered (llama.cpp's common_token_to_piece(..., special=true)); empty when
// the vocabulary has no such token.
absl::StatusOr<std::string> SpecialTokenText(const Tokenizer& tokenizer, int32_t id) {
  if (!tokenizer.IsValid(id)) return std::string();
  SHOAL_ASSIGN_OR_RETURN(std::string_view piece, tokenizer.TokenToPiece(id, /*special=*/true));
  return std::string(piece);
}

absl::Status LoadChatTemplate(const GgufFile& gguf, const Tokenizer& tokenizer,
                              std::optional<ChatTemplate>& chat_template,
                              ChatTemplateSource& source) {
  SHOAL_ASSIGN_OR_RETURN(std::string bos, SpecialTokenText(tokenizer, tokenizer.bos_id()));
  SHOAL_ASSIGN_OR_RETURN(std::string eos, SpecialTokenText(tokenizer, tokenizer.eos_id()));
  if (gguf.FindValue("tokenizer.chat_template") != nullptr) {
    SHOAL_ASSIGN_OR_RETURN(std::string_view text, gguf.GetString("tokenizer.chat_template"));
    absl::StatusOr<ChatTemplate> parsed = ChatTemplate::Parse(text, bos, eos);
    SHOAL_RETURN_IF_ERROR(Annotate(parsed.status(), "tokenizer.chat_template"));
    chat_template.emplace(*std::move(parsed));
    source = ChatTemplateSource::kFile;
    return absl::OkStatus();
  }
  SHOAL_ASSIGN_OR_RETURN(std::string_view arch, gguf.GetString("general.architecture"));
  absl::StatusOr<ChatTemplate> builtin = ChatTemplate::BuiltinFor(arch, bos, eos);
  if (absl::IsNotFound(builtin.status())) return absl::OkStatus();
  SHOAL_RETURN_IF_ERROR(builtin.status());
  chat_template.emplace(*std::move(builtin));
  source = ChatTemplateSource::kBuiltin;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModelFile>> ModelFile::Open(const std::string& path) {
  auto model = absl::WrapUnique(new ModelFile());
  SHOAL_ASSIGN_OR_RETURN(model->gguf_, GgufFile::Open(path));
  const GgufFile& gguf = *model->gguf_;
  auto context = [&](std::string_view what) { return fmt::format("{}: {}", path, what); };
  absl::StatusOr<ModelConfig> config = ModelConfig::FromGguf(gguf);
  SHOAL_RETURN_IF_ERROR(Annotate(config.status(), path));
  model->config_ = *std::move(config);
  SHOAL_RETURN_IF_ERROR(Annotate(CheckTensors(model->config_, gguf), path));
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = Tokenizer::FromGguf(gguf);
  SHOAL_RETURN_IF_ERROR(Annotate(tokenizer.status(), context("vocabulary")));
  model->tokenizer_ = *std::move(tokenizer);
  if (model->tokenizer_->vocab_size() != model->config_.n_vocab) {
    return absl::InvalidArgumentError(
        context(fmt::format("the vocabulary has {} tokens but token_embd.weight has {} rows",
                            model->tokenizer_->vocab_size(), model->config_.n_vocab)));
  }
  SHOAL_RETURN_IF_ERROR(Annotate(LoadChatTemplate(gguf, *model->tokenizer_, model->chat_template_,
                                                  model->chat_template_source_),
                                 path));
  return model;
}

absl::StatusOr<std::string> ModelFile::RenderChat(const ChatTemplateInputs& inputs) const {
  if (!chat_template_) {
    return absl::FailedPreconditionError(
        "this model has no chat template and its architecture has no built-in one");
  }
  SHOAL_ASSIGN_OR_RETURN(std::string prompt, chat_template_->Render(inputs));
  const std::string& bos = chat_template_->bos_token();
  const std::string& eos = chat_template_->eos_token();
  if (tokenizer_->add_bos() && !bos.empty() && prompt.starts_with(bos)) prompt.erase(0, bos.size());
  if (tokenizer_->add_eos() && !eos.empty() && prompt.ends_with(eos)) {
    prompt.resize(prompt.size() - eos.size());
  }
  return prompt;
}

absl::StatusOr<std::vector<int32_t>> ModelFile::EncodeChat(const ChatTemplateInputs& inputs) const {
  SHOAL_ASSIGN_OR_RETURN(std::string prompt, RenderChat(inputs));
  return tokenizer_->Encode(prompt, {.add_special = true, .parse_special = true});
}

}  // namespace shoal::model
