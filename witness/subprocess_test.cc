#include "witness/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refsum::witness {
namespace {

using ::testing::HasSubstr;

SubprocessOptions Shell(const std::string& script) {
  SubprocessOptions options;
  options.argv = {"/bin/sh", "-c", script};
  options.env = {"PATH=/usr/bin:/bin", "ONLY=this"};
  // Generous: bounds a misbehaving test, never its speed.
  options.timeout = absl::Minutes(5);
  return options;
}

TEST(SubprocessTest, CapturesOutputAndExitCode) {
  absl::StatusOr<SubprocessResult> result =
      RunSubprocess(Shell("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->exited);
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_FALSE(result->ok());
  EXPECT_EQ(result->output, "out\nerr\n");
  EXPECT_EQ(result->Describe(absl::Seconds(1)), "exit code 3");
}

TEST(SubprocessTest, EnvironmentIsExactlyTheGivenOne) {
  setenv("REFSUM_SUBPROCESS_LEAK", "1", 1);
  absl::StatusOr<SubprocessResult> result =
      RunSubprocess(Shell("env | grep -v '^PWD=' | sort"));
  unsetenv("REFSUM_SUBPROCESS_LEAK");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->output, "ONLY=this\nPATH=/usr/bin:/bin\n");
}

TEST(SubprocessTest, RunsInTheGivenDirectory) {
  SubprocessOptions options = Shell("pwd");
  options.cwd = "/usr";
  absl::StatusOr<SubprocessResult> result = RunSubprocess(options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->output, "/usr\n");
}

TEST(SubprocessTest, OnlyPassedDescriptorsAreInherited) {
  const int kept = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int other = open("/dev/null", O_RDONLY);
  ASSERT_GE(kept, 0);
  ASSERT_GE(other, 0);
  SubprocessOptions options = Shell("ls /proc/self/fd");
  options.pass_fds = {kept};
  absl::StatusOr<SubprocessResult> result = RunSubprocess(options);
  close(kept);
  close(other);
  ASSERT_TRUE(result.ok());
  // 0-2, the passed descriptor as 3, and the one ls opens to list.
  EXPECT_EQ(result->output, "0\n1\n2\n3\n4\n");
}

TEST(SubprocessTest, TimeoutKillsTheWholeGroup) {
  const char* tmp = getenv("TEST_TMPDIR");
  const std::string pid_file =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/background.pid");
  SubprocessOptions options =
      Shell(absl::StrCat("sleep 1000 & echo $! > ", pid_file, "; wait"));
  options.timeout = absl::Seconds(1);
  absl::StatusOr<SubprocessResult> result = RunSubprocess(options);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->timed_out);
  EXPECT_FALSE(result->exited);
  EXPECT_EQ(result->signal, SIGKILL);
  EXPECT_EQ(result->Describe(options.timeout), "timed out after 1s");
  absl::StatusOr<std::string> pid_text = ReadFile(pid_file);
  ASSERT_TRUE(pid_text.ok());
  int pid = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripSuffix(*pid_text, "\n"), &pid));
  // The background sleep was sent SIGKILL with its group. It dies as soon
  // as the kernel delivers the signal and may then linger as a zombie until
  // its new parent reaps it, so wait (a generous bound, not a speed
  // expectation) until it is a zombie or gone.
  const std::string stat_path = absl::StrCat("/proc/", pid, "/stat");
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  while (true) {
    absl::StatusOr<std::string> stat = ReadFile(stat_path);
    if (!stat.ok() || absl::StrContains(*stat, ") Z")) break;
    ASSERT_LT(absl::Now(), deadline) << *stat;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

TEST(SubprocessTest, ExitedProgramDoesNotWaitForItsBackgroundChildren) {
  absl::StatusOr<SubprocessResult> result =
      RunSubprocess(Shell("sleep 1000 & echo done"));
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->ok());
  EXPECT_FALSE(result->timed_out);
  EXPECT_EQ(result->output, "done\n");
}

TEST(SubprocessTest, CancellationKills) {
  absl::Notification cancel;
  cancel.Notify();
  SubprocessOptions options = Shell("sleep 1000");
  options.cancel = &cancel;
  absl::StatusOr<SubprocessResult> result = RunSubprocess(options);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->cancelled);
  EXPECT_FALSE(result->ok());
}

TEST(SubprocessTest, OutputIsCappedAndWrittenToAFile) {
  const char* tmp = getenv("TEST_TMPDIR");
  SubprocessOptions options = Shell("yes | head -c 1000000");
  options.max_output_bytes = 100;
  options.output_path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/log");
  absl::StatusOr<SubprocessResult> result = RunSubprocess(options);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->ok());
  EXPECT_TRUE(result->output_truncated);
  EXPECT_EQ(result->output, "");
  absl::StatusOr<std::string> log = ReadFile(options.output_path);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 100u);
}

TEST(SubprocessTest, MissingProgramIsNotFound) {
  SubprocessOptions options;
  options.argv = {"/nonexistent/program"};
  EXPECT_EQ(RunSubprocess(options).status().code(),
            absl::StatusCode::kNotFound);
  options.argv = {"relative"};
  EXPECT_EQ(RunSubprocess(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SubprocessTest, DropsCredentialsWhenAsked) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  SubprocessOptions options = Shell("id -u; id -g; id -G");
  options.uid = 65534;
  options.gid = 65534;
  absl::StatusOr<SubprocessResult> result = RunSubprocess(options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->output, "65534\n65534\n65534\n");
}

}  // namespace
}  // namespace refsum::witness
