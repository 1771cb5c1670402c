// Per-key token buckets: the log's optional bound on how fast one signer
// may submit (refsum-log serve --submit_rate_per_key).
//
// Each key has a bucket of `burst` tokens that refills at `rate_per_second`
// and starts full; a submission takes one token or is refused. Buckets that
// are full again carry no information and are forgotten once more than
// kMaxTrackedKeys keys are tracked, so memory stays bounded by the keys that
// submitted within about burst / rate_per_second.
//
// Thread-safe.

#ifndef REFSUM_LOG_RATE_LIMITER_H_
#define REFSUM_LOG_RATE_LIMITER_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace refsum::log {

class KeyedRateLimiter {
 public:
  using Clock = std::function<absl::Time()>;

  static constexpr size_t kMaxTrackedKeys = 1 << 16;

  // Returns a limiter of `rate_per_second` tokens per key and second with
  // buckets of `burst` tokens. Returns InvalidArgument unless both are
  // finite and positive and burst is at least 1. `clock` is for tests.
  static absl::StatusOr<std::unique_ptr<KeyedRateLimiter>> Create(
      double rate_per_second, double burst, Clock clock = absl::Now);

  KeyedRateLimiter(const KeyedRateLimiter&) = delete;
  KeyedRateLimiter& operator=(const KeyedRateLimiter&) = delete;

  // Takes a token from `key`'s bucket. Returns false, taking nothing, when
  // the bucket has less than one.
  bool TryAcquire(absl::string_view key);

  double rate_per_second() const { return rate_per_second_; }

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };

  KeyedRateLimiter(double rate_per_second, double burst, Clock clock);

  // Adds the tokens earned since bucket.updated, up to the burst.
  void Refill(Bucket& bucket, absl::Time now) const;

  const double rate_per_second_;
  const double burst_;
  const Clock clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refsum::log

#endif  // REFSUM_LOG_RATE_LIMITER_H_
