// shoal selftest --backend cuda|cpu [--device-index K] [--models A.gguf,B.gguf] [--seed S]:
// every op through the backend and the CPU reference (kernels/selftest), then each
// model's whole forward pass through the backend's engine and the CPU engine on the
// same batches (worker/selftest); a table on stdout, and the exit code: 0 all passed,
// 1 a mismatch or error, 2 nothing failed but something did not run (no device, no
// --models).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "cli/flags.h"
#include "fmt/format.h"
#include "kernels/selftest/op_backend.h"
#include "kernels/selftest/selftest.h"
#include "model/model_file.h"
#include "worker/comm/communicator.h"
#include "worker/forward/forward_engine.h"
#include "worker/selftest/model_forwards.h"

namespace shoal::cli {
namespace {

using kernels::selftest::CaseResult;
using kernels::selftest::CaseStatus;

// Not having the device (or a CUDA build) is "not run"; anything else is an error.
CaseStatus StatusFor(const absl::Status& status) {
  return absl::IsUnimplemented(status) || absl::IsUnavailable(status) ? CaseStatus::kNotRun
                                                                      : CaseStatus::kError;
}

CaseResult NcclWorldOne(int device) {
  // The NCCL communicator at world size 1 (more ranks need more GPUs and the cluster).
  const absl::Status nccl = worker::CheckNcclWorldOne(device, absl::Seconds(60));
  CaseResult r{.op = "nccl", .shape = "world 1, 4 collectives, 1 to 1M int32", .tolerance = "exact"};
  if (nccl.ok()) {
    r.status = CaseStatus::kPass;
  } else {
    r.status = StatusFor(nccl) == CaseStatus::kNotRun ? CaseStatus::kNotRun : CaseStatus::kFail;
    r.detail = std::string(nccl.message());
  }
  return r;
}

// One model: the reference is the CPU engine as `shoal run` builds it (interleaved
// weights). The candidates are the CUDA engine with the file's weights and with
// --bf16-weights, whose bounds widen with how far the CPU's plain-layout engine is from
// the reference on this model (ModelForwardBoundsFor); for --backend cpu the candidate
// is the same CPU engine on one thread, which must agree exactly as far as the bounds
// can tell (the threads split rows, never a sum).
std::vector<CaseResult> ModelForwards(const std::string& path, const std::string& backend,
                                      int device) {
  const std::string name = std::filesystem::path(path).stem().string();
  std::vector<CaseResult> results;
  const auto failed = [&](const absl::Status& status, std::string_view which) {
    results.push_back({.op = "model forward", .shape = name, .status = StatusFor(status),
                       .detail = fmt::format("{}: {}", which, std::string(status.message()))});
    return results;
  };
  absl::StatusOr<std::unique_ptr<model::ModelFile>> model = model::ModelFile::Open(path);
  if (!model.ok()) return failed(model.status(), "model");
  worker::EngineOptions reference_options;
  reference_options.threads = ThreadsFromFlag();
  reference_options.kv.exact_blocks = 16;
  absl::StatusOr<std::unique_ptr<worker::ForwardEngine>> reference =
      worker::CreateForwardEngine(**model, reference_options);
  if (!reference.ok()) return failed(reference.status(), "cpu engine");

  std::vector<std::pair<std::string, worker::EngineOptions>> candidates;
  std::optional<worker::ModelForwardComparison> spread;
  if (backend == "cuda") {
    worker::EngineOptions cuda_options = reference_options;
    cuda_options.device = {.kind = worker::DeviceKind::kCuda, .index = device};
    candidates.emplace_back(name, cuda_options);
    cuda_options.bf16_weights = true;
    candidates.emplace_back(name + ", bf16", cuda_options);
    worker::EngineOptions plain_options = reference_options;
    plain_options.interleave_weights = false;
    absl::StatusOr<std::unique_ptr<worker::ForwardEngine>> plain =
        worker::CreateForwardEngine(**model, plain_options);
    if (!plain.ok()) return failed(plain.status(), "cpu engine");
    absl::StatusOr<worker::ModelForwardComparison> cpu_spread =
        worker::CompareModelForwards(**plain, **reference);
    if (!cpu_spread.ok()) return failed(cpu_spread.status(), "cpu forward");
    spread = *cpu_spread;
  } else {
    worker::EngineOptions one_thread = reference_options;
    one_thread.threads = 1;
    candidates.emplace_back(name, one_thread);
  }

  for (const auto& [shape, options] : candidates) {
    CaseResult r{.op = "model forward", .shape = shape};
    const worker::ModelForwardBounds bounds =
        worker::ModelForwardBoundsFor(**model, spread ? &*spread : nullptr, options.bf16_weights);
    r.tolerance = bounds.ToString();
    absl::StatusOr<std::unique_ptr<worker::ForwardEngine>> candidate =
        worker::CreateForwardEngine(**model, options);
    absl::StatusOr<worker::ModelForwardComparison> compared =
        candidate.ok() ? worker::CompareModelForwards(**candidate, **reference)
                       : absl::StatusOr<worker::ModelForwardComparison>(candidate.status());
    if (!compared.ok()) {
      r.status = StatusFor(compared.status());
      r.detail = fmt::format("{}: {}", candidate.ok() ? "forward" : "candidate engine",
                             std::string(compared.status().message()));
      results.push_back(std::move(r));
      continue;
    }
    r.max_rel_error = compared->max_nrmse;
    r.status = bounds.Admits(*compared) ? CaseStatus::kPass : CaseStatus::kFail;
    r.detail = fmt::format("median {:.2g}, top-1 {:.0f}% of {} rows", compared->median_nrmse,
                           100.0 * compared->top1_agreement, compared->rows);
    if (spread) {
      r.detail += fmt::format(" (cpu layouts: max {:.2g}, median {:.2g})", spread->max_nrmse,
                              spread->median_nrmse);
    }
    r.detail += "; " + (*candidate)->description();
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace

int RunSelftest(const std::vector<std::string>& args) {
  using namespace kernels::selftest;
  if (!args.empty()) {
    std::fprintf(stderr, "shoal selftest: unexpected argument '%s'\n", args[0].c_str());
    return 2;
  }
  const std::string backend_name = absl::GetFlag(FLAGS_backend);
  const int device = absl::GetFlag(FLAGS_device_index);
  const int64_t seed_flag = absl::GetFlag(FLAGS_seed);
  const uint32_t seed = seed_flag >= 0 ? static_cast<uint32_t>(seed_flag) : 1;
  const std::string models_flag = absl::GetFlag(FLAGS_models);
  const std::vector<std::string> models =
      absl::StrSplit(models_flag, ',', absl::SkipWhitespace());

  std::unique_ptr<OpBackend> reference = MakeCpuReferenceBackend();
  std::unique_ptr<OpBackend> candidate;
  std::vector<CaseResult> results;
  std::string shown = backend_name;
  if (backend_name == "cpu") {
    // The reference against itself: checks the cases and the table, not a device.
    candidate = MakeCpuReferenceBackend();
  } else if (backend_name == "cuda") {
    absl::StatusOr<std::unique_ptr<OpBackend>> cuda = MakeCudaBackend(device);
    if (cuda.ok()) {
      candidate = std::move(*cuda);
    } else {
      shown = fmt::format("cuda:{}", device);
      results = NotRunCases(std::string(cuda.status().message()));
    }
  } else {
    std::fprintf(stderr, "shoal selftest: --backend must be cuda or cpu, got '%s'\n",
                 backend_name.c_str());
    return 2;
  }
  if (candidate != nullptr) {
    shown = candidate->name();
    results = RunOpCases(*candidate, *reference, seed);
  }
  if (backend_name == "cuda") results.push_back(NcclWorldOne(device));
  if (models.empty()) {
    results.push_back({.op = "model forward",
                       .shape = "-",
                       .detail = "no --models given (bench/gpu_run.sh passes the bundled ones)"});
  }
  for (const std::string& path : models) {
    for (CaseResult& r : ModelForwards(path, backend_name, device)) results.push_back(std::move(r));
  }
  std::fputs(FormatTable(shown, results).c_str(), stdout);
  std::fprintf(stdout, "seed %u\n", seed);
  return ExitCode(results);
}

}  // namespace shoal::cli
