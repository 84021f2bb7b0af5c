#include "model/tokenizer/special_token_rules.h"

#include <algorithm>
#include <span>

namespace shoal::model {
namespace {

using Texts = std::span<const std::string_view>;

// Candidate texts per id (llama.cpp's lists, as of the version we compare with).
constexpr std::string_view kEotTexts[] = {"<|eot_id|>",
                                          "<|im_end|>",
                                          "<|end|>",
                                          "<end_of_turn>",
                                          "<|endoftext|>",
                                          "<|end_of_text|>",
                                          "<EOT>",
                                          "_<EOT>",
                                          "[EOT]",
                                          "<\xEF\xBD\x9C"
                                          "end\xE2\x96\x81of\xE2\x96\x81sentence"
                                          "\xEF\xBD\x9C>",
                                          "<end_of_utterance>"};
constexpr std::string_view kEomTexts[] = {"<|eom_id|>"};
constexpr std::string_view kFimPreTexts[] = {"<|fim_prefix|>",
                                             "<fim-prefix>",
                                             "<fim_prefix>",
                                             "<\xEF\xBD\x9C"
                                             "fim\xE2\x96\x81"
                                             "begin\xEF\xBD\x9C>",
                                             "<PRE>",
                                             "\xE2\x96\x81<PRE>",
                                             "<|code_prefix|>",
                                             "<|prefix|>"};
constexpr std::string_view kFimSufTexts[] = {"<|fim_suffix|>",
                                             "<fim-suffix>",
                                             "<fim_suffix>",
                                             "<\xEF\xBD\x9C"
                                             "fim\xE2\x96\x81"
                                             "hole\xEF\xBD\x9C>",
                                             "<SUF>",
                                             "\xE2\x96\x81<SUF>",
                                             "<|code_suffix|>",
                                             "<|suffix|>"};
constexpr std::string_view kFimMidTexts[] = {"<|fim_middle|>",
                                             "<fim-middle>",
                                             "<fim_middle>",
                                             "<\xEF\xBD\x9C"
                                             "fim\xE2\x96\x81"
                                             "end\xEF\xBD\x9C>",
                                             "<MID>",
                                             "\xE2\x96\x81<MID>",
                                             "<|code_middle|>",
                                             "<|middle|>"};
constexpr std::string_view kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
                                             "[PAD]"};
constexpr std::string_view kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                             "<REPO>", "<reponame>"};
constexpr std::string_view kFimSepTexts[] = {"<|file_sep|>"};

// Texts that end generation whatever the keys say.
constexpr std::string_view kEogTexts[] = {"<|eot_id|>",
                                          "<|im_end|>",
                                          "<|end|>",
                                          "<|return|>",
                                          "<|call|>",
                                          "<|flush|>",
                                          "<|calls|>",
                                          "<end_of_turn>",
                                          "<|endoftext|>",
                                          "</s>",
                                          "<|eom_id|>",
                                          "<EOT>",
                                          "_<EOT>",
                                          "[EOT]",
                                          "[EOS]",
                                          "<|end_of_text|>",
                                          "<end_of_utterance>",
                                          "<eos>",
                                          "<turn|>",
                                          "<|tool_response>",
                                          "<\xEF\xBD\x9C"
                                          "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                                          "[e~["};

// gpt-oss tokens llama.cpp always renders.
constexpr std::string_view kAlwaysRenderedTexts[] = {"<|channel|>", "<|message|>", "<|start|>",
                                                     "<|constrain|>"};

void ForceControl(int32_t id, std::vector<uint32_t>* attrs) { (*attrs)[id] |= kAttrControl; }

// Sets `*id` (when unset) to the lowest id among the candidate texts, forced CONTROL.
void Detect(const TokenTextAccess& access, Texts candidates, std::vector<uint32_t>* attrs,
            int32_t* id) {
  if (*id != kNoToken) return;
  for (std::string_view text : candidates) {
    const int32_t found = access.find(text);
    if (found != kNoToken && (*id == kNoToken || found < *id)) *id = found;
  }
  if (*id != kNoToken) ForceControl(*id, attrs);
}

void MarkUnused(const TokenTextAccess& access, std::vector<uint32_t>* attrs) {
  for (size_t id = 0; id < attrs->size(); ++id) {
    uint32_t& attr = (*attrs)[id];
    if ((attr & kAttrControl) != 0 &&
        access.text(static_cast<int32_t>(id)).find("unused") != std::string_view::npos) {
      attr |= kAttrUnused;
    }
  }
}

bool Contains(const std::vector<int32_t>& ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

void Insert(std::vector<int32_t>* ids, int32_t id) {
  if (id != kNoToken && !Contains(*ids, id)) ids->push_back(id);
}

// The EOG id among `eog` whose text is one of `texts`, or kNoToken.
int32_t EogWithText(const TokenTextAccess& access, const std::vector<int32_t>& eog, Texts texts) {
  for (int32_t id : eog) {
    if (std::find(texts.begin(), texts.end(), access.text(id)) != texts.end()) return id;
  }
  return kNoToken;
}

// gpt-oss (o200k_harmony) and solar-open: "<|end|>" separates messages there and does
// not end generation.
void ApplyHarmonyException(const TokenTextAccess& access, std::vector<uint32_t>* attrs,
                           std::vector<int32_t>* eog) {
  static constexpr std::string_view kReturn[] = {"<|return|>"};
  static constexpr std::string_view kCall[] = {"<|call|>", "<|calls|>"};
  static constexpr std::string_view kFlush[] = {"<|flush|>"};
  static constexpr std::string_view kEnd[] = {"<|end|>"};
  const bool has_return = EogWithText(access, *eog, kReturn) != kNoToken;
  const bool has_call = EogWithText(access, *eog, kCall) != kNoToken;
  const bool has_flush = EogWithText(access, *eog, kFlush) != kNoToken;
  const int32_t end = EogWithText(access, *eog, kEnd);
  if (end != kNoToken && has_call && (has_return || has_flush)) {
    eog->erase(std::find(eog->begin(), eog->end(), end));
    (*attrs)[end] = kAttrUserDefined;
  }
}

// Gemma 4 and PLaMo 2 have an ordinary "</s>" token.
void ApplyPlainEndTagException(const TokenTextAccess& access, std::vector<uint32_t>* attrs,
                               std::vector<int32_t>* eog) {
  static constexpr std::string_view kMarkers[] = {"<|tool_response>", "<|plamo:eos|>"};
  static constexpr std::string_view kEndTag[] = {"</s>"};
  const bool has_marker = EogWithText(access, *eog, kMarkers) != kNoToken;
  const int32_t end_tag = EogWithText(access, *eog, kEndTag);
  if (has_marker && end_tag != kNoToken) {
    eog->erase(std::find(eog->begin(), eog->end(), end_tag));
    (*attrs)[end_tag] = kAttrNormal;
  }
}

}  // namespace

std::vector<int32_t> ApplyTokenTextRules(const TokenTextAccess& access,
                                         std::vector<uint32_t>* attrs, SpecialTokenIds* ids) {
  Detect(access, kEotTexts, attrs, &ids->eot);
  Detect(access, kEomTexts, attrs, &ids->eom);
  Detect(access, kFimPreTexts, attrs, &ids->fim_pre);
  Detect(access, kFimSufTexts, attrs, &ids->fim_suf);
  Detect(access, kFimMidTexts, attrs, &ids->fim_mid);
  Detect(access, kFimPadTexts, attrs, &ids->fim_pad);
  Detect(access, kFimRepTexts, attrs, &ids->fim_rep);
  Detect(access, kFimSepTexts, attrs, &ids->fim_sep);
  MarkUnused(access, attrs);

  std::vector<int32_t> eog;
  Insert(&eog, ids->fim_pad);
  Insert(&eog, ids->fim_rep);
  Insert(&eog, ids->fim_sep);
  for (std::string_view text : kEogTexts) {
    const int32_t id = access.find(text);
    if (id == kNoToken) continue;
    Insert(&eog, id);
    ForceControl(id, attrs);
  }
  for (std::string_view text : kAlwaysRenderedTexts) {
    const int32_t id = access.find(text);
    if (id != kNoToken) (*attrs)[id] = kAttrUserDefined;
  }
  Insert(&eog, ids->eos);
  Insert(&eog, ids->eot);
  Insert(&eog, ids->eom);
  ApplyHarmonyException(access, attrs, &eog);
  ApplyPlainEndTagException(access, attrs, &eog);
  std::sort(eog.begin(), eog.end());
  return eog;
}

}  // namespace shoal::model
