#include "base/thread_pool.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace refsum {
namespace {

TEST(ThreadPoolTest, RunsEveryClosureBeforeDestruction) {
  std::atomic<int> runs{0};
  {
    ThreadPool pool(3);
    for (int i = 0; i < 1000; ++i) pool.Schedule([&runs] { ++runs; });
  }
  EXPECT_EQ(runs.load(), 1000);
}

TEST(ThreadPoolTest, UsesSeveralThreads) {
  absl::Mutex mu;
  std::set<std::thread::id> ids;
  int arrived = 0;
  {
    ThreadPool pool(2);
    // Each closure waits until both have started, which only two distinct
    // workers can achieve.
    for (int i = 0; i < 2; ++i) {
      pool.Schedule([&] {
        absl::MutexLock lock(&mu);
        ids.insert(std::this_thread::get_id());
        ++arrived;
        mu.Await(absl::Condition(
            +[](int* count) { return *count == 2; }, &arrived));
      });
    }
  }
  EXPECT_EQ(ids.size(), 2u);
}

TEST(ThreadPoolTest, ZeroThreadsMeansOne) {
  std::atomic<bool> ran{false};
  {
    ThreadPool pool(0);
    pool.Schedule([&ran] { ran = true; });
  }
  EXPECT_TRUE(ran.load());
}

}  // namespace
}  // namespace refsum
