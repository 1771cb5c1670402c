#include "log/rate_limiter.h"

#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace refsum::log {
namespace {

// A clock the test moves by hand.
class FakeClock {
 public:
  KeyedRateLimiter::Clock AsClock() {
    return [this] { return now_; };
  }
  void Advance(absl::Duration duration) { now_ += duration; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST(KeyedRateLimiterTest, BurstThenRefillAtRate) {
  FakeClock clock;
  auto limiter = KeyedRateLimiter::Create(2, 3, clock.AsClock());
  ASSERT_TRUE(limiter.ok()) << limiter.status();

  for (int i = 0; i < 3; ++i) EXPECT_TRUE((*limiter)->TryAcquire("a")) << i;
  EXPECT_FALSE((*limiter)->TryAcquire("a"));
  clock.Advance(absl::Milliseconds(250));  // half a token
  EXPECT_FALSE((*limiter)->TryAcquire("a"));
  clock.Advance(absl::Milliseconds(250));  // one token
  EXPECT_TRUE((*limiter)->TryAcquire("a"));
  EXPECT_FALSE((*limiter)->TryAcquire("a"));
  clock.Advance(absl::Hours(1));  // refills only up to the burst
  for (int i = 0; i < 3; ++i) EXPECT_TRUE((*limiter)->TryAcquire("a")) << i;
  EXPECT_FALSE((*limiter)->TryAcquire("a"));
}

TEST(KeyedRateLimiterTest, KeysHaveTheirOwnBuckets) {
  FakeClock clock;
  auto limiter = KeyedRateLimiter::Create(0.001, 1, clock.AsClock());
  ASSERT_TRUE(limiter.ok()) << limiter.status();

  EXPECT_TRUE((*limiter)->TryAcquire("a"));
  EXPECT_FALSE((*limiter)->TryAcquire("a"));
  EXPECT_TRUE((*limiter)->TryAcquire("b"));
  EXPECT_FALSE((*limiter)->TryAcquire("b"));
}

TEST(KeyedRateLimiterTest, ForgetsFullBucketsButKeepsEmptyOnes) {
  FakeClock clock;
  auto limiter = KeyedRateLimiter::Create(1, 1, clock.AsClock());
  ASSERT_TRUE(limiter.ok()) << limiter.status();
  ASSERT_TRUE((*limiter)->TryAcquire("busy"));
  for (size_t i = 0; i < KeyedRateLimiter::kMaxTrackedKeys + 10; ++i) {
    ASSERT_TRUE((*limiter)->TryAcquire(absl::StrCat("key", i))) << i;
  }
  // Pruning never refills: "busy" is still empty, whatever was forgotten.
  EXPECT_FALSE((*limiter)->TryAcquire("busy"));
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE((*limiter)->TryAcquire("busy"));
}

TEST(KeyedRateLimiterTest, RejectsBadParameters) {
  for (const auto& [rate, burst] :
       {std::pair<double, double>{0, 1}, {-1, 1}, {1, 0.5}, {1, -1},
        {std::numeric_limits<double>::infinity(), 1}}) {
    EXPECT_EQ(KeyedRateLimiter::Create(rate, burst).status().code(),
              absl::StatusCode::kInvalidArgument)
        << rate << " " << burst;
  }
}

}  // namespace
}  // namespace refsum::log
