// shoal tokenize: text to token ids (or, with --decode, ids to text) with a model's
// tokenizer, exactly as the engine tokenizes prompts.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "absl/flags/flag.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/model_path.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "model/gguf/gguf_file.h"
#include "model/tokenizer/tokenizer.h"

namespace shoal::cli {
namespace {

// Inputs are bounded so a stray pipe cannot exhaust memory.
constexpr size_t kMaxInputBytes = 64 << 20;

absl::StatusOr<std::string> ReadInput(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::string text = args[0];
    for (size_t i = 1; i < args.size(); ++i) text += " " + args[i];
    return text;
  }
  std::string text;
  char buffer[1 << 16];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), stdin)) {
    text.append(buffer, n);
    if (text.size() > kMaxInputBytes) {
      return absl::InvalidArgumentError(fmt::format("input exceeds {} bytes", kMaxInputBytes));
    }
  }
  return text;
}

// Token ids separated by whitespace or commas (optionally in [brackets]).
absl::StatusOr<std::vector<int32_t>> ParseIds(std::string_view text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  auto is_separator = [](char c) {
    return c == ',' || c == '[' || c == ']' || std::isspace(static_cast<unsigned char>(c));
  };
  while (i < text.size()) {
    if (is_separator(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && !is_separator(text[end])) ++end;
    int32_t id = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + end, id);
    if (ec != std::errc() || ptr != text.data() + end) {
      return absl::InvalidArgumentError(
          fmt::format("'{}' is not a token id", text.substr(i, end - i)));
    }
    ids.push_back(id);
    i = end;
  }
  return ids;
}

absl::Status Run(const std::vector<std::string>& args) {
  SHOAL_ASSIGN_OR_RETURN(std::string path, ResolveModelPath(absl::GetFlag(FLAGS_model)));
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<model::GgufFile> file, model::GgufFile::Open(path));
  absl::StatusOr<std::unique_ptr<model::Tokenizer>> tokenizer = model::Tokenizer::FromGguf(*file);
  SHOAL_RETURN_IF_ERROR(Annotate(tokenizer.status(), path));
  SHOAL_ASSIGN_OR_RETURN(std::string input, ReadInput(args));
  if (absl::GetFlag(FLAGS_decode)) {
    SHOAL_ASSIGN_OR_RETURN(std::vector<int32_t> ids, ParseIds(input));
    SHOAL_ASSIGN_OR_RETURN(
        std::string text,
        (*tokenizer)
            ->Decode(ids, {.remove_special = !absl::GetFlag(FLAGS_add_special),
                           .unparse_special = absl::GetFlag(FLAGS_parse_special)}));
    std::fwrite(text.data(), 1, text.size(), stdout);
    return absl::OkStatus();
  }
  const std::vector<int32_t> ids =
      (*tokenizer)
          ->Encode(input, {.add_special = absl::GetFlag(FLAGS_add_special),
                           .parse_special = absl::GetFlag(FLAGS_parse_special)});
  fmt::print("{}\n", fmt::join(ids, " "));
  return absl::OkStatus();
}

}  // namespace

int RunTokenize(const std::vector<std::string>& args) {
  absl::Status status = Run(args);
  if (!status.ok()) {
    std::fprintf(stderr, "shoal tokenize: %s\n", MessageOf(status).c_str());
    return 1;
  }
  return 0;
}

}  // namespace shoal::cli
