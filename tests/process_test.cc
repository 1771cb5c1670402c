#include "tests/process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refsum::tests {
namespace {

using ::testing::HasSubstr;

// An upper bound on waiting; nothing here depends on speed.
constexpr absl::Duration kTimeout = absl::Seconds(60);

std::string OutputPrefix(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

TEST(ProcessTest, ReportsTheExitCodeAndOutput) {
  absl::StatusOr<RunResult> run =
      RunProcess("/bin/sh", {"-c", "echo out; echo err >&2; exit 3"},
                 OutputPrefix("exit3"), kTimeout);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->status.ExitedWith(3)) << run->status.ToString();
  EXPECT_FALSE(run->status.ExitedWith(0));
  EXPECT_EQ(run->stdout_text, "out\n");
  EXPECT_EQ(run->stderr_text, "err\n");
}

TEST(ProcessTest, ReportsTheSignalThatEndedTheProcess) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start("/bin/sleep", {"600"}, OutputPrefix("sleep.out"),
                     OutputPrefix("sleep.err"));
  ASSERT_TRUE(process.ok()) << process.status();
  EXPECT_FALSE((*process)->Poll().has_value());
  absl::StatusOr<ExitStatus> status =
      (*process)->SignalAndWait(SIGTERM, kTimeout);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(status->KilledBy(SIGTERM)) << status->ToString();
  // Reaped: it must not be signalled again.
  EXPECT_EQ((*process)->Signal(SIGKILL).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*process)->Wait(absl::ZeroDuration()).ok());
}

TEST(ProcessTest, WaitTimesOutOnARunningProcess) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start("/bin/sleep", {"600"}, OutputPrefix("wait.out"),
                     OutputPrefix("wait.err"));
  ASSERT_TRUE(process.ok()) << process.status();
  EXPECT_EQ((*process)->Wait(absl::Milliseconds(50)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(ProcessTest, DestructionKillsTheProcess) {
  pid_t pid = 0;
  {
    absl::StatusOr<std::unique_ptr<Process>> process =
        Process::Start("/bin/sleep", {"600"}, OutputPrefix("destroyed.out"),
                       OutputPrefix("destroyed.err"));
    ASSERT_TRUE(process.ok()) << process.status();
    pid = (*process)->pid();
    ASSERT_EQ(kill(pid, 0), 0);
  }
  // Killed and reaped: the pid is gone (barring reuse within microseconds).
  EXPECT_NE(kill(pid, 0), 0);
}

TEST(ProcessTest, WaitForFileReturnsTheContents) {
  const std::string path = OutputPrefix("ready.json");
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(
      "/bin/sh",
      {"-c", absl::StrCat("sleep 0.2; echo ready > ", path, ".tmp; mv ", path,
                          ".tmp ", path, "; exec sleep 600")},
      OutputPrefix("ready.out"), OutputPrefix("ready.err"));
  ASSERT_TRUE(process.ok()) << process.status();
  absl::StatusOr<std::string> contents =
      (*process)->WaitForFile(path, kTimeout);
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(*contents, "ready\n");
}

TEST(ProcessTest, WaitForFileFailsWhenTheProcessEndsFirst) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start("/bin/sh", {"-c", "echo cannot start >&2; exit 2"},
                     OutputPrefix("early.out"), OutputPrefix("early.err"));
  ASSERT_TRUE(process.ok()) << process.status();
  const absl::Status status =
      (*process)->WaitForFile(OutputPrefix("never.json"), kTimeout).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("exit code 2"));
  EXPECT_THAT(status.message(), HasSubstr("cannot start"));
}

TEST(ProcessTest, StartFailsForAMissingBinary) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start("/nonexistent/binary", {}, OutputPrefix("missing.out"),
                     OutputPrefix("missing.err"));
  EXPECT_EQ(process.status().code(), absl::StatusCode::kNotFound)
      << process.status();
}

TEST(ProcessTest, TheChildGetsNoOtherFileDescriptors) {
  // A descriptor without close-on-exec, which a naive fork/exec would pass
  // on; at number 100 so that the child's own descriptors cannot be it.
  const std::string path = OutputPrefix("inherited");
  ASSERT_TRUE(WriteFileAtomically(path, "x", 0644).ok());
  const int fd = open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(dup2(fd, 100), 100);
  close(fd);
  absl::StatusOr<RunResult> run = RunProcess(
      "/bin/sh", {"-c", "ls /proc/self/fd"}, OutputPrefix("fds"), kTimeout);
  close(100);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_TRUE(run->status.ExitedWith(0)) << run->stderr_text;
  EXPECT_THAT(run->stdout_text, HasSubstr("0\n1\n2\n"));
  EXPECT_THAT(run->stdout_text, ::testing::Not(HasSubstr("100")));
}

}  // namespace
}  // namespace refsum::tests
