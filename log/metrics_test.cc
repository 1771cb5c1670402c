#include "log/metrics.h"

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refsum::log {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(MetricsTest, RendersTheExpositionFormatExactly) {
  Metrics metrics;
  metrics.RecordSubmission(SubmissionResult::kNew);
  metrics.RecordSubmission(SubmissionResult::kNew);
  metrics.RecordSubmission(SubmissionResult::kDuplicate);
  metrics.RecordRpcError("Submit", absl::StatusCode::kInvalidArgument);
  metrics.RecordRpcError("GetEntries", absl::StatusCode::kOutOfRange);
  metrics.RecordRpcError("Submit", absl::StatusCode::kInvalidArgument);
  metrics.RecordHttpResponse(404);
  metrics.RecordHttpResponse(200);
  metrics.ObserveBatchEntries(1);
  metrics.ObserveBatchEntries(3);
  metrics.ObserveBatchEntries(5000);
  metrics.ObserveIntegrationLatency(absl::Microseconds(500));
  metrics.ObserveIntegrationLatency(absl::Milliseconds(30));
  metrics.SetTreeSize(70000);
  metrics.RecordWitnessPush("w2", WitnessPushOutcome::kUnreachable);
  metrics.RecordWitnessPush("w1", WitnessPushOutcome::kCosigned);
  metrics.RecordWitnessPush("w1", WitnessPushOutcome::kConflict);
  metrics.RecordWitnessPush("w1", WitnessPushOutcome::kCosigned);
  metrics.SetWitnessedTreeSize(69990);

  EXPECT_EQ(
      metrics.Render(),
      R"(# HELP refsum_log_submissions_total Submit calls by outcome: a new entry, a duplicate of a logged entry, or an error.
# TYPE refsum_log_submissions_total counter
refsum_log_submissions_total{result="duplicate"} 1
refsum_log_submissions_total{result="error"} 0
refsum_log_submissions_total{result="new"} 2
# HELP refsum_log_rpc_errors_total Failed RPCs by method and gRPC status code.
# TYPE refsum_log_rpc_errors_total counter
refsum_log_rpc_errors_total{method="GetEntries",code="OUT_OF_RANGE"} 1
refsum_log_rpc_errors_total{method="Submit",code="INVALID_ARGUMENT"} 2
# HELP refsum_log_http_requests_total HTTP responses of the tlog-tiles read API by status code.
# TYPE refsum_log_http_requests_total counter
refsum_log_http_requests_total{code="200"} 1
refsum_log_http_requests_total{code="404"} 1
# HELP refsum_log_batch_entries Entries per integrated batch.
# TYPE refsum_log_batch_entries histogram
refsum_log_batch_entries_bucket{le="1"} 1
refsum_log_batch_entries_bucket{le="2"} 1
refsum_log_batch_entries_bucket{le="4"} 2
refsum_log_batch_entries_bucket{le="8"} 2
refsum_log_batch_entries_bucket{le="16"} 2
refsum_log_batch_entries_bucket{le="32"} 2
refsum_log_batch_entries_bucket{le="64"} 2
refsum_log_batch_entries_bucket{le="128"} 2
refsum_log_batch_entries_bucket{le="256"} 2
refsum_log_batch_entries_bucket{le="512"} 2
refsum_log_batch_entries_bucket{le="1024"} 2
refsum_log_batch_entries_bucket{le="2048"} 2
refsum_log_batch_entries_bucket{le="4096"} 2
refsum_log_batch_entries_bucket{le="+Inf"} 3
refsum_log_batch_entries_sum 5004
refsum_log_batch_entries_count 3
# HELP refsum_log_integration_latency_seconds Time from submission until the entry is durably integrated and covered by a signed checkpoint.
# TYPE refsum_log_integration_latency_seconds histogram
refsum_log_integration_latency_seconds_bucket{le="0.0005"} 1
refsum_log_integration_latency_seconds_bucket{le="0.001"} 1
refsum_log_integration_latency_seconds_bucket{le="0.0025"} 1
refsum_log_integration_latency_seconds_bucket{le="0.005"} 1
refsum_log_integration_latency_seconds_bucket{le="0.01"} 1
refsum_log_integration_latency_seconds_bucket{le="0.025"} 1
refsum_log_integration_latency_seconds_bucket{le="0.05"} 2
refsum_log_integration_latency_seconds_bucket{le="0.1"} 2
refsum_log_integration_latency_seconds_bucket{le="0.25"} 2
refsum_log_integration_latency_seconds_bucket{le="0.5"} 2
refsum_log_integration_latency_seconds_bucket{le="1"} 2
refsum_log_integration_latency_seconds_bucket{le="2.5"} 2
refsum_log_integration_latency_seconds_bucket{le="5"} 2
refsum_log_integration_latency_seconds_bucket{le="10"} 2
refsum_log_integration_latency_seconds_bucket{le="+Inf"} 2
refsum_log_integration_latency_seconds_sum 0.0305
refsum_log_integration_latency_seconds_count 2
# HELP refsum_log_tree_size Tree size of the newest signed checkpoint.
# TYPE refsum_log_tree_size gauge
refsum_log_tree_size 70000
# HELP refsum_log_witness_pushes_total add-checkpoint requests to witnesses by witness and outcome.
# TYPE refsum_log_witness_pushes_total counter
refsum_log_witness_pushes_total{witness="w1",outcome="conflict"} 1
refsum_log_witness_pushes_total{witness="w1",outcome="cosigned"} 2
refsum_log_witness_pushes_total{witness="w2",outcome="unreachable"} 1
# HELP refsum_log_witnessed_tree_size Tree size of the newest checkpoint that meets the witness policy; 0 without one.
# TYPE refsum_log_witnessed_tree_size gauge
refsum_log_witnessed_tree_size 69990
)");
}

TEST(MetricsTest, EscapesLabelValues) {
  Metrics metrics;
  metrics.RecordRpcError("a\"b\\c\nd", absl::StatusCode::kInternal);
  EXPECT_THAT(
      metrics.Render(),
      HasSubstr("refsum_log_rpc_errors_total{method=\"a\\\"b\\\\c\\nd\",code=\""
                "INTERNAL\"} 1\n"));
}

TEST(MetricsTest, LargeValuesRenderExactlyAsGoDoes) {
  Metrics metrics;
  metrics.SetTreeSize((uint64_t{1} << 40) + 1);
  EXPECT_THAT(metrics.Render(),
              HasSubstr("\nrefsum_log_tree_size 1.099511627777e+12\n"));
}

TEST(HistogramTest, BoundsAreInclusiveAndNanGoesToInf) {
  Histogram histogram({1, 2});
  histogram.Observe(1);
  histogram.Observe(1.5);
  histogram.Observe(2);
  histogram.Observe(-7);
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());
  histogram.Observe(3);
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_THAT(snapshot.upper_bounds, ElementsAre(1, 2));
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(2, 4, 6));
  EXPECT_TRUE(std::isnan(snapshot.sum));
}

TEST(CounterFamilyTest, ReturnsTheSameCounterForTheSameLabels) {
  CounterFamily family;
  Counter& a = family.Get({{"code", "200"}});
  a.Increment(2);
  family.Get({{"code", "404"}}).Increment();
  family.Get({{"code", "200"}}).Increment();
  EXPECT_EQ(&a, &family.Get({{"code", "200"}}));
  EXPECT_EQ(a.Value(), 3u);
  const Labels ok = {{"code", "200"}};
  const Labels not_found = {{"code", "404"}};
  EXPECT_THAT(family.Read(), ElementsAre(Pair(ok, 3u), Pair(not_found, 1u)));
}

TEST(MetricsTest, ConcurrentUpdatesAllCount) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10000;
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kPerThread; ++i) {
        metrics.RecordSubmission(SubmissionResult::kNew);
        metrics.RecordHttpResponse(200 + t % 2);
        metrics.ObserveBatchEntries(1);
        metrics.ObserveIntegrationLatency(absl::Milliseconds(1));
        metrics.SetTreeSize(static_cast<uint64_t>(i));
      }
    });
  }
  // Rendering while the counts change must be safe.
  for (int i = 0; i < 20; ++i) metrics.Render();
  for (std::thread& thread : threads) thread.join();

  const std::string text = metrics.Render();
  const int total = kThreads * kPerThread;
  EXPECT_THAT(
      text, HasSubstr(absl::StrCat(
                "refsum_log_submissions_total{result=\"new\"} ", total, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "refsum_log_http_requests_total{code=\"200\"} ",
                        total / 2, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "refsum_log_http_requests_total{code=\"201\"} ",
                        total / 2, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("refsum_log_batch_entries_count ",
                                           total, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("refsum_log_batch_entries_sum ",
                                           total, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "refsum_log_integration_latency_seconds_bucket{le="
                        "\"0.001\"} ",
                        total, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("\nrefsum_log_tree_size ",
                                           kPerThread - 1, "\n")));
}

}  // namespace
}  // namespace refsum::log
