#include "tests/bench/load_driver.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace refsum::bench {

namespace {

// Shared state of one run. Held by shared_ptr so that late answers after a
// drain timeout find it alive.
class Run {
 public:
  Run(const LoadOptions& options, const StartCall& start)
      : options_(options), start_(start) {}

  // Starts call `i`, scheduled for `scheduled` (the latency's origin).
  // `then` runs after the answer is recorded and decides whether to
  // continue (closed loop).
  void Issue(std::shared_ptr<Run> self, absl::Time scheduled,
             bool closed_loop) {
    {
      // Checked under mu_, so that Finish, once it has set finished_, only
      // waits for the starts already under way before start_ may go away.
      absl::MutexLock lock(&mu_);
      if (finished_.load()) return;
      ++outstanding_;
      ++starting_;
    }
    const uint64_t i = next_.fetch_add(1);
    start_(i, [self, scheduled, closed_loop](absl::Status status) {
      self->Answered(self, scheduled, status, closed_loop);
    });
    absl::MutexLock lock(&mu_);
    --starting_;
  }

  // Whether another call may start now: never once Finish has returned,
  // when `start_` may no longer exist.
  bool MayStart() {
    if (finished_.load()) return false;
    if (options_.max_calls != 0 && next_.load() >= options_.max_calls) {
      return false;
    }
    return absl::Now() < stop_at_;
  }

  void Begin() {
    began_ = absl::Now();
    stop_at_ = began_ + options_.duration;
  }

  uint64_t outstanding() {
    absl::MutexLock lock(&mu_);
    return outstanding_;
  }

  // Waits until every started call has answered or the drain timeout
  // passes; returns the result.
  LoadResult Finish() {
    LoadResult result;
    absl::MutexLock lock(&mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return outstanding_ == 0;
    };
    const absl::Time deadline =
        std::max(absl::Now(), stop_at_) + options_.drain_timeout;
    mu_.AwaitWithDeadline(absl::Condition(&drained), deadline);
    finished_ = true;
    auto started = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return starting_ == 0;
    };
    mu_.Await(absl::Condition(&started));
    result.ok = ok_;
    result.errors = errors_ + outstanding_;
    result.first_error = first_error_;
    if (outstanding_ != 0 && result.first_error.ok()) {
      result.first_error = absl::DeadlineExceededError(absl::StrCat(
          outstanding_, " calls did not answer within the drain timeout"));
    }
    result.latency = latency_;
    result.elapsed = ok_ + errors_ == 0 ? absl::ZeroDuration()
                                        : last_answer_ - began_;
    return result;
  }

 private:
  void Answered(std::shared_ptr<Run> self, absl::Time scheduled,
                const absl::Status& status, bool closed_loop) {
    const absl::Time now = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      if (status.ok()) {
        ++ok_;
        latency_.Record(now - scheduled);
      } else {
        ++errors_;
        if (first_error_.ok()) first_error_ = status;
      }
      last_answer_ = std::max(last_answer_, now);
    }
    if (closed_loop && MayStart()) Issue(self, absl::Now(), true);
    absl::MutexLock lock(&mu_);
    --outstanding_;
  }

  const LoadOptions options_;
  const StartCall& start_;
  std::atomic<uint64_t> next_{0};
  std::atomic<bool> finished_{false};
  absl::Time began_;
  absl::Time stop_at_;

  absl::Mutex mu_;
  uint64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  // Calls of start_ under way.
  uint64_t starting_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t ok_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
  Histogram latency_ ABSL_GUARDED_BY(mu_);
  absl::Time last_answer_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace

double LoadResult::Rate() const {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return seconds > 0 ? static_cast<double>(ok) / seconds : 0;
}

LoadResult RunClosedLoop(int concurrency, const LoadOptions& options,
                         const StartCall& start) {
  auto run = std::make_shared<Run>(options, start);
  run->Begin();
  for (int c = 0; c < concurrency && run->MayStart(); ++c) {
    run->Issue(run, absl::Now(), /*closed_loop=*/true);
  }
  return run->Finish();
}

LoadResult RunOpenLoop(double rate, int max_outstanding,
                       const LoadOptions& options, const StartCall& start) {
  auto run = std::make_shared<Run>(options, start);
  run->Begin();
  const absl::Time t0 = absl::Now();
  const absl::Duration interval = absl::Seconds(1.0 / rate);
  uint64_t skipped = 0;
  for (uint64_t k = 0;; ++k) {
    const absl::Time scheduled = t0 + interval * static_cast<double>(k);
    const absl::Duration wait = scheduled - absl::Now();
    if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
    if (!run->MayStart()) break;
    if (run->outstanding() >= static_cast<uint64_t>(max_outstanding)) {
      ++skipped;
      continue;
    }
    run->Issue(run, scheduled, /*closed_loop=*/false);
  }
  LoadResult result = run->Finish();
  result.skipped = skipped;
  return result;
}

std::string FormatResult(const LoadResult& result, const std::string& prefix) {
  auto ms = [](absl::Duration d) {
    return absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(d));
  };
  return absl::StrCat(
      prefix, "ok=", result.ok, " ", prefix, "errors=", result.errors, " ",
      prefix, "skipped=", result.skipped, " ", prefix, "elapsed_s=",
      absl::StrFormat("%.3f", absl::ToDoubleSeconds(result.elapsed)), " ",
      prefix, "rate=", absl::StrFormat("%.1f", result.Rate()), " ", prefix,
      "p50_ms=", ms(result.latency.Percentile(0.5)), " ", prefix,
      "p90_ms=", ms(result.latency.Percentile(0.9)), " ", prefix,
      "p99_ms=", ms(result.latency.Percentile(0.99)), " ", prefix,
      "max_ms=", ms(result.latency.Max()), " ", prefix,
      "mean_ms=", ms(result.latency.Mean()));
}

}  // namespace refsum::bench
