// MatMul speed on a model's real weight matrices: for each distinct (type, shape) of a
// GGUF file's 2-D weights, the median time of y = x·Wᵀ over T activation rows, as weight
// bandwidth (GB/s of W streamed) and as integer/float throughput (G multiply-adds/s).
// T = 1 is a decode step; larger T is prefill or batched decode. Matrices that MatMul
// can run interleaved (kernels/interleave.h) are measured in both layouts ("/i16").
//
//   build/bench/matmul_bench --model FILE [--tokens 1,64] [--threads 2] [--reps 20]
//                            [--level scalar|avx2|avx512|avx512-vnni]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/interleave.h"
#include "kernels/matmul.h"
#include "model/model_file.h"
#include "worker/model/model_weights.h"

namespace {

struct Options {
  std::string model;
  std::vector<int> tokens = {1, 64};
  int threads = 2;
  int reps = 20;
  shoal::kernels::CpuLevel level = shoal::kernels::BestCpuLevel();
};

std::vector<int> ParseList(const std::string& value) {
  std::vector<int> out;
  for (size_t start = 0; start <= value.size();) {
    const size_t comma = std::min(value.find(',', start), value.size());
    out.push_back(std::stoi(value.substr(start, comma - start)));
    start = comma + 1;
  }
  return out;
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--model") o.model = value;
    else if (flag == "--tokens") o.tokens = ParseList(value);
    else if (flag == "--threads") o.threads = std::stoi(value);
    else if (flag == "--reps") o.reps = std::stoi(value);
    else if (flag == "--level") {
      for (auto level : {shoal::kernels::CpuLevel::kScalar, shoal::kernels::CpuLevel::kAvx2,
                         shoal::kernels::CpuLevel::kAvx512,
                         shoal::kernels::CpuLevel::kAvx512Vnni}) {
        if (value == shoal::kernels::CpuLevelName(level)) o.level = level;
      }
    }
  }
  return o;
}

// One weight matrix per distinct (type, rows, cols), with a name that says where from.
std::map<std::tuple<int, int64_t, int64_t>, std::pair<std::string, shoal::kernels::WeightMatrix>>
DistinctMatrices(const shoal::worker::ModelWeights& w) {
  std::map<std::tuple<int, int64_t, int64_t>,
           std::pair<std::string, shoal::kernels::WeightMatrix>> out;
  auto add = [&out](const std::string& name, const shoal::kernels::WeightMatrix& m) {
    if (m.data == nullptr) return;
    out.emplace(std::make_tuple(static_cast<int>(m.type), m.n_rows, m.n_cols),
                std::make_pair(name, m));
  };
  add("output", w.output);
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const auto& L = w.layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_q", L.attn_q);
    add(p + "attn_k", L.attn_k);
    add(p + "attn_v", L.attn_v);
    add(p + "attn_output", L.attn_output);
    add(p + "ffn_gate", L.ffn_gate);
    add(p + "ffn_up", L.ffn_up);
    add(p + "ffn_down", L.ffn_down);
    if (L.ffn_gate_exps.count > 0) {
      add(p + "ffn_gate_exps[0]", L.ffn_gate_exps.Expert(0));
      add(p + "ffn_down_exps[0]", L.ffn_down_exps.Expert(0));
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  auto model = shoal::model::ModelFile::Open(o.model);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  // The file's own layout; interleavable matrices are measured in both layouts below.
  auto weights = shoal::worker::ModelWeights::Create(**model, {.interleave = false});
  auto pool = shoal::ThreadPool::Create(o.threads);
  if (!weights.ok() || !pool.ok()) return 1;
  std::printf("level %s, %d threads\n", std::string(shoal::kernels::CpuLevelName(o.level)).c_str(),
              o.threads);
  std::printf("%-22s %-9s %7s %6s %6s %9s %9s %8s\n", "tensor", "type", "rows", "cols", "tokens",
              "median us", "W GB/s", "GMAC/s");
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  shoal::kernels::MatMulScratch scratch;
  for (const auto& [key, named] : DistinctMatrices(*weights)) {
    const auto& [name, rows] = named;
    std::vector<shoal::kernels::WeightMatrix> layouts = {rows};
    absl::StatusOr<shoal::kernels::InterleavedCopy> copy = absl::UnknownError("not made");
    if (shoal::kernels::CanInterleave(rows) &&
        shoal::kernels::HasInterleavedKernel(rows.type, o.level)) {
      copy = shoal::kernels::InterleavedCopy::Create(rows, pool->get());
      if (copy.ok()) layouts.push_back(copy->matrix());
    }
    for (const shoal::kernels::WeightMatrix& w : layouts) {
    const std::string type_name =
        std::string(shoal::GgmlTypeName(w.type)) +
        (w.layout == shoal::kernels::WeightLayout::kInterleaved16 ? "/i16" : "");
    for (int n : o.tokens) {
      std::vector<float> x(n * w.n_cols), y(n * w.n_rows);
      for (float& v : x) v = normal(rng);
      std::vector<double> us;
      for (int rep = 0; rep < o.reps + 1; ++rep) {
        const auto begin = std::chrono::steady_clock::now();
        const absl::Status status = shoal::kernels::MatMul(
            {.weights = &w, .x = x.data(), .n_tokens = n, .y = y.data(), .y_stride = w.n_rows},
            scratch, **pool, o.level);
        const auto end = std::chrono::steady_clock::now();
        if (!status.ok()) {
          std::fprintf(stderr, "%s: %s\n", name.c_str(), std::string(status.message()).c_str());
          return 1;
        }
        if (rep > 0) us.push_back(std::chrono::duration<double, std::micro>(end - begin).count());
      }
      std::sort(us.begin(), us.end());
      const double median = us[us.size() / 2];
      const double bytes = static_cast<double>(w.n_rows) * w.row_bytes();
      const double macs = static_cast<double>(w.n_rows) * w.n_cols * n;
      std::printf("%-22s %-9s %7lld %6lld %6d %9.1f %9.2f %8.1f\n", name.c_str(),
                  type_name.c_str(), static_cast<long long>(w.n_rows),
                  static_cast<long long>(w.n_cols), n, median, bytes / median / 1e3,
                  macs / median / 1e3);
    }
    }
  }
  return 0;
}
