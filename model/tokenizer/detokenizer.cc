#include "model/tokenizer/detokenizer.h"

namespace shoal::model {
namespace {

// Each pass starts from the first character and decides for each later one, reading the
// text as it was before the pass (which is what llama.cpp's in-place loops read).

void DropSpaceBeforePunctuation(std::string* text) {
  const std::string in = *text;
  std::string& out = *text;
  out.resize(in.empty() ? 0 : 1);
  for (size_t i = 1; i < in.size(); ++i) {
    const char x = in[i];
    if (in[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) out.pop_back();
    out.push_back(x);
  }
}

void JoinLoneApostrophe(std::string* text) {
  std::string in = *text;  // a copy: a consumed space reads as '\0' afterwards
  std::string& out = *text;
  out.resize(in.empty() ? 0 : 1);
  for (size_t i = 1; i < in.size(); ++i) {
    const char x = in[i];
    if (x == '\'' && i + 1 < in.size() && in[i - 1] == ' ' && in[i + 1] == ' ') {
      out.pop_back();
      in[++i] = '\0';
    }
    out.push_back(x);
  }
}

void AttachContractions(std::string* text) {
  const std::string in = *text;
  std::string& out = *text;
  out.resize(in.empty() ? 0 : 1);
  for (size_t i = 1; i < in.size(); ++i) {
    const char x = in[i];
    if (in[i - 1] == ' ' && x == '\'' && i + 1 < in.size()) {
      const char x1 = in[i + 1];
      if (x1 == 's' || x1 == 'm') {
        out.pop_back();
      } else if (x1 != 't' && x1 != 'd' && i + 2 < in.size()) {
        const char x2 = in[i + 2];
        if ((x1 == 'r' || x1 == 'v') && x2 == 'e') out.pop_back();
      }
    }
    out.push_back(x);
  }
}

}  // namespace

void CleanUpSpaces(std::string* text) {
  DropSpaceBeforePunctuation(text);
  JoinLoneApostrophe(text);
  AttachContractions(text);
}

std::string Detokenize(const Vocab& vocab, std::span<const int32_t> ids, bool remove_special,
                       bool unparse_special) {
  bool remove_space = vocab.add_space_prefix();
  if (remove_special && vocab.add_bos() && !ids.empty() && ids.front() == vocab.special_ids().bos) {
    remove_space = false;
    ids = ids.subspan(1);
  }
  if (remove_special && vocab.add_eos() && !ids.empty() && ids.back() == vocab.special_ids().eos) {
    ids = ids.first(ids.size() - 1);
  }
  std::string text;
  for (int32_t id : ids) {
    std::string_view piece = TokenPiece(vocab, id, unparse_special);
    if (remove_space && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    remove_space = false;
    text.append(piece);
  }
  if (vocab.clean_spaces()) CleanUpSpaces(&text);
  return text;
}

}  // namespace shoal::model
