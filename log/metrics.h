// The log's Prometheus metrics: a few counters, a gauge and histograms kept in
// memory and rendered in the Prometheus text exposition format 0.0.4 for
// GET /metrics. No metrics library: the log needs only these, and the
// format is small.

#ifndef REFSUM_LOG_METRICS_H_
#define REFSUM_LOG_METRICS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace refsum::log {

// A metric's labels as (name, value) pairs, rendered in this order. Names
// must match [a-zA-Z_][a-zA-Z0-9_]*; values may hold any text.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A count that only goes up. Thread-safe and lock-free: one relaxed atomic
// add per increment, so it costs nothing worth measuring on the submit path.
class Counter {
 public:
  void Increment(uint64_t delta = 1) {
    value_.fetch_add(delta, std::memory_order_relaxed);
  }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that is set, not accumulated. Thread-safe and lock-free.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// The counters of one metric, one per label set, created at zero on first
// use. Thread-safe. Get takes a mutex and a map lookup; a hot path can look
// its counter up once and keep the reference.
class CounterFamily {
 public:
  // Returns the counter for `labels`. The reference stays valid as long as
  // the family does.
  Counter& Get(const Labels& labels);

  // Returns every label set with its count, ordered by labels.
  std::vector<std::pair<Labels, uint64_t>> Read() const;

 private:
  mutable absl::Mutex mu_;
  // A map: its nodes never move, so references returned by Get stay valid.
  std::map<Labels, Counter> counters_ ABSL_GUARDED_BY(mu_);
};

// Observations counted into fixed buckets, with their sum. Thread-safe:
// Observe holds a mutex for a few instructions, so that Read always sees
// bucket counts and sum from the same set of observations.
class Histogram {
 public:
  struct Snapshot {
    // The finite upper bounds; a last bucket up to +Inf is implied.
    std::vector<double> upper_bounds;
    // Cumulative: counts[i] observations were <= upper_bounds[i]; the last
    // element (one past upper_bounds) counts every observation.
    std::vector<uint64_t> cumulative_counts;
    double sum = 0;
  };

  // `upper_bounds` must be finite and strictly increasing.
  explicit Histogram(std::vector<double> upper_bounds);

  // Counts `value` in the first bucket whose upper bound is >= value (NaN and
  // values above every bound go to the +Inf bucket) and adds it to the sum.
  void Observe(double value);

  Snapshot Read() const;

 private:
  const std::vector<double> upper_bounds_;
  mutable absl::Mutex mu_;
  // Not cumulative; one more than upper_bounds_, the last one for +Inf.
  std::vector<uint64_t> bucket_counts_ ABSL_GUARDED_BY(mu_);
  double sum_ ABSL_GUARDED_BY(mu_) = 0;
};

// How a Submit call ended.
enum class SubmissionResult { kNew, kDuplicate, kError };

// How one add-checkpoint request to a witness ended (log/witness_pusher.h).
enum class WitnessPushOutcome {
  // 200 with a valid cosignature by the witness.
  kCosigned,
  // 409 naming another stored size, which the next request starts from.
  kConflict,
  // Any other HTTP status, or a 409 that cannot be resolved.
  kRejected,
  // No HTTP response: connection refused, timeout, TLS failure.
  kUnreachable,
  // 200 without a valid cosignature by the witness's key.
  kInvalidResponse,
};

// Every metric the log exports:
//   refsum_log_submissions_total{result="new|duplicate|error"}   counter
//   refsum_log_rpc_errors_total{method,code}                     counter
//   refsum_log_http_requests_total{code}                         counter
//   refsum_log_batch_entries                                     histogram
//   refsum_log_integration_latency_seconds                       histogram
//   refsum_log_tree_size                                         gauge
//   refsum_log_witness_pushes_total{witness,outcome}             counter
//   refsum_log_witnessed_tree_size                               gauge
// One instance is shared by the sequencer, the gRPC service and the HTTP
// server. Every method is thread-safe; the Record/Observe/Set calls never
// wait on Render for longer than it takes to copy one metric.
class Metrics {
 public:
  // Upper bounds of refsum_log_batch_entries: powers of two up to 4096, past
  // any sensible batch size limit.
  static const std::vector<double>& BatchEntriesBuckets();
  // Upper bounds of refsum_log_integration_latency_seconds: 0.5 ms to 10 s,
  // from a batch on a fast disk to a log that is falling behind.
  static const std::vector<double>& IntegrationLatencyBuckets();

  Metrics();

  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Counts one finished Submit call by how it ended.
  void RecordSubmission(SubmissionResult result);

  // Counts one RPC that failed with `code`. `method` is the RPC's name (e.g.
  // "Submit"); `code` is rendered by its canonical name (INVALID_ARGUMENT),
  // which is also gRPC's, and grpc::StatusCode has the same values.
  void RecordRpcError(absl::string_view method, absl::StatusCode code);

  // Counts one HTTP response with status `code`.
  void RecordHttpResponse(int code);

  // Records one integrated batch of `entries` entries.
  void ObserveBatchEntries(size_t entries);

  // Records how long an entry took from being submitted to being durably
  // integrated and covered by a signed checkpoint.
  void ObserveIntegrationLatency(absl::Duration latency);

  // Sets the size of the tree of the newest checkpoint.
  void SetTreeSize(uint64_t size);

  // Counts one add-checkpoint request to the witness named `witness` (its
  // name in the witness policy) by how it ended.
  void RecordWitnessPush(absl::string_view witness, WitnessPushOutcome outcome);

  // Sets the size of the tree of the newest checkpoint that meets the
  // witness policy.
  void SetWitnessedTreeSize(uint64_t size);

  // Returns every metric in the Prometheus text format 0.0.4 (serve it as
  // "text/plain; version=0.0.4"): HELP and TYPE lines, then the samples,
  // label sets in sorted order. Labeled counters show only the label sets
  // that were counted, except submissions, whose three results always show.
  std::string Render() const;

 private:
  CounterFamily submissions_;
  // submissions_'s three counters, looked up once so that RecordSubmission
  // is a single atomic add.
  Counter& new_submissions_;
  Counter& duplicate_submissions_;
  Counter& failed_submissions_;
  CounterFamily rpc_errors_;
  CounterFamily http_requests_;
  Histogram batch_entries_;
  Histogram integration_latency_;
  Gauge tree_size_;
  CounterFamily witness_pushes_;
  Gauge witnessed_tree_size_;
};

}  // namespace refsum::log

#endif  // REFSUM_LOG_METRICS_H_
