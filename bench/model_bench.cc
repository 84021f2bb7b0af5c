// Prompt-processing and decode speed of one model, like llama-bench's pp/tg tests:
// pp = one forward pass over a prompt of P tokens; tg = T single-token decode steps on
// the KV cache. Reports the median of several repetitions per thread count, and the
// resident memory after loading and after the runs.
//
//   build/bench/model_bench --model FILE [--pp 512] [--tg 128] [--reps 5] [--threads 1,2]
//                           [--interleave 1|0] [--json]
//
// --interleave 0 loads the weights in the file's layout instead of repacking them
// (WeightOptions::interleave), to measure what the repacking buys.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "model/model_file.h"
#include "worker/forward/decoder.h"
#include "worker/kv/kv_cache.h"

namespace {

using shoal::worker::ForwardBatch;
using shoal::worker::LogitsWanted;

struct Options {
  std::string model;
  int pp = 512;
  int tg = 128;
  int reps = 5;
  std::vector<int> threads = {1, 2};
  bool json = false;
  bool interleave = true;
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const std::string value = i + 1 < argc ? argv[i + 1] : "";
    if (flag == "--json") {
      o.json = true;
      continue;
    }
    ++i;
    if (flag == "--model") o.model = value;
    else if (flag == "--interleave") o.interleave = value != "0";
    else if (flag == "--pp") o.pp = std::stoi(value);
    else if (flag == "--tg") o.tg = std::stoi(value);
    else if (flag == "--reps") o.reps = std::stoi(value);
    else if (flag == "--threads") {
      o.threads.clear();
      for (size_t start = 0; start <= value.size();) {
        const size_t comma = std::min(value.find(',', start), value.size());
        o.threads.push_back(std::stoi(value.substr(start, comma - start)));
        start = comma + 1;
      }
    }
  }
  return o;
}

// Resident set size in MiB (Linux /proc/self/statm).
double ResidentMib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096.0 / (1 << 20);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

class Bench {
 public:
  Bench(const shoal::model::ModelFile& model, shoal::worker::Decoder& decoder,
        shoal::worker::KvCache& kv, std::vector<int32_t> blocks)
      : model_(model), decoder_(decoder), kv_(kv), blocks_(std::move(blocks)) {}

  // Seconds for one forward pass over `tokens` starting at `start`.
  double Pass(std::span<const int32_t> tokens, int64_t start, std::vector<float>& logits) {
    ForwardBatch batch;
    batch.tokens = tokens;
    batch.sequences.push_back({.first_token = 0,
                               .n_tokens = static_cast<int64_t>(tokens.size()),
                               .start_position = start,
                               .block_table = blocks_,
                               .logits = LogitsWanted::kLast});
    const auto begin = std::chrono::steady_clock::now();
    const absl::Status status = decoder_.Forward(batch, kv_, logits);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    if (!status.ok()) {
      std::fprintf(stderr, "forward failed: %s\n", std::string(status.message()).c_str());
      std::exit(1);
    }
    return seconds;
  }

 private:
  const shoal::model::ModelFile& model_;
  shoal::worker::Decoder& decoder_;
  shoal::worker::KvCache& kv_;
  std::vector<int32_t> blocks_;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  auto model = shoal::model::ModelFile::Open(o.model);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  const auto& config = (*model)->config();
  const int64_t positions = o.pp + o.tg;
  const int64_t n_blocks = (positions + 15) / 16;
  auto kv = shoal::worker::KvCache::Create(config, {.num_blocks = n_blocks});
  if (!kv.ok()) return 1;
  std::vector<int32_t> blocks(n_blocks);
  for (int64_t i = 0; i < n_blocks; ++i) blocks[i] = static_cast<int32_t>(i);
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(config.n_vocab - 1));
  std::vector<int32_t> prompt(o.pp);
  for (int32_t& t : prompt) t = token(rng);
  std::vector<float> logits(config.n_vocab);
  const double rss_loaded = ResidentMib();

  std::vector<std::string> rows;
  double rss_end = 0;  // the largest after a thread count's runs, its decoder still alive
  for (int threads : o.threads) {
    auto pool = shoal::ThreadPool::Create(threads);
    auto decoder = shoal::worker::Decoder::Create(**model, **pool, {.interleave = o.interleave});
    if (!pool.ok() || !decoder.ok()) return 1;
    Bench bench(**model, **decoder, **kv, blocks);
    // Warm up with a full-size pass: buffers grow and pages are touched before timing.
    bench.Pass(prompt, 0, logits);
    std::vector<double> pp, tg;
    for (int rep = 0; rep < o.reps; ++rep) {
      pp.push_back(o.pp / bench.Pass(prompt, 0, logits));
      double decode_seconds = 0;
      for (int i = 0; i < o.tg; ++i) {
        const int32_t next = static_cast<int32_t>(
            std::max_element(logits.begin(), logits.end()) - logits.begin());
        decode_seconds += bench.Pass(std::span(&next, 1), o.pp + i, logits);
      }
      tg.push_back(o.tg / decode_seconds);
    }
    rss_end = std::max(rss_end, ResidentMib());
    rows.push_back(fmt::format(
        "{{\"threads\": {}, \"pp\": {}, \"pp_tokens_per_s\": {:.2f}, \"tg\": {}, "
        "\"tg_tokens_per_s\": {:.2f}}}",
        threads, o.pp, Median(pp), o.tg, Median(tg)));
    if (!o.json) {
      std::printf("threads %d  pp%d %8.1f tok/s  tg%d %7.2f tok/s\n", threads, o.pp, Median(pp),
                  o.tg, Median(tg));
    }
  }
  if (o.json) {
    std::printf("{\"model\": \"%s\", \"file_mib\": %.1f, \"kv_mib\": %.1f, "
                "\"rss_loaded_mib\": %.1f, \"rss_end_mib\": %.1f, \"results\": [%s]}\n",
                o.model.c_str(), (*model)->gguf().file_size() / 1048576.0,
                (*kv)->total_bytes() / 1048576.0, rss_loaded, rss_end,
                fmt::format("{}", fmt::join(rows, ", ")).c_str());
  } else {
    std::printf("file %.1f MiB, KV %.1f MiB, RSS after load %.1f MiB, after runs %.1f MiB\n",
                (*model)->gguf().file_size() / 1048576.0, (*kv)->total_bytes() / 1048576.0,
                rss_loaded, rss_end);
  }
  return 0;
}
