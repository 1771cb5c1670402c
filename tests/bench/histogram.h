// A latency histogram with HDR-style log-linear buckets: values (in
// microseconds) are kept with a relative error below 1/64 (about 1.6%) from
// 1 us to about 1.2 hours, in a fixed 4 KiB-ish array, so recording is O(1)
// and histograms of several threads can be merged.
//
// Thread-compatible: guard a shared Histogram with a mutex, or give each
// thread its own and Merge them.

#ifndef REFSUM_TESTS_BENCH_HISTOGRAM_H_
#define REFSUM_TESTS_BENCH_HISTOGRAM_H_

#include <array>
#include <cstdint>

#include "absl/time/time.h"

namespace refsum::bench {

class Histogram {
 public:
  // Records one value. Negative durations count as 0; durations beyond the
  // range count in the last bucket (Max() still reports them exactly).
  void Record(absl::Duration value);

  // Adds every value recorded in `other`.
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }

  // The smallest recorded value v such that at least `quantile` (0..1) of
  // the values are <= v, rounded up to its bucket's upper bound (never below
  // the true quantile, at most 1/64 above it). ZeroDuration if empty.
  absl::Duration Percentile(double quantile) const;

  // The largest value recorded, exactly. ZeroDuration if empty.
  absl::Duration Max() const;

  // The mean of the recorded values. ZeroDuration if empty.
  absl::Duration Mean() const;

  // Bucket geometry, public for tests: values below 2^kSubBits us have one
  // bucket each; each further power of two is split into 2^(kSubBits-1)
  // buckets.
  static constexpr int kSubBits = 7;
  static constexpr int kMaxExponent = 32;  // 2^32 us, about 71 minutes.
  static constexpr int kBuckets = (kMaxExponent - kSubBits + 3)
                                  << (kSubBits - 1);
  static int BucketOf(uint64_t micros);
  // The largest value (in us) that falls in `bucket`.
  static uint64_t BucketUpperBound(int bucket);

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t max_micros_ = 0;
  long double sum_micros_ = 0;
};

}  // namespace refsum::bench

#endif  // REFSUM_TESTS_BENCH_HISTOGRAM_H_
