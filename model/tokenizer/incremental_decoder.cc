#include "common/status_macros.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/unicode.h"

namespace shoal::model {

absl::Status IncrementalDecoder::Append(int32_t id, std::string* out) {
  SHOAL_ASSIGN_OR_RETURN(std::string_view piece, tokenizer_.TokenToPiece(id, special_));
  pending_.append(piece);
  const size_t complete = CompleteUtf8Prefix(pending_);
  AppendValidUtf8(std::string_view(pending_).substr(0, complete), out);
  pending_.erase(0, complete);
  return absl::OkStatus();
}

void IncrementalDecoder::Finish(std::string* out) {
  AppendValidUtf8(pending_, out);
  pending_.clear();
}

}  // namespace shoal::model
