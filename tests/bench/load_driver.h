// Drives asynchronous calls (gRPC callback API or anything else that calls
// back) either closed-loop, with a fixed number of callers each issuing its
// next call when the previous one returns, or open-loop, issuing calls at a
// fixed rate whatever the answers do. Records each call's latency in a
// Histogram: closed-loop from the moment the call is started, open-loop from
// the moment it was scheduled, so that a stalled server is not hidden by the
// load generator slowing down (no coordinated omission).
//
// Thread-safe: RunClosedLoop and RunOpenLoop may be called from any thread;
// `start` is called concurrently from the driver's thread and from the
// threads that run `done`.

#ifndef REFSUM_TESTS_BENCH_LOAD_DRIVER_H_
#define REFSUM_TESTS_BENCH_LOAD_DRIVER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tests/bench/histogram.h"

namespace refsum::bench {

// Starts call number `i` (0, 1, 2, ... in the order calls are started) and
// arranges for `done` to be called exactly once with its outcome, from any
// thread. Must not block; `done` may be called before `start` returns.
using StartCall =
    std::function<void(uint64_t i, std::function<void(absl::Status)> done)>;

struct LoadResult {
  uint64_t ok = 0;
  uint64_t errors = 0;
  // The first error seen, for the report.
  absl::Status first_error;
  // From the first start to the last answer.
  absl::Duration elapsed;
  // Latency of the successful calls.
  Histogram latency;
  // Open loop only: calls not issued because `max_outstanding` were
  // already in flight when their time came.
  uint64_t skipped = 0;

  // Successful calls per second over `elapsed`.
  double Rate() const;
};

struct LoadOptions {
  // Stop starting calls after this long (measured from the first start).
  absl::Duration duration = absl::Seconds(10);
  // And after this many calls in total (0: no limit).
  uint64_t max_calls = 0;
  // Stop waiting for answers this long after the last start, counting the
  // missing ones as errors: a hang guard, never an expectation of speed.
  absl::Duration drain_timeout = absl::Seconds(300);
};

// `concurrency` callers, each starting its next call as soon as its previous
// one returns, until options.duration or options.max_calls is reached.
// Returns once every started call has returned (or drain_timeout passed).
LoadResult RunClosedLoop(int concurrency, const LoadOptions& options,
                         const StartCall& start);

// Starts calls at `rate` per second (evenly spaced), at most
// `max_outstanding` in flight, until options.duration or options.max_calls.
LoadResult RunOpenLoop(double rate, int max_outstanding,
                       const LoadOptions& options, const StartCall& start);

// One line "key=value ..." of a result, with latencies in milliseconds:
// ok errors elapsed_s rate p50_ms p90_ms p99_ms max_ms mean_ms, and
// `prefix` before each key.
std::string FormatResult(const LoadResult& result, const std::string& prefix);

}  // namespace refsum::bench

#endif  // REFSUM_TESTS_BENCH_LOAD_DRIVER_H_
