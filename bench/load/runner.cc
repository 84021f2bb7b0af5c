#include "bench/load/runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <queue>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/steady_timer.hpp"
#include "fmt/format.h"

namespace shoal::bench {
namespace {

namespace net = boost::asio;

double ThreadCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

std::chrono::steady_clock::duration Chrono(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

// The median of the values seen so far (for the progress line).
double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  return values[mid];
}

// One run's state; lives on the stack of Run, used on the io_context thread only.
class Loop {
 public:
  Loop(net::io_context& io, Target& target, const std::vector<RequestSpec>& specs,
       const RunOptions& options, const RunClock& clock, ArrivalSchedule arrivals)
      : io_(io),
        target_(target),
        specs_(specs),
        options_(options),
        clock_(clock),
        arrivals_(std::move(arrivals)),
        arrival_timer_(io),
        progress_timer_(io),
        deadline_timer_(io),
        // Keeps io.run() going while requests are in flight whose events come from
        // other threads (gRPC's) and would leave the io_context idle meanwhile.
        work_(net::make_work_guard(io)),
        ended_(specs.size(), false),
        waiting_(specs.size()) {}

  void Begin() {
    start_ = clock_.Now();
    open_loop_ = std::isfinite(options_.request_rate);
    if (options_.duration != absl::InfiniteDuration()) {
      deadline_timer_.expires_after(absl::ToChronoNanoseconds(options_.duration));
      deadline_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) Stop();
      });
    }
    if (options_.progress != nullptr) ArmProgress();
    if (open_loop_) {
      ScheduleArrival();
    } else {
      while (released_ < specs_.size()) Release();
      SendReady();
    }
    MaybeFinish();
  }

  std::vector<RequestRecord>& records() { return records_; }

 private:
  // The next spec has arrived (a closed loop: all at the start): it is ready, or waits
  // for the spec it comes after to end.
  void Release() {
    const size_t position = released_++;
    const int64_t after = specs_[position].after;
    if (after < 0 || ended_[after]) {
      ready_.push(position);
    } else {
      waiting_[after].push_back(position);
    }
  }

  // Sends ready specs, first the earliest, while the concurrency cap allows.
  void SendReady() {
    while (!stopped_ && !ready_.empty() &&
           (options_.concurrency <= 0 || in_flight_ < options_.concurrency)) {
      const size_t position = ready_.top();
      ready_.pop();
      Send(position);
    }
  }

  // Open loop: the next arrival after its gap; an arrival that finds the concurrency
  // cap full waits (queued) until a request ends, as vLLM's --max-concurrency does.
  void ScheduleArrival() {
    if (stopped_ || released_ >= specs_.size()) return;
    arrival_timer_.expires_after(Chrono(arrivals_.NextGap()));
    arrival_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopped_) return;
      Release();
      SendReady();
      ScheduleArrival();
    });
  }

  void Send(size_t position) {
    ++sent_;
    ++in_flight_;
    target_.Send(specs_[position], [this, position](RequestRecord record) {
      OnDone(position, std::move(record));
    });
  }

  void OnDone(size_t position, RequestRecord record) {
    --in_flight_;
    const RequestSpec& spec = specs_[position];
    record.session = spec.session;
    record.turn = spec.turn;
    ended_[position] = true;
    for (const size_t next : waiting_[position]) ready_.push(next);
    waiting_[position].clear();
    if (record.ok()) {
      if (record.ttft() >= 0) ttfts_.push_back(record.ttft());
      if (record.output_tokens > 1) tpots_.push_back(record.tpot());
    } else {
      ++errors_;
    }
    records_.push_back(std::move(record));
    SendReady();
    MaybeFinish();
  }

  void MaybeFinish() {
    const bool all_sent = sent_ >= specs_.size() || stopped_;
    if (all_sent && in_flight_ == 0 && !finished_) {
      finished_ = true;
      arrival_timer_.cancel();
      progress_timer_.cancel();
      deadline_timer_.cancel();
      work_.reset();
      if (options_.progress != nullptr) PrintProgress(/*final=*/true);
    }
  }

  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    arrival_timer_.cancel();
    target_.CancelAll();  // their records still come, as disconnects
    MaybeFinish();
  }

  void ArmProgress() {
    progress_timer_.expires_after(absl::ToChronoNanoseconds(options_.progress_interval));
    progress_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || finished_) return;
      PrintProgress(/*final=*/false);
      ArmProgress();
    });
  }

  void PrintProgress(bool final) {
    const double elapsed = std::max(1e-9, clock_.Now() - start_);
    const std::string line = fmt::format(
        "{:>6}/{} done  {:>5} in flight  {:7.2f} req/s  TTFT p50 {:8.1f} ms  TPOT p50 {:7.2f} ms  "
        "{} errors  {:6.1f} s",
        records_.size(), specs_.size(), in_flight_, records_.size() / elapsed,
        Median(ttfts_) * 1e3, Median(tpots_) * 1e3, errors_, elapsed);
    if (options_.progress_is_terminal) {
      std::fprintf(options_.progress, "\r%s%s", line.c_str(), final ? "\n" : "");
    } else {
      std::fprintf(options_.progress, "%s\n", line.c_str());
    }
    std::fflush(options_.progress);
  }

  net::io_context& io_;
  Target& target_;
  const std::vector<RequestSpec>& specs_;
  const RunOptions& options_;
  const RunClock& clock_;
  ArrivalSchedule arrivals_;
  net::steady_timer arrival_timer_, progress_timer_, deadline_timer_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::vector<RequestRecord> records_;
  std::vector<double> ttfts_, tpots_;
  std::vector<bool> ended_;                   // by position
  std::vector<std::vector<size_t>> waiting_;  // by position: the specs released after it
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready_;  // earliest first
  size_t released_ = 0;  // specs arrived so far (a closed loop: all)
  size_t sent_ = 0;
  int64_t in_flight_ = 0;
  int64_t errors_ = 0;
  double start_ = 0;
  bool open_loop_ = false;
  bool stopped_ = false;
  bool finished_ = false;
};

}  // namespace

absl::Status RunOptions::Validate() const {
  if (concurrency < 0) return absl::InvalidArgumentError("--concurrency must be >= 0");
  if (std::isnan(request_rate) || request_rate <= 0) {
    return absl::InvalidArgumentError("--request-rate must be > 0 (inf: all at once)");
  }
  if (!std::isfinite(request_rate) && concurrency == 0) {
    return absl::InvalidArgumentError(
        "a run needs --concurrency (closed loop) or a finite --request-rate (open loop)");
  }
  if (!(burstiness > 0)) return absl::InvalidArgumentError("--burstiness must be > 0");
  if (duration <= absl::ZeroDuration()) return absl::InvalidArgumentError("--duration must be > 0");
  if (progress_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the progress interval must be > 0");
  }
  return absl::OkStatus();
}

absl::StatusOr<RunResult> Run(net::io_context& io, Target& target,
                              const std::vector<RequestSpec>& specs, const RunOptions& options,
                              const RunClock& clock) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].after < -1 || specs[i].after >= static_cast<int64_t>(i)) {
      return absl::InvalidArgumentError(fmt::format(
          "request {} comes after request {}, which is not an earlier one", i, specs[i].after));
    }
  }
  absl::StatusOr<ArrivalSchedule> arrivals = ArrivalSchedule::Create(
      {.rate = std::isfinite(options.request_rate) ? options.request_rate
                                                   : std::numeric_limits<double>::infinity(),
       .burstiness = options.burstiness,
       .constant = options.constant_arrivals,
       .seed = options.seed});
  if (!arrivals.ok()) return arrivals.status();
  const double cpu_before = ThreadCpuSeconds();
  const double start = clock.Now();
  io.restart();
  Loop loop(io, target, specs, options, clock, std::move(*arrivals));
  loop.Begin();
  io.run();
  RunResult result;
  result.records = std::move(loop.records());
  result.wall_seconds = clock.Now() - start;
  result.loop_cpu_seconds = ThreadCpuSeconds() - cpu_before;
  return result;
}

}  // namespace shoal::bench
