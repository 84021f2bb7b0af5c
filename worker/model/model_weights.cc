#include "worker/model/model_weights.h"

#include "absl/container/flat_hash_map.h"
#include "common/mapped_file.h"
#include "common/status_macros.h"
#include "fmt/format.h"

namespace shoal::worker {
namespace {

using model::GgufFile;
using model::GgufTensorInfo;

class TensorLookup {
 public:
  explicit TensorLookup(const GgufFile& gguf) : gguf_(gguf) {}

  absl::StatusOr<const GgufTensorInfo*> Find(const std::string& name) const {
    const GgufTensorInfo* tensor = gguf_.FindTensor(name);
    if (tensor == nullptr) return absl::NotFoundError(fmt::format("missing tensor '{}'", name));
    return tensor;
  }

  absl::StatusOr<std::span<const float>> Vector(const std::string& name) const {
    SHOAL_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name));
    if (t->type != GgmlType::kF32) {
      return absl::UnimplementedError(
          fmt::format("tensor '{}' is {}; Shoal expects F32 here", name, GgmlTypeName(t->type)));
    }
    return std::span(reinterpret_cast<const float*>(t->data.data()), t->num_elements());
  }

  absl::StatusOr<kernels::WeightMatrix> Matrix(const std::string& name) const {
    SHOAL_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name));
    return ToMatrix(*t, t->ne[1] * t->ne[2] * t->ne[3]);
  }

  absl::StatusOr<ExpertWeights> Experts(const std::string& name) const {
    SHOAL_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name));
    ExpertWeights experts;
    SHOAL_ASSIGN_OR_RETURN(experts.first, ToMatrix(*t, t->ne[1]));
    experts.count = t->ne[2];
    experts.expert_bytes = t->ne[1] * t->row_bytes();
    return experts;
  }

 private:
  static absl::StatusOr<kernels::WeightMatrix> ToMatrix(const GgufTensorInfo& t, int64_t rows) {
    if (!kernels::IsMatMulWeightType(t.type)) {
      return absl::UnimplementedError(
          fmt::format("tensor '{}' has type {}, which the matmul "
                      "kernels do not support",
                      t.name, GgmlTypeName(t.type)));
    }
    return kernels::WeightMatrix{
        .type = t.type, .n_rows = rows, .n_cols = t.ne[0], .data = t.data.data()};
  }

  const GgufFile& gguf_;
};

absl::StatusOr<LayerWeights> LoadLayer(const TensorLookup& lookup, const model::ModelConfig& c,
                                       int64_t layer) {
  auto name = [layer](std::string_view suffix) {
    return fmt::format("blk.{}.{}.weight", layer, suffix);
  };
  LayerWeights w;
  SHOAL_ASSIGN_OR_RETURN(w.attn_norm, lookup.Vector(name("attn_norm")));
  SHOAL_ASSIGN_OR_RETURN(w.attn_q, lookup.Matrix(name("attn_q")));
  SHOAL_ASSIGN_OR_RETURN(w.attn_k, lookup.Matrix(name("attn_k")));
  SHOAL_ASSIGN_OR_RETURN(w.attn_v, lookup.Matrix(name("attn_v")));
  SHOAL_ASSIGN_OR_RETURN(w.attn_output, lookup.Matrix(name("attn_output")));
  if (c.has_qk_norm) {
    SHOAL_ASSIGN_OR_RETURN(w.attn_q_norm, lookup.Vector(name("attn_q_norm")));
    SHOAL_ASSIGN_OR_RETURN(w.attn_k_norm, lookup.Vector(name("attn_k_norm")));
  }
  if (c.architecture == model::Architecture::kGemma3) {
    SHOAL_ASSIGN_OR_RETURN(w.post_attention_norm, lookup.Vector(name("post_attention_norm")));
    SHOAL_ASSIGN_OR_RETURN(w.post_ffw_norm, lookup.Vector(name("post_ffw_norm")));
  }
  SHOAL_ASSIGN_OR_RETURN(w.ffn_norm, lookup.Vector(name("ffn_norm")));
  if (c.is_moe()) {
    SHOAL_ASSIGN_OR_RETURN(w.ffn_gate_inp, lookup.Matrix(name("ffn_gate_inp")));
    SHOAL_ASSIGN_OR_RETURN(w.ffn_gate_exps, lookup.Experts(name("ffn_gate_exps")));
    SHOAL_ASSIGN_OR_RETURN(w.ffn_up_exps, lookup.Experts(name("ffn_up_exps")));
    SHOAL_ASSIGN_OR_RETURN(w.ffn_down_exps, lookup.Experts(name("ffn_down_exps")));
  } else {
    SHOAL_ASSIGN_OR_RETURN(w.ffn_gate, lookup.Matrix(name("ffn_gate")));
    SHOAL_ASSIGN_OR_RETURN(w.ffn_up, lookup.Matrix(name("ffn_up")));
    SHOAL_ASSIGN_OR_RETURN(w.ffn_down, lookup.Matrix(name("ffn_down")));
  }
  return w;
}

// Swaps every matrix that MatMul runs faster interleaved for an interleaved copy owned
// by `weights`, and drops the file pages it came from (the copy is as large as they
// are, Q4_K's and Q5_K's 2-3% larger, so resident memory stays about the file's size). A matrix
// that appears twice (the output tied to the embedding) is copied once.
class Interleaver {
 public:
  Interleaver(ModelWeights& weights, ThreadPool* pool) : weights_(weights), pool_(pool) {}

  absl::Status Matrix(kernels::WeightMatrix& m) { return Stack(m, m.n_rows); }

  // The experts are `count` matrices back to back: one interleaved stack keeps each
  // expert's rows where Expert(e) looks for them, as each has whole 16-row groups.
  absl::Status Experts(ExpertWeights& e) {
    SHOAL_RETURN_IF_ERROR(Stack(e.first, e.first.n_rows * e.count));
    if (e.first.layout == kernels::WeightLayout::kInterleaved16) {
      e.expert_bytes = kernels::InterleavedBytes(e.first);
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Stack(kernels::WeightMatrix& first, int64_t total_rows) {
    if (first.data == nullptr || !kernels::CanInterleave(first) ||
        !kernels::HasInterleavedKernel(first.type)) {
      return absl::OkStatus();
    }
    const uint8_t* original = first.data;
    auto done = copies_.find(original);
    if (done != copies_.end() && (done->second.type != first.type ||
                                  done->second.n_cols != first.n_cols ||
                                  done->second.n_rows != total_rows)) {
      return absl::InternalError("two weight tensors share bytes but not their shape");
    }
    if (done == copies_.end()) {
      kernels::WeightMatrix stack = first;
      stack.n_rows = total_rows;
      SHOAL_ASSIGN_OR_RETURN(kernels::InterleavedCopy copy,
                             kernels::InterleavedCopy::Create(stack, pool_));
      MappedFile::DropResidentPages(
          std::span(original, static_cast<size_t>(total_rows * stack.row_bytes())));
      done = copies_.emplace(original, copy.matrix()).first;
      weights_.interleaved.push_back(std::move(copy));
    }
    first.data = done->second.data;
    first.layout = kernels::WeightLayout::kInterleaved16;
    return absl::OkStatus();
  }

  ModelWeights& weights_;
  ThreadPool* pool_;
  absl::flat_hash_map<const uint8_t*, kernels::WeightMatrix> copies_;  // by file bytes
};

absl::Status InterleaveAll(ModelWeights& weights, ThreadPool* pool) {
  Interleaver interleave(weights, pool);
  SHOAL_RETURN_IF_ERROR(interleave.Matrix(weights.output));
  for (LayerWeights& layer : weights.layers) {
    for (kernels::WeightMatrix* m : {&layer.attn_q, &layer.attn_k, &layer.attn_v,
                                     &layer.attn_output, &layer.ffn_gate, &layer.ffn_up,
                                     &layer.ffn_down, &layer.ffn_gate_inp}) {
      SHOAL_RETURN_IF_ERROR(interleave.Matrix(*m));
    }
    for (ExpertWeights* e : {&layer.ffn_gate_exps, &layer.ffn_up_exps, &layer.ffn_down_exps}) {
      SHOAL_RETURN_IF_ERROR(interleave.Experts(*e));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelWeights> ModelWeights::Create(const model::ModelFile& model,
                                                  const WeightOptions& options) {
  const model::ModelConfig& c = model.config();
  const TensorLookup lookup(model.gguf());
  ModelWeights weights;
  SHOAL_ASSIGN_OR_RETURN(weights.token_embd, lookup.Matrix("token_embd.weight"));
  if (c.tied_embeddings) {
    weights.output = weights.token_embd;
  } else {
    SHOAL_ASSIGN_OR_RETURN(weights.output, lookup.Matrix("output.weight"));
  }
  SHOAL_ASSIGN_OR_RETURN(weights.output_norm, lookup.Vector("output_norm.weight"));
  if (c.has_rope_freq_factors) {
    SHOAL_ASSIGN_OR_RETURN(weights.rope_freqs, lookup.Vector("rope_freqs.weight"));
  }
  weights.layers.reserve(c.n_layer);
  for (int64_t layer = 0; layer < c.n_layer; ++layer) {
    SHOAL_ASSIGN_OR_RETURN(LayerWeights w, LoadLayer(lookup, c, layer));
    weights.layers.push_back(std::move(w));
  }
  if (options.interleave) {
    SHOAL_RETURN_IF_ERROR(InterleaveAll(weights, options.pool));
    // A tied embedding is the output matrix: it is looked up in the copy (a row per
    // token, DequantizeMatrixRow), since the file pages under it were dropped.
    if (c.tied_embeddings) weights.token_embd = weights.output;
  }
  return weights;
}

}  // namespace shoal::worker
