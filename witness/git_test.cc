#include "witness/git.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "base/file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "witness/files.h"
#include "witness/subprocess.h"

namespace refsum::witness {
namespace {

using ::testing::HasSubstr;

class GitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    root_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/git-XXXXXX");
    ASSERT_NE(mkdtemp(root_.data()), nullptr);
    GitOptions options;
    options.cache_dir = root_ + "/cache";
    // Generous: bounds a misbehaving test, never its speed.
    options.timeout = absl::Minutes(5);
    fetcher_ = std::make_unique<GitFetcher>(options);
  }

  void TearDown() override { EXPECT_TRUE(RemoveTree(root_).ok()); }

  // Runs the test's own git (not the fetcher's) and returns its output.
  std::string RunGit(const std::vector<std::string>& args) {
    SubprocessOptions options;
    options.argv = {"/usr/bin/git"};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = {"PATH=/usr/bin:/bin",
                   "HOME=" + root_,
                   "GIT_CONFIG_NOSYSTEM=1",
                   "GIT_AUTHOR_NAME=Vendor",
                   "GIT_AUTHOR_EMAIL=vendor@example.com",
                   "GIT_COMMITTER_NAME=Vendor",
                   "GIT_COMMITTER_EMAIL=vendor@example.com"};
    options.timeout = absl::Minutes(5);
    absl::StatusOr<SubprocessResult> result = RunSubprocess(options);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return "";
    EXPECT_TRUE(result->ok())
        << absl::StrJoin(args, " ") << ": " << result->output;
    return std::string(absl::StripAsciiWhitespace(result->output));
  }

  // Creates a repository at root_/`name` and returns its file:// URL.
  std::string MakeRepository(const std::string& name,
                             const std::string& object_format = "sha1") {
    const std::string path = root_ + "/" + name;
    RunGit({"init", "--quiet", "--object-format=" + object_format,
            "--initial-branch=main", path});
    return "file://" + path;
  }

  // Commits `contents` as file `file` in repository `name`; returns the
  // commit.
  std::string Commit(const std::string& name, const std::string& file,
                     const std::string& contents) {
    const std::string path = root_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomically(path + "/" + file, contents, 0644).ok());
    RunGit({"-C", path, "add", file});
    RunGit({"-C", path, "commit", "--quiet", "-m", "change " + file});
    return RunGit({"-C", path, "rev-parse", "HEAD"});
  }

  std::string Read(const std::string& path) {
    absl::StatusOr<std::string> contents = ReadFile(path);
    return contents.ok() ? *contents : "<missing>";
  }

  statement::Source Source(const std::string& repository,
                           const std::string& commit,
                           std::optional<std::string> tag = std::nullopt) {
    return statement::Source{repository, commit, tag};
  }

  std::string root_;
  std::unique_ptr<GitFetcher> fetcher_;
};

TEST_F(GitTest, ChecksOutExactlyTheCommit) {
  const std::string url = MakeRepository("vendor");
  const std::string first = Commit("vendor", "file", "one\n");
  const std::string second = Commit("vendor", "file", "two\n");

  const std::string old_tree = root_ + "/old";
  ASSERT_TRUE(fetcher_->Checkout(Source(url, first), old_tree, nullptr).ok());
  EXPECT_EQ(Read(old_tree + "/file"), "one\n");
  EXPECT_EQ(RunGit({"-C", old_tree, "rev-parse", "HEAD"}), first);

  const std::string new_tree = root_ + "/new";
  ASSERT_TRUE(fetcher_->Checkout(Source(url, second), new_tree, nullptr).ok());
  EXPECT_EQ(Read(new_tree + "/file"), "two\n");
  EXPECT_EQ(RunGit({"-C", new_tree, "rev-parse", "HEAD"}), second);
  // Only the claimed commit is copied out of the cache.
  EXPECT_EQ(RunGit({"-C", new_tree, "rev-list", "--count", "HEAD"}), "1");
}

TEST_F(GitTest, FetchesNewCommitsIntoTheCache) {
  const std::string url = MakeRepository("vendor");
  const std::string first = Commit("vendor", "file", "one\n");
  ASSERT_TRUE(
      fetcher_->Checkout(Source(url, first), root_ + "/a", nullptr).ok());
  const std::string later = Commit("vendor", "other", "later\n");
  absl::Status status =
      fetcher_->Checkout(Source(url, later), root_ + "/b", nullptr);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Read(root_ + "/b/other"), "later\n");
  struct stat st;
  EXPECT_EQ(stat(fetcher_->CacheDirectory(url, 40).c_str(), &st), 0);
}

TEST_F(GitTest, MissingCommitIsNotFound) {
  const std::string url = MakeRepository("vendor");
  Commit("vendor", "file", "one\n");
  const std::string missing(40, 'a');
  const absl::Status status =
      fetcher_->Checkout(Source(url, missing), root_ + "/out", nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(status.message(), HasSubstr(missing));
}

TEST_F(GitTest, CommitOnNoBranchIsFetchedById) {
  const std::string url = MakeRepository("vendor");
  Commit("vendor", "file", "one\n");
  const std::string dangling = Commit("vendor", "file", "two\n");
  RunGit({"-C", root_ + "/vendor", "reset", "--quiet", "--hard", "HEAD~1"});
  RunGit({"-C", root_ + "/vendor", "config", "uploadpack.allowAnySHA1InWant",
          "true"});
  const absl::Status status =
      fetcher_->Checkout(Source(url, dangling), root_ + "/out", nullptr);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Read(root_ + "/out/file"), "two\n");
}

TEST_F(GitTest, TagMustNameTheCommit) {
  const std::string url = MakeRepository("vendor");
  const std::string tagged = Commit("vendor", "file", "one\n");
  RunGit({"-C", root_ + "/vendor", "tag", "-a", "-m", "release", "v1.0.0"});
  const std::string untagged = Commit("vendor", "file", "two\n");

  EXPECT_TRUE(
      fetcher_->Checkout(Source(url, tagged, "v1.0.0"), root_ + "/a", nullptr)
          .ok());
  absl::Status status = fetcher_->Checkout(Source(url, untagged, "v1.0.0"),
                                           root_ + "/b", nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr(tagged));
  status = fetcher_->Checkout(Source(url, untagged, "v9.9.9"), root_ + "/c",
                              nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("no tag v9.9.9"));
  status = fetcher_->Checkout(Source(url, tagged, "v1..0@{-1}"), root_ + "/d",
                              nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(GitTest, Sha256Repository) {
  const std::string url = MakeRepository("vendor", "sha256");
  const std::string commit = Commit("vendor", "file", "sha256\n");
  ASSERT_EQ(commit.size(), 64u);
  const absl::Status status =
      fetcher_->Checkout(Source(url, commit), root_ + "/out", nullptr);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Read(root_ + "/out/file"), "sha256\n");
}

TEST_F(GitTest, BadInputs) {
  const std::string url = MakeRepository("vendor");
  const std::string commit = Commit("vendor", "file", "one\n");
  EXPECT_EQ(
      fetcher_->Checkout(Source(url, "HEAD"), root_ + "/a", nullptr).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      fetcher_
          ->Checkout(Source(url, std::string(40, 'A')), root_ + "/a", nullptr)
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fetcher_->Checkout(Source(url, commit), root_ + "/vendor", nullptr)
                .code(),
            absl::StatusCode::kAlreadyExists);
  const absl::Status unreachable =
      fetcher_->Checkout(Source("file://" + root_ + "/nonexistent", commit),
                         root_ + "/b", nullptr);
  EXPECT_EQ(unreachable.code(), absl::StatusCode::kUnavailable) << unreachable;
}

TEST_F(GitTest, IgnoresTheCallersConfigurationAndHooks) {
  const std::string url = MakeRepository("vendor");
  const std::string commit = Commit("vendor", "file", "one\n");
  // A global configuration that would run a hook on checkout.
  const std::string hooks = root_ + "/hooks";
  const std::string marker = root_ + "/hook-ran";
  ASSERT_TRUE(MakeDirectories(hooks, 0755).ok());
  ASSERT_TRUE(WriteFileAtomically(hooks + "/post-checkout",
                                  "#!/bin/sh\ntouch " + marker + "\n", 0755)
                  .ok());
  const std::string config = root_ + "/gitconfig";
  ASSERT_TRUE(
      WriteFileAtomically(config, "[core]\n\thooksPath = " + hooks + "\n", 0644)
          .ok());
  setenv("GIT_CONFIG_GLOBAL", config.c_str(), 1);
  const absl::Status status =
      fetcher_->Checkout(Source(url, commit), root_ + "/out", nullptr);
  unsetenv("GIT_CONFIG_GLOBAL");
  ASSERT_TRUE(status.ok()) << status;
  struct stat st;
  EXPECT_NE(stat(marker.c_str(), &st), 0);
}

TEST_F(GitTest, Cancellation) {
  const std::string url = MakeRepository("vendor");
  const std::string commit = Commit("vendor", "file", "one\n");
  absl::Notification cancel;
  cancel.Notify();
  EXPECT_EQ(
      fetcher_->Checkout(Source(url, commit), root_ + "/out", &cancel).code(),
      absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace refsum::witness
