// The model a router serves, as the router sees it: the names clients may ask for
// (--served-model-name), the tokenizer and chat template read from the model file, and
// the turning of a public GenerateRequest into the token ids a scheduler takes. The
// weights are never touched here (the file is mapped; only its metadata is read).
//
// Immutable after Open(); any thread may use it.
#ifndef SHOAL_ROUTER_SERVED_MODEL_H_
#define SHOAL_ROUTER_SERVED_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/model_file.h"
#include "shoal/v1/inference.pb.h"
#include "shoal/v1/scheduler.pb.h"

namespace shoal::router {

// One prompt ready for a scheduler: tokenized, checked against the context, with the
// sampling parameters the scheduler takes (stop strings stay at the router).
struct PreparedPrompt {
  std::vector<int32_t> prompt_token_ids;
  v1::SamplingParams sampling;  // max_tokens always set (to what fits when absent)
  std::vector<std::string> stop_strings;
};

class ServedModel {
 public:
  // `names` are the names clients use (the first is the one responses carry); empty:
  // the file's name without its extension.
  static absl::StatusOr<std::unique_ptr<ServedModel>> Open(const std::string& path,
                                                           std::vector<std::string> names);

  // Whether `name` is one of this model's served names ("" matches: the only model).
  bool Serves(const std::string& name) const;
  const std::string& name() const { return names_.front(); }
  const std::vector<std::string>& names() const { return names_; }
  const model::ModelFile& file() const { return *file_; }
  const model::Tokenizer& tokenizer() const { return file_->tokenizer(); }
  int64_t context_length() const { return file_->config().context_length; }
  int64_t created_unix_seconds() const { return created_; }

  // The prompt's token ids: a chat rendered through the template, text tokenized (its
  // special-token text parsed, as llama.cpp and vLLM do), or ids checked against the
  // vocabulary. Then the length: prompt + max_tokens must fit in `max_model_len`
  // (max_tokens defaults to what fits). InvalidArgument naming the field at fault.
  absl::StatusOr<PreparedPrompt> Prepare(const v1::GenerateRequest& request,
                                         int64_t max_model_len) const;

  // Just the tokens of a chat or a text (TokenizeRequest semantics).
  absl::StatusOr<std::vector<int32_t>> EncodeChat(const v1::ChatInput& chat) const;

 private:
  ServedModel() = default;

  std::unique_ptr<model::ModelFile> file_;
  std::vector<std::string> names_;
  int64_t created_ = 0;
};

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_SERVED_MODEL_H_
