#include "tests/bench/histogram.h"

#include <algorithm>
#include <cmath>

namespace refsum::bench {

namespace {

int HighestBit(uint64_t value) { return 63 - __builtin_clzll(value); }

}  // namespace

int Histogram::BucketOf(uint64_t micros) {
  constexpr uint64_t kLinear = uint64_t{1} << kSubBits;
  if (micros < kLinear) return static_cast<int>(micros);
  const int exponent = HighestBit(micros);  // >= kSubBits
  if (exponent > kMaxExponent) return kBuckets - 1;
  const int shift = exponent - (kSubBits - 1);
  const int sub = static_cast<int>(micros >> shift) - (1 << (kSubBits - 1));
  return static_cast<int>(kLinear) +
         ((exponent - kSubBits) << (kSubBits - 1)) + sub;
}

uint64_t Histogram::BucketUpperBound(int bucket) {
  constexpr int kLinear = 1 << kSubBits;
  if (bucket < kLinear) return static_cast<uint64_t>(bucket);
  const int half = 1 << (kSubBits - 1);
  const int exponent = (bucket - kLinear) / half + kSubBits;
  const int sub = (bucket - kLinear) % half;
  const int shift = exponent - (kSubBits - 1);
  return ((static_cast<uint64_t>(half + sub + 1)) << shift) - 1;
}

void Histogram::Record(absl::Duration value) {
  const int64_t micros =
      std::max<int64_t>(0, absl::ToInt64Microseconds(value));
  const uint64_t v = static_cast<uint64_t>(micros);
  ++buckets_[BucketOf(v)];
  ++count_;
  max_micros_ = std::max(max_micros_, v);
  sum_micros_ += v;
}

void Histogram::Merge(const Histogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_micros_ = std::max(max_micros_, other.max_micros_);
  sum_micros_ += other.sum_micros_;
}

absl::Duration Histogram::Percentile(double quantile) const {
  if (count_ == 0) return absl::ZeroDuration();
  quantile = std::clamp(quantile, 0.0, 1.0);
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(quantile * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      return absl::Microseconds(std::min(BucketUpperBound(i), max_micros_));
    }
  }
  return Max();
}

absl::Duration Histogram::Max() const {
  return absl::Microseconds(static_cast<int64_t>(max_micros_));
}

absl::Duration Histogram::Mean() const {
  if (count_ == 0) return absl::ZeroDuration();
  return absl::Microseconds(
      static_cast<double>(sum_micros_ / static_cast<long double>(count_)));
}

}  // namespace refsum::bench
