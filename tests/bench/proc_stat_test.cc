#include "tests/bench/proc_stat.h"

#include <unistd.h>

#include <climits>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace refsum::bench {
namespace {

TEST(ProcStatTest, OwnCpuTimeGrowsWithWork) {
  const absl::StatusOr<absl::Duration> before = ProcessCpuTime(getpid());
  ASSERT_TRUE(before.ok()) << before.status();
  // Spin until this thread has used more than a clock tick of CPU.
  const absl::Duration thread_start = ThreadCpuTime();
  volatile uint64_t sink = 0;
  while (ThreadCpuTime() - thread_start < absl::Milliseconds(50)) ++sink;
  const absl::StatusOr<absl::Duration> after = ProcessCpuTime(getpid());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(*after, *before);
}

TEST(ProcStatTest, MissingProcessIsNotFound) {
  EXPECT_EQ(ProcessCpuTime(INT_MAX).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace refsum::bench
