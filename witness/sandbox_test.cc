#include "witness/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "witness/files.h"
#include "witness/rebuild_testing.h"

namespace refsum::witness {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    root_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/sandbox-XXXXXX");
    ASSERT_NE(mkdtemp(root_.data()), nullptr);
    ASSERT_TRUE(MakeDirectories(root_ + "/build/src", 0755).ok());
    ASSERT_TRUE(MakeDirectories(root_ + "/build/out", 0755).ok());
    run_.source_dir = root_ + "/build/src";
    run_.out_dir = root_ + "/build/out";
    run_.log_path = root_ + "/build/log";
    // Generous: these bound a misbehaving test, never its speed.
    run_.limits.wall_time = absl::Minutes(5);
    run_.limits.memory_bytes = uint64_t{1} << 30;
    run_.limits.output_bytes = uint64_t{1} << 20;
  }

  void TearDown() override { EXPECT_TRUE(RemoveTree(root_).ok()); }

  SandboxResult Run(const std::string& recipe,
                    SandboxOptions options = SandboxOptions()) {
    run_.recipe = recipe;
    absl::StatusOr<SandboxResult> result = Sandbox(options).Run(run_);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : SandboxResult();
  }

  std::string Out(const std::string& name) {
    absl::StatusOr<std::string> contents = ReadFile(run_.out_dir + "/" + name);
    return contents.ok() ? *contents : "<missing>";
  }

  std::string Log() {
    absl::StatusOr<std::string> contents = ReadFile(run_.log_path);
    return contents.ok() ? *contents : "<missing>";
  }

  std::string root_;
  SandboxRun run_;
};

TEST_F(SandboxTest, SelfTestPasses) {
  EXPECT_TRUE(Sandbox(SandboxOptions()).SelfTest(root_ + "/scratch").ok());
}

TEST_F(SandboxTest, RecipeWritesOutAndReadsSource) {
  ASSERT_TRUE(
      WriteFileAtomically(run_.source_dir + "/input.txt", "source\n", 0644)
          .ok());
  const SandboxResult result =
      Run("cat input.txt > /out/a && pwd > /out/pwd && id -u > /out/uid && "
          "id -un > /out/user && echo built");
  EXPECT_TRUE(result.ok()) << result.Describe(run_.limits) << Log();
  EXPECT_EQ(Out("a"), "source\n");
  EXPECT_EQ(Out("pwd"), "/src\n");
  EXPECT_EQ(Out("uid"), "1000\n");
  EXPECT_EQ(Out("user"), "builder\n");
  EXPECT_EQ(Log(), "built\n");
  EXPECT_EQ(result.output_bytes, 7u + 5u + 5u + 8u);
}

TEST_F(SandboxTest, EnvironmentIsCleanAndExtendable) {
  setenv("REFSUM_SANDBOX_TEST_LEAK", "leaked", 1);
  run_.env = {{"REFSUM_SOURCE_COMMIT", "abc"}};
  const SandboxResult result = Run("env | sort > /out/env");
  unsetenv("REFSUM_SANDBOX_TEST_LEAK");
  ASSERT_TRUE(result.ok()) << Log();
  const std::string env = Out("env");
  EXPECT_THAT(env, HasSubstr("PATH=/usr/local/bin:/usr/bin:/bin\n"));
  EXPECT_THAT(env, HasSubstr("HOME=/tmp\n"));
  EXPECT_THAT(env, HasSubstr("TZ=UTC\n"));
  EXPECT_THAT(env, HasSubstr("REFSUM_SOURCE_COMMIT=abc\n"));
  EXPECT_THAT(env, Not(HasSubstr("SOURCE_DATE_EPOCH")));
  EXPECT_THAT(env, Not(HasSubstr("leaked")));
  EXPECT_THAT(env, Not(HasSubstr("TEST_TMPDIR")));
}

TEST_F(SandboxTest, WitnessKeyIsInvisible) {
  const std::string state = root_ + "/state";
  ASSERT_TRUE(MakeDirectories(state, 0700).ok());
  const std::string key = state + "/rebuild.key";
  const std::string secret = "PRIVATE KEY MATERIAL 5f3a";
  ASSERT_TRUE(WriteFileAtomically(key, secret, 0600).ok());
  // The build knows exactly where the key is and still cannot read it, by
  // its path or by walking the tree it sees.
  const SandboxResult result = Run(absl::StrCat(
      "ls ", state,
      " > /out/listing 2>&1; "
      "grep -rs 'PRIVATE KEY MATERIAL' /src /out /tmp /etc >> /out/listing; "
      "cat ",
      key, " > /out/stolen"));
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(Out("listing"), HasSubstr("No such file or directory"));
  EXPECT_THAT(Out("listing"), Not(HasSubstr("rebuild.key")));
  EXPECT_EQ(Out("stolen"), "");
  EXPECT_THAT(Log(), Not(HasSubstr(secret)));
}

TEST_F(SandboxTest, NoNetwork) {
  LoopbackListener listener;
  const int port = listener.port();

  const SandboxResult result = Run(absl::StrCat(
      "if bash -c 'echo hello > /dev/tcp/127.0.0.1/", port,
      "'; then echo connected >> /out/net; fi; "
      "if getent hosts deb.debian.org; then echo resolved >> /out/net; fi; "
      "ls /sys/class/net > /out/interfaces 2>&1; "
      "cat /proc/net/dev > /out/dev; exit 0"));
  ASSERT_TRUE(result.ok()) << Log();
  EXPECT_EQ(Out("net"), "<missing>") << Log();
  // Only the sandbox's own loopback interface.
  EXPECT_THAT(Out("dev"), HasSubstr("lo:"));
  EXPECT_THAT(Out("dev"), Not(HasSubstr("eth")));
  // The host's listener never saw a connection.
  EXPECT_FALSE(listener.ConnectionAttempted());
}

TEST_F(SandboxTest, WritesOutsideOutFail) {
  const std::string host_dir = root_ + "/host";
  ASSERT_TRUE(MakeDirectories(host_dir, 0777).ok());
  const SandboxResult result = Run(absl::StrCat(
      "for p in /usr/escape /escape /src/../escape /etc/escape /proc/escape "
      "/dev/escape ",
      host_dir,
      "/escape /tmp/../escape; do "
      "if touch $p 2>/dev/null; then echo $p >> /out/written; fi; done; "
      "mkdir /out/fine && echo ok > /out/fine/file"));
  ASSERT_TRUE(result.ok()) << Log();
  EXPECT_EQ(Out("written"), "<missing>");
  EXPECT_EQ(Out("fine/file"), "ok\n");
  struct stat st;
  EXPECT_NE(stat((host_dir + "/escape").c_str(), &st), 0);
  EXPECT_NE(stat((root_ + "/build/escape").c_str(), &st), 0);
  EXPECT_NE(stat("/usr/escape", &st), 0);
}

TEST_F(SandboxTest, ProcessCountIsLimited) {
  SandboxOptions options;
  options.max_processes = 32;
  // sh gives up at the first failed fork; /out/count holds how many
  // processes it got.
  const SandboxResult result =
      Run("i=0; while [ $i -lt 1000 ]; do sleep 1000 & i=$((i+1)); "
          "echo $i > /out/count; done",
          options);
  EXPECT_FALSE(result.ok());
  int count = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripSuffix(Out("count"), "\n"), &count))
      << Out("count") << Log();
  EXPECT_LT(count, 32);
  EXPECT_GT(count, 0);
}

// A fork bomb whose first shell stays until the bomb has hit the process
// limit, with builtins only (it cannot fork any more then): it writes the
// first of the bomb's messages to the log and exits, and the pid namespace
// takes the rest of the bomb with it. A bomb whose first shell returns at
// once (`b; wait` waits only for its own two children) may end before it
// reaches the limit, faster or slower with the machine's load.
constexpr char kForkBomb[] =
    "bash -c 'b() { b | b & }; b 2>> /tmp/bomb; "
    "until read -r line < /tmp/bomb; do :; done; echo \"$line\" >&2'";

TEST_F(SandboxTest, ForkBombIsContained) {
  SandboxOptions options;
  options.max_processes = 64;
  run_.limits.wall_time = absl::Seconds(60);
  const SandboxResult result = Run(kForkBomb, options);
  EXPECT_FALSE(result.process.timed_out) << Log();
  EXPECT_THAT(Log(), HasSubstr("Resource temporarily unavailable"));
  // The host can still start processes.
  EXPECT_EQ(system("true"), 0);
}

// The process limit is the build's own, not its user's: every build runs as
// the same host user (build_uid, or the witness's user), and a fork bomb at
// its limit leaves another build its full count.
TEST_F(SandboxTest, ProcessLimitIsPerBuild) {
  SandboxOptions options;
  options.max_processes = 64;
  run_.limits.wall_time = absl::Seconds(120);
  // The bomb holds its processes until the test creates /src/stop.
  SandboxRun bomb = run_;
  // It waits on a FIFO that nobody writes to, without forking.
  bomb.recipe =
      "bash -c 'mkfifo /tmp/idle; exec 3<> /tmp/idle; "
      "b() { b | b & }; b 2>> /tmp/bomb; "
      "until read -r line < /tmp/bomb; do read -r -t 0.01 -u 3; done; "
      "echo full > /out/full; "
      "until [ -e /src/stop ]; do read -r -t 0.05 -u 3; done'";
  absl::StatusOr<SandboxResult> bomb_result;
  std::thread bomb_thread(
      [&] { bomb_result = Sandbox(options).Run(bomb); });
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  struct stat st;
  while (stat((run_.out_dir + "/full").c_str(), &st) != 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  // A second build, as the same host user, starts 40 processes that live
  // at once.
  ASSERT_TRUE(MakeDirectories(root_ + "/second/src", 0755).ok());
  ASSERT_TRUE(MakeDirectories(root_ + "/second/out", 0755).ok());
  SandboxRun second = run_;
  second.source_dir = root_ + "/second/src";
  second.out_dir = root_ + "/second/out";
  second.log_path = root_ + "/second/log";
  second.recipe =
      "i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done; "
      "echo $i > /out/count; wait";
  const absl::StatusOr<SandboxResult> second_result =
      Sandbox(options).Run(second);
  ASSERT_TRUE(WriteFileAtomically(run_.source_dir + "/stop", "", 0644).ok());
  bomb_thread.join();
  ASSERT_TRUE(bomb_result.ok()) << bomb_result.status();
  EXPECT_EQ(Out("full"), "full\n") << "the bomb never hit its limit: "
                                    << Log();
  ASSERT_TRUE(second_result.ok()) << second_result.status();
  absl::StatusOr<std::string> log = ReadFile(second.log_path);
  EXPECT_TRUE(second_result->ok())
      << second_result->Describe(second.limits) << (log.ok() ? *log : "");
  absl::StatusOr<std::string> count = ReadFile(second.out_dir + "/count");
  EXPECT_TRUE(count.ok() && *count == "40\n") << count.status();
}

// Nothing a build started still runs when Run returns, even processes that
// left its process group and session: /src and /out stay as they are.
TEST_F(SandboxTest, NothingOfTheBuildOutlivesRun) {
  run_.limits.wall_time = absl::Seconds(2);
  const SandboxResult result = Run(
      "for d in /src /out; do "
      "setsid sh -c \"while :; do echo x >> $d/late; done\" & done; "
      "sleep 1000");
  EXPECT_TRUE(result.process.timed_out);
  // Sizes, not contents: gtest's diff of two long files takes memory
  // quadratic in their lines.
  const auto size = [](const std::string& path) -> int64_t {
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
  };
  const int64_t src_before = size(run_.source_dir + "/late");
  const int64_t out_before = size(run_.out_dir + "/late");
  ASSERT_GT(src_before, 0) << Log();
  ASSERT_GT(out_before, 0) << Log();
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(size(run_.source_dir + "/late"), src_before);
  EXPECT_EQ(size(run_.out_dir + "/late"), out_before);
}

TEST_F(SandboxTest, WallTimeKillsTheBuild) {
  run_.limits.wall_time = absl::Seconds(2);
  const SandboxResult result =
      Run("setsid sleep 1000 & sleep 1000 & echo started; wait");
  EXPECT_TRUE(result.process.timed_out);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.Describe(run_.limits), HasSubstr("timed out after 2s"));
  EXPECT_EQ(Log(), "started\n");
}

TEST_F(SandboxTest, CancellationKillsTheBuild) {
  absl::Notification cancel;
  cancel.Notify();
  run_.cancel = &cancel;
  const SandboxResult result = Run("sleep 1000");
  EXPECT_TRUE(result.process.cancelled);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.Describe(run_.limits), "the build was cancelled");
}

TEST_F(SandboxTest, OutputBeyondTheLimitFails) {
  run_.limits.output_bytes = 1 << 20;
  const SandboxResult result =
      Run("head -c 2000000 /dev/zero > /out/big && ln /out/big /out/link");
  EXPECT_TRUE(result.process.ok()) << Log();
  EXPECT_TRUE(result.output_too_large);
  EXPECT_EQ(result.output_bytes, 2000000u);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.Describe(run_.limits), HasSubstr("more than the limit"));
}

TEST_F(SandboxTest, FillingTheDiskWithManyFilesIsStopped) {
  SandboxOptions options;
  options.max_disk_bytes = 8 << 20;
  // One MiB at a time, each file under the per-file limit, into /src and
  // /out alike, forever: only the watchdog stops it.
  const SandboxResult result = Run(
      "i=0; while true; do i=$((i+1)); "
      "head -c 1048576 /dev/urandom > /src/fill$i; "
      "head -c 1048576 /dev/urandom > /out/fill$i; done",
      options);
  EXPECT_TRUE(result.disk_exceeded) << Log();
  EXPECT_FALSE(result.process.cancelled);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.Describe(run_.limits),
              HasSubstr("more than the disk limit of 8388608 bytes"));
  // Stopped near the limit, not at the end of the host's disk: well within
  // what 2 MiB writes could add in a few check intervals on any machine.
  absl::StatusOr<uint64_t> used = DiskUsage(root_ + "/build");
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_LT(*used, uint64_t{1} << 30);
}

TEST_F(SandboxTest, OneHugeFileHitsTheFileSizeLimit) {
  SandboxOptions options;
  options.max_disk_bytes = 4 << 20;
  const SandboxResult result =
      Run("head -c 20000000 /dev/zero > /src/huge; s=$?; echo status $s >&2; "
          "exit $s",
          options);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(Log(), HasSubstr("status 153"));  // 128 + SIGXFSZ
  struct stat st;
  ASSERT_EQ(stat((run_.source_dir + "/huge").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4 << 20);
}

TEST_F(SandboxTest, MemoryIsLimited) {
  run_.limits.memory_bytes = 64 << 20;
  // Doubling a string until allocation fails; and a tmpfs write beyond the
  // same size.
  const SandboxResult result =
      Run("if awk 'BEGIN { s = \"x\"; while (1) s = s s }' 2>/dev/null; then "
          "echo awk >> /out/survived; fi; "
          "if head -c 100000000 /dev/zero > /tmp/big 2>/dev/null; then "
          "echo tmp >> /out/survived; fi; exit 0");
  ASSERT_TRUE(result.ok()) << Log();
  EXPECT_EQ(Out("survived"), "<missing>");
}

TEST_F(SandboxTest, LogIsCapped) {
  SandboxOptions options;
  options.max_log_bytes = 1000;
  const SandboxResult result = Run("yes | head -c 100000", options);
  EXPECT_TRUE(result.ok());
  EXPECT_TRUE(result.process.output_truncated);
  EXPECT_EQ(Log().size(), 1000u);
}

TEST_F(SandboxTest, NonEmptyOutputDirectoryIsRejected) {
  ASSERT_TRUE(WriteFileAtomically(run_.out_dir + "/stale", "x", 0644).ok());
  run_.recipe = "true";
  const absl::StatusOr<SandboxResult> result =
      Sandbox(SandboxOptions()).Run(run_);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SandboxTest, InputsAreReadOnly) {
  const std::string input = root_ + "/vendor.bin";
  ASSERT_TRUE(WriteFileAtomically(input, "vendor", 0644).ok());
  run_.inputs = {{input, "/in/vendor.bin"}};
  const SandboxResult result = Run(
      "cat /in/vendor.bin > /out/copy; "
      "if echo x >> /in/vendor.bin; then echo wrote > /out/wrote; fi; exit 0");
  ASSERT_TRUE(result.ok()) << Log();
  EXPECT_EQ(Out("copy"), "vendor");
  EXPECT_EQ(Out("wrote"), "<missing>");
  run_.inputs = {{input, "/elsewhere"}};
  run_.recipe = "true";
  EXPECT_EQ(Sandbox(SandboxOptions()).Run(run_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace refsum::witness
