#include "tests/bench/histogram.h"

#include <cstdint>
#include <random>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace refsum::bench {
namespace {

TEST(HistogramTest, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), absl::ZeroDuration());
  EXPECT_EQ(h.Max(), absl::ZeroDuration());
  EXPECT_EQ(h.Mean(), absl::ZeroDuration());
}

TEST(HistogramTest, BucketsAreContiguousAndCoverTheirBounds) {
  uint64_t previous_upper = 0;
  for (int b = 0; b < Histogram::kBuckets; ++b) {
    const uint64_t upper = Histogram::BucketUpperBound(b);
    if (b > 0) {
      EXPECT_EQ(Histogram::BucketOf(previous_upper + 1), b) << b;
    }
    EXPECT_EQ(Histogram::BucketOf(upper), b) << b;
    previous_upper = upper;
  }
}

TEST(HistogramTest, RelativeErrorIsBounded) {
  for (uint64_t v = 1; v < (uint64_t{1} << 31); v = v * 3 / 2 + 1) {
    const uint64_t upper = Histogram::BucketUpperBound(Histogram::BucketOf(v));
    EXPECT_GE(upper, v);
    EXPECT_LE(static_cast<double>(upper - v), static_cast<double>(v) / 64.0)
        << v;
  }
}

TEST(HistogramTest, PercentilesOfAUniformSample) {
  Histogram h;
  for (int i = 1; i <= 10000; ++i) h.Record(absl::Microseconds(i));
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.Max(), absl::Microseconds(10000));
  const double p50 = absl::ToDoubleMicroseconds(h.Percentile(0.5));
  const double p99 = absl::ToDoubleMicroseconds(h.Percentile(0.99));
  EXPECT_GE(p50, 5000);
  EXPECT_LE(p50, 5000 * (1 + 1.0 / 64));
  EXPECT_GE(p99, 9900);
  EXPECT_LE(p99, 10000);
  EXPECT_NEAR(absl::ToDoubleMicroseconds(h.Mean()), 5000.5, 0.5);
}

TEST(HistogramTest, MergeEqualsRecordingEverything) {
  std::mt19937_64 random(7);
  Histogram all, a, b;
  for (int i = 0; i < 5000; ++i) {
    const absl::Duration d = absl::Microseconds(random() % 1000000);
    all.Record(d);
    (i % 2 ? a : b).Record(d);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.Max(), all.Max());
  for (double q : {0.0, 0.5, 0.9, 0.99, 1.0}) {
    EXPECT_EQ(a.Percentile(q), all.Percentile(q)) << q;
  }
}

TEST(HistogramTest, OutOfRangeValuesAreClamped) {
  Histogram h;
  h.Record(-absl::Seconds(1));
  h.Record(absl::Hours(10));
  EXPECT_EQ(h.Percentile(0.0), absl::ZeroDuration());
  EXPECT_EQ(h.Max(), absl::Hours(10));
  EXPECT_GT(h.Percentile(1.0), absl::Hours(1));
}

}  // namespace
}  // namespace refsum::bench
