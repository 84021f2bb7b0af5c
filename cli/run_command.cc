// shoal run: one generation on this machine, like llama.cpp's llama-cli: the prompt
// (optionally through the chat template) is prefilled in chunks, then tokens are
// sampled and streamed to stdout as text until an end-of-generation token or -n.
// stdout carries only the generated text; statistics go to stderr.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "cli/flags.h"
#include "cli/model_path.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "fmt/format.h"
#include "model/model_file.h"
#include "worker/forward/forward_engine.h"
#include "worker/sampler/sampler.h"

namespace shoal::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Prompt tokens per forward pass during prefill, bounding activation memory.
constexpr int64_t kPrefillChunk = 512;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

worker::SamplingParams SamplingFromFlags() {
  worker::SamplingParams p;
  p.temperature = absl::GetFlag(FLAGS_temperature);
  p.top_k = absl::GetFlag(FLAGS_top_k);
  p.top_p = absl::GetFlag(FLAGS_top_p);
  p.min_p = absl::GetFlag(FLAGS_min_p);
  p.repetition_penalty = absl::GetFlag(FLAGS_repetition_penalty);
  p.presence_penalty = absl::GetFlag(FLAGS_presence_penalty);
  p.frequency_penalty = absl::GetFlag(FLAGS_frequency_penalty);
  if (absl::GetFlag(FLAGS_seed) >= 0) p.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
  return p;
}

absl::StatusOr<std::vector<int32_t>> PromptTokens(const model::ModelFile& model) {
  const std::string prompt = absl::GetFlag(FLAGS_prompt);
  if (prompt.empty()) return absl::InvalidArgumentError("--prompt is empty");
  if (!absl::GetFlag(FLAGS_chat)) {
    // Special-token text in a raw prompt is parsed, as llama.cpp and vLLM do.
    return model.tokenizer().Encode(prompt, {.add_special = true, .parse_special = true});
  }
  model::ChatTemplateInputs inputs;
  inputs.messages = nlohmann::ordered_json::array({{{"role", "user"}, {"content", prompt}}});
  return model.EncodeChat(inputs);
}

class Generation {
 public:
  Generation(const model::ModelFile& model, worker::ForwardEngine& engine,
             std::vector<int32_t> blocks)
      : model_(model),
        engine_(engine),
        blocks_(std::move(blocks)),
        logits_(model.config().n_vocab) {}

  // Runs tokens [start, start + n) of `tokens`; logits_ then holds the last one's.
  absl::Status Forward(std::span<const int32_t> tokens, int64_t start) {
    worker::ForwardBatch batch;
    batch.tokens = tokens;
    batch.sequences.push_back({.first_token = 0,
                               .n_tokens = static_cast<int64_t>(tokens.size()),
                               .start_position = start,
                               .block_table = blocks_,
                               .logits = worker::LogitsWanted::kLast});
    return engine_.Forward(batch, logits_);
  }

  std::span<float> logits() { return logits_; }

 private:
  const model::ModelFile& model_;
  worker::ForwardEngine& engine_;
  std::vector<int32_t> blocks_;
  std::vector<float> logits_;
};

absl::Status Run() {
  SHOAL_ASSIGN_OR_RETURN(std::string path, ResolveModelPath(absl::GetFlag(FLAGS_model)));
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<model::ModelFile> model, model::ModelFile::Open(path));
  const model::ModelConfig& config = model->config();
  const model::Tokenizer& tokenizer = model->tokenizer();
  SHOAL_ASSIGN_OR_RETURN(std::vector<int32_t> prompt, PromptTokens(*model));
  const int64_t max_new = absl::GetFlag(FLAGS_n);
  if (max_new < 1) return absl::InvalidArgumentError("-n must be at least 1");
  if (static_cast<int64_t>(prompt.size()) + max_new > config.context_length) {
    return absl::InvalidArgumentError(
        fmt::format("the prompt's {} tokens plus -n {} exceed the model's context length {}",
                    prompt.size(), max_new, config.context_length));
  }
  worker::SamplingParams params = SamplingFromFlags();
  SHOAL_RETURN_IF_ERROR(params.Validate(static_cast<int32_t>(config.n_vocab)));

  SHOAL_ASSIGN_OR_RETURN(worker::EngineOptions engine_options, EngineOptionsFromFlags());
  // Exactly the blocks this one generation fills.
  const int64_t positions = static_cast<int64_t>(prompt.size()) + max_new;
  const int64_t n_blocks = (positions + worker::kDefaultBlockSize - 1) / worker::kDefaultBlockSize;
  engine_options.kv.exact_blocks = n_blocks;
  SHOAL_ASSIGN_OR_RETURN(std::unique_ptr<worker::ForwardEngine> engine,
                         worker::CreateForwardEngine(*model, engine_options));
  std::vector<int32_t> blocks(n_blocks);
  for (int64_t i = 0; i < n_blocks; ++i) blocks[i] = static_cast<int32_t>(i);
  Generation generation(*model, *engine, blocks);

  const std::vector<int32_t>& eog = tokenizer.eog_ids();
  SHOAL_ASSIGN_OR_RETURN(
      worker::Sampler sampler,
      worker::Sampler::Create({.vocab_size = static_cast<int32_t>(config.n_vocab),
                               .params = params,
                               .eos_token_ids = eog,
                               .prompt_token_ids = prompt}));
  worker::SamplerScratch scratch;

  const auto prefill_start = Clock::now();
  for (size_t begin = 0; begin < prompt.size(); begin += kPrefillChunk) {
    const size_t end = std::min(prompt.size(), begin + kPrefillChunk);
    SHOAL_RETURN_IF_ERROR(generation.Forward(std::span(prompt).subspan(begin, end - begin), begin));
  }
  const double prefill_seconds = SecondsSince(prefill_start);

  model::IncrementalDecoder text(tokenizer);
  std::string out;
  const bool ignore_eos = absl::GetFlag(FLAGS_ignore_eos);
  const auto decode_start = Clock::now();
  int64_t generated = 0;
  int64_t position = static_cast<int64_t>(prompt.size());
  while (true) {
    SHOAL_ASSIGN_OR_RETURN(worker::SampleResult next, sampler.Sample(generation.logits(), scratch));
    ++generated;
    if (tokenizer.IsEog(next.token_id) && !ignore_eos) break;
    out.clear();
    SHOAL_RETURN_IF_ERROR(text.Append(next.token_id, &out));
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    if (generated == max_new) break;
    SHOAL_RETURN_IF_ERROR(generation.Forward(std::span(&next.token_id, 1), position++));
  }
  out.clear();
  text.Finish(&out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  // Ends the text with a newline, flushed before the statistics on stderr, so the two
  // never share a line on a terminal or in one file (2>&1).
  std::fputc('\n', stdout);
  std::fflush(stdout);
  const double decode_seconds = SecondsSince(decode_start);
  std::fprintf(stderr,
               "prompt: %zu tokens in %.3f s (%.1f tokens/s); generated: %lld tokens in %.3f s "
               "(%.1f tokens/s); %s\n",
               prompt.size(), prefill_seconds, prompt.size() / prefill_seconds,
               static_cast<long long>(generated), decode_seconds,
               generated > 1 ? (generated - 1) / decode_seconds : 0.0,
               engine->description().c_str());
  return absl::OkStatus();
}

}  // namespace

int RunRun(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "shoal run: unexpected argument '%s' (use --prompt)\n", args[0].c_str());
    return 2;
  }
  const absl::Status status = Run();
  if (!status.ok()) {
    std::fprintf(stderr, "shoal run: %s\n", MessageOf(status).c_str());
    return 1;
  }
  return 0;
}

}  // namespace shoal::cli
