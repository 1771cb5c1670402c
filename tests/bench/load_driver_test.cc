#include "tests/bench/load_driver.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/thread_pool.h"
#include "gtest/gtest.h"

namespace refsum::bench {
namespace {

// Answers calls from other threads, as gRPC's callback API does, and
// tracks how many are in flight.
class Answerer {
 public:
  explicit Answerer(absl::Status outcome = absl::OkStatus())
      : outcome_(std::move(outcome)), pool_(4) {}

  StartCall Calls() {
    return [this](uint64_t i, std::function<void(absl::Status)> done) {
      const int now = ++in_flight_;
      int seen = max_in_flight_.load();
      while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
      }
      started_.fetch_add(1);
      max_index_ = std::max<uint64_t>(max_index_, i);
      pool_.Schedule([this, done = std::move(done)] {
        --in_flight_;
        done(outcome_);
      });
    };
  }

  int max_in_flight() const { return max_in_flight_; }
  uint64_t started() const { return started_; }

 private:
  const absl::Status outcome_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::atomic<uint64_t> started_{0};
  std::atomic<uint64_t> max_index_{0};
  ThreadPool pool_;
};

TEST(LoadDriverTest, ClosedLoopMakesExactlyMaxCallsWithBoundedConcurrency) {
  Answerer answerer;
  LoadOptions options;
  options.duration = absl::InfiniteDuration();
  options.max_calls = 500;
  const LoadResult result = RunClosedLoop(4, options, answerer.Calls());
  EXPECT_EQ(result.ok, 500u);
  EXPECT_EQ(result.errors, 0u);
  EXPECT_EQ(result.latency.count(), 500u);
  EXPECT_EQ(answerer.started(), 500u);
  EXPECT_LE(answerer.max_in_flight(), 4);
  EXPECT_GT(result.Rate(), 0);
}

TEST(LoadDriverTest, ClosedLoopStopsAtTheDuration) {
  Answerer answerer;
  LoadOptions options;
  options.duration = absl::Milliseconds(200);
  const LoadResult result = RunClosedLoop(2, options, answerer.Calls());
  EXPECT_GT(result.ok, 0u);
  EXPECT_EQ(result.errors, 0u);
  EXPECT_EQ(result.ok, answerer.started());
}

TEST(LoadDriverTest, ErrorsAreCountedWithTheFirstOne) {
  Answerer answerer(absl::UnavailableError("down"));
  LoadOptions options;
  options.duration = absl::InfiniteDuration();
  options.max_calls = 10;
  const LoadResult result = RunClosedLoop(3, options, answerer.Calls());
  EXPECT_EQ(result.ok, 0u);
  EXPECT_EQ(result.errors, 10u);
  EXPECT_EQ(result.first_error, absl::UnavailableError("down"));
  EXPECT_EQ(result.latency.count(), 0u);
  EXPECT_EQ(result.Rate(), 0);
}

TEST(LoadDriverTest, UnansweredCallsCountAsErrorsAfterTheDrainTimeout) {
  std::function<void(absl::Status)> kept;
  LoadOptions options;
  options.duration = absl::Milliseconds(1);
  options.max_calls = 1;
  options.drain_timeout = absl::Milliseconds(100);
  const LoadResult result = RunClosedLoop(
      1, options, [&kept](uint64_t, std::function<void(absl::Status)> done) {
        kept = std::move(done);
      });
  EXPECT_EQ(result.errors, 1u);
  EXPECT_EQ(result.first_error.code(), absl::StatusCode::kDeadlineExceeded);
  kept(absl::OkStatus());  // A late answer must not crash.
}

TEST(LoadDriverTest, OpenLoopIssuesMaxCalls) {
  Answerer answerer;
  LoadOptions options;
  options.duration = absl::InfiniteDuration();
  options.max_calls = 50;
  const LoadResult result = RunOpenLoop(1000, 100, options, answerer.Calls());
  EXPECT_EQ(result.ok + result.skipped, 50u + result.skipped);
  EXPECT_EQ(result.ok, answerer.started());
  EXPECT_EQ(result.ok, 50u);
}

TEST(LoadDriverTest, FormatResultNamesEveryField) {
  LoadResult result;
  result.ok = 3;
  result.elapsed = absl::Seconds(1);
  result.latency.Record(absl::Milliseconds(2));
  const std::string line = FormatResult(result, "x_");
  for (const char* key : {"x_ok=3 ", "x_errors=0 ", "x_rate=3.0 ",
                          "x_p50_ms=", "x_p99_ms=", "x_max_ms=2.000"}) {
    EXPECT_NE(line.find(key), std::string::npos) << key << " in " << line;
  }
}

}  // namespace
}  // namespace refsum::bench
