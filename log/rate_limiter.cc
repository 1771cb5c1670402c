#include "log/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/status/status.h"

namespace refsum::log {

absl::StatusOr<std::unique_ptr<KeyedRateLimiter>> KeyedRateLimiter::Create(
    double rate_per_second, double burst, Clock clock) {
  if (!std::isfinite(rate_per_second) || rate_per_second <= 0) {
    return absl::InvalidArgumentError(
        "a rate limit must be a positive number of submissions per second");
  }
  if (!std::isfinite(burst) || burst < 1) {
    return absl::InvalidArgumentError(
        "a rate limit's burst must be at least 1 submission");
  }
  return std::unique_ptr<KeyedRateLimiter>(
      new KeyedRateLimiter(rate_per_second, burst, std::move(clock)));
}

KeyedRateLimiter::KeyedRateLimiter(double rate_per_second, double burst,
                                   Clock clock)
    : rate_per_second_(rate_per_second),
      burst_(burst),
      clock_(std::move(clock)) {}

void KeyedRateLimiter::Refill(Bucket& bucket, absl::Time now) const {
  if (now > bucket.updated) {
    bucket.tokens =
        std::min(burst_, bucket.tokens + absl::ToDoubleSeconds(
                                             now - bucket.updated) *
                                             rate_per_second_);
  }
  bucket.updated = std::max(bucket.updated, now);
}

bool KeyedRateLimiter::TryAcquire(absl::string_view key) {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!inserted) Refill(bucket, now);
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  if (inserted && buckets_.size() > kMaxTrackedKeys) {
    // Forget the buckets that are full again: a new bucket starts full too.
    for (auto next = buckets_.begin(); next != buckets_.end();) {
      auto current = next++;
      if (current == it) continue;
      Refill(current->second, now);
      if (current->second.tokens >= burst_) buckets_.erase(current);
    }
  }
  return true;
}

}  // namespace refsum::log
