#include "worker/step/step_executor.h"

#include <openssl/sha.h>

#include <chrono>
#include <filesystem>

#include "absl/memory/memory.h"
#include "common/status_macros.h"
#include "fmt/format.h"
#include "worker/sampler/sampling_proto.h"

namespace shoal::worker {
namespace {

absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(std::move(message)); }

}  // namespace

absl::StatusOr<std::unique_ptr<StepExecutor>> StepExecutor::Create(
    const v1::RegisterRequest& request, const EngineOptions& options) {
  if (request.world_size() != 1 || request.rank() != 0) {
    return absl::UnimplementedError("workers run whole models for now: rank 0 of world size 1");
  }
  if (!(request.memory_fraction() >= 0.0f && request.memory_fraction() <= 1.0f)) {
    return Invalid(fmt::format("memory_fraction must be in (0, 1], got {}", request.memory_fraction()));
  }
  if (request.max_kv_blocks() < 0) return Invalid("max_kv_blocks must be >= 0");
  auto executor = absl::WrapUnique(new StepExecutor());
  SHOAL_ASSIGN_OR_RETURN(executor->model_, model::ModelFile::Open(request.model_path()));
  // Unset request fields keep the defaults of EngineOptions and KvBudget.
  EngineOptions engine_options = options;
  const KvBudget defaults;
  if (request.max_num_batched_tokens() > 0) {
    engine_options.max_batch_tokens = request.max_num_batched_tokens();
  }
  engine_options.kv.block_size =
      request.kv_block_size() > 0 ? request.kv_block_size() : defaults.block_size;
  engine_options.kv.memory_fraction =
      request.memory_fraction() > 0 ? request.memory_fraction() : defaults.memory_fraction;
  engine_options.kv.max_blocks = request.max_kv_blocks();
  engine_options.kv.exact_blocks = 0;
  if (request.max_num_seqs() < 0) return Invalid("max_num_seqs must be >= 0");
  if (request.kv_cache_sequences() < 0) return Invalid("kv_cache_sequences must be >= 0");
  const int64_t kv_sequences = request.kv_cache_sequences() > 0 ? request.kv_cache_sequences()
                                                                 : request.max_num_seqs();
  if (kv_sequences > 0 && options.device.kind == DeviceKind::kCpu) {
    engine_options.kv.wanted_blocks =
        KvBlocksForReplica(kv_sequences, executor->model_->config().context_length,
                           engine_options.kv.block_size);
  }
  SHOAL_ASSIGN_OR_RETURN(executor->engine_, CreateForwardEngine(*executor->model_, engine_options));
  v1::RegisterResponse& r = executor->registration_;
  r.set_num_kv_blocks(executor->engine_->num_kv_blocks());
  r.set_device(executor->engine_->description());
  r.set_weight_bytes(executor->engine_->weight_bytes());
  r.set_kv_cache_bytes(executor->engine_->kv_cache_bytes());
  const std::span<const uint8_t> header = executor->model_->gguf().header_bytes();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(header.data(), header.size(), digest);
  r.set_model_fingerprint(digest, sizeof(digest));
  const model::ModelConfig& config = executor->model_->config();
  v1::ModelFacts& facts = *r.mutable_model();
  facts.set_architecture(std::string(model::ArchitectureName(config.architecture)));
  facts.set_name(config.name.empty()
                     ? std::filesystem::path(request.model_path()).stem().string()
                     : config.name);
  facts.set_context_length(static_cast<int32_t>(config.context_length));
  facts.set_vocab_size(static_cast<int32_t>(config.n_vocab));
  for (int32_t id : executor->model_->tokenizer().eog_ids()) facts.add_eog_token_ids(id);
  return executor;
}

void StepExecutor::Step(const v1::StepRequest& request, v1::StepResult& result) {
  result.Clear();
  result.set_step_id(request.step_id());
  const auto start = std::chrono::steady_clock::now();
  if (absl::Status status = Run(request, result); !status.ok()) {
    result.clear_tokens();
    result.set_error_message(std::string(status.message()));
  }
  result.set_forward_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

absl::Status StepExecutor::Run(const v1::StepRequest& request, v1::StepResult& result) {
  for (uint64_t id : request.forget_sequence_ids()) sequences_.erase(id);
  absl::Status status = Admit(request);
  if (status.ok()) status = BuildBatch(request);
  if (status.ok()) {
    logits_.resize(batch_.num_logit_rows() * model_->config().n_vocab);
    status = engine_->Forward(batch_, logits_);
  }
  if (!status.ok()) {  // nothing ran: undo this step's admissions
    for (uint64_t id : admitted_) sequences_.erase(id);
    return status;
  }
  // Commit the new block tables and positions only once the pass has run.
  for (int i = 0; i < request.sequences_size(); ++i) {
    const v1::ScheduledSequence& s = request.sequences(i);
    Sequence& seq = sequences_.at(s.sequence_id());
    seq.block_table = std::move(tables_[i]);
    seq.num_computed_tokens = s.position() + s.token_ids_size();
    seq.started = true;
  }
  SampleTokens(request, result);
  if (request.record_expert_load()) RecordExpertLoad(result);
  return absl::OkStatus();
}

absl::Status StepExecutor::Admit(const v1::StepRequest& request) {
  const int32_t vocab = static_cast<int32_t>(model_->config().n_vocab);
  admitted_.clear();
  for (const v1::NewSequence& n : request.new_sequences()) {
    if (sequences_.contains(n.sequence_id())) {
      return absl::AlreadyExistsError(
          fmt::format("sequence {} is already running", n.sequence_id()));
    }
    const SamplingParams params = SamplingParamsFromProto(n.sampling());
    SHOAL_RETURN_IF_ERROR(params.Validate(vocab));
    const std::vector<int32_t> prompt(n.prompt_token_ids().begin(), n.prompt_token_ids().end());
    const std::vector<int32_t> output(n.output_token_ids().begin(), n.output_token_ids().end());
    SHOAL_ASSIGN_OR_RETURN(Sampler sampler,
                           Sampler::Create({.vocab_size = vocab,
                                            .params = params,
                                            .eos_token_ids = model_->tokenizer().eog_ids(),
                                            .prompt_token_ids = prompt,
                                            .output_token_ids = output}));
    sequences_[n.sequence_id()].sampler.emplace(std::move(sampler));
    admitted_.push_back(n.sequence_id());
  }
  return absl::OkStatus();
}

absl::Status StepExecutor::BuildBatch(const v1::StepRequest& request) {
  tokens_.clear();
  batch_.sequences.clear();
  tables_.resize(request.sequences_size());
  for (int i = 0; i < request.sequences_size(); ++i) {
    const v1::ScheduledSequence& s = request.sequences(i);
    auto it = sequences_.find(s.sequence_id());
    if (it == sequences_.end()) return Invalid(fmt::format("unknown sequence {}", s.sequence_id()));
    const Sequence& seq = it->second;
    if (s.token_ids_size() == 0) return Invalid("a scheduled sequence has no tokens");
    // A sequence's first chunk may start past a prefix whose K/V other sequences already
    // wrote into the blocks it shares (the scheduler's prefix cache).
    if (seq.started ? s.position() != seq.num_computed_tokens : s.position() < 0) {
      return Invalid(fmt::format("sequence {} continues at position {}, not {}", s.sequence_id(),
                                 seq.num_computed_tokens, s.position()));
    }
    if (s.block_table_offset() < 0 ||
        s.block_table_offset() > static_cast<int32_t>(seq.block_table.size())) {
      return Invalid(fmt::format("sequence {}: block table offset {} past its {} blocks",
                                 s.sequence_id(), s.block_table_offset(), seq.block_table.size()));
    }
    std::vector<int32_t>& table = tables_[i];
    table.assign(seq.block_table.begin(), seq.block_table.begin() + s.block_table_offset());
    table.insert(table.end(), s.block_ids().begin(), s.block_ids().end());
    batch_.sequences.push_back({.first_token = static_cast<int64_t>(tokens_.size()),
                                .n_tokens = s.token_ids_size(),
                                .start_position = s.position(),
                                .block_table = table,
                                .logits = s.sample() ? LogitsWanted::kLast : LogitsWanted::kNone});
    tokens_.insert(tokens_.end(), s.token_ids().begin(), s.token_ids().end());
  }
  batch_.tokens = tokens_;
  return absl::OkStatus();
}

void StepExecutor::SampleTokens(const v1::StepRequest& request, v1::StepResult& result) {
  const int64_t vocab = model_->config().n_vocab;
  int64_t row = 0;
  for (const v1::ScheduledSequence& s : request.sequences()) {
    if (!s.sample()) continue;
    Sampler& sampler = *sequences_.at(s.sequence_id()).sampler;
    absl::StatusOr<SampleResult> outcome =
        sampler.Sample(std::span(logits_).subspan(row++ * vocab, vocab), sampler_scratch_);
    v1::SampledToken* token = result.add_tokens();
    token->set_sequence_id(s.sequence_id());
    if (!outcome.ok()) {  // this sequence fails alone; the others' tokens stand
      token->set_error_message(std::string(outcome.status().message()));
      continue;
    }
    const SampleResult& sampled = *outcome;
    token->set_token_id(sampled.token_id);
    if (sampled.has_logprobs) {
      v1::TokenLogprob* lp = token->mutable_logprob();
      lp->set_token_id(sampled.token_id);
      lp->set_logprob(sampled.logprob);
      for (const TokenLogprob& top : sampled.top()) {
        v1::TopLogprob* t = lp->add_top_logprobs();
        t->set_token_id(top.token_id);
        t->set_logprob(top.logprob);
      }
    }
  }
}

void StepExecutor::RecordExpertLoad(v1::StepResult& result) {
  const std::span<const int64_t> counts = engine_->expert_token_counts();
  if (counts.empty()) return;
  last_expert_counts_.resize(counts.size(), 0);
  for (size_t i = 0; i < counts.size(); ++i) {
    result.add_expert_token_counts(static_cast<int32_t>(counts[i] - last_expert_counts_[i]));
    last_expert_counts_[i] = counts[i];
  }
  result.set_num_experts(static_cast<int32_t>(model_->config().n_expert));
}

}  // namespace shoal::worker
