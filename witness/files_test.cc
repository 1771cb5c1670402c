#include "witness/files.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "gtest/gtest.h"

namespace refsum::witness {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    root_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/files-XXXXXX");
    ASSERT_NE(mkdtemp(root_.data()), nullptr);
  }
  void TearDown() override { EXPECT_TRUE(RemoveTree(root_).ok()); }

  void Write(const std::string& relative, const std::string& contents) {
    ASSERT_TRUE(
        WriteFileAtomically(root_ + "/" + relative, contents, 0644).ok());
  }

  std::string root_;
};

TEST_F(FilesTest, ReadsPlainFilesBeneath) {
  ASSERT_TRUE(MakeDirectories(root_ + "/a/b", 0755).ok());
  Write("a/b/file", "contents");
  absl::StatusOr<std::string> contents =
      ReadFileBeneath(root_, "a/b/file", 100);
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(*contents, "contents");
  EXPECT_EQ(ReadFileBeneath(root_, "a/b/file", 3).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFileBeneath(root_, "a/b/missing", 100).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(FilesTest, RefusesLinksAndEscapes) {
  ASSERT_TRUE(MakeDirectories(root_ + "/out", 0755).ok());
  Write("secret", "key");
  ASSERT_EQ(symlink("../secret", (root_ + "/out/link").c_str()), 0);
  ASSERT_EQ(symlink(root_.c_str(), (root_ + "/out/dirlink").c_str()), 0);
  ASSERT_EQ(mkfifo((root_ + "/out/fifo").c_str(), 0644), 0);
  const std::string out = root_ + "/out";
  EXPECT_EQ(OpenFileBeneath(out, "link").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenFileBeneath(out, "dirlink/secret").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenFileBeneath(out, "fifo").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenFileBeneath(out, "../secret").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenFileBeneath(out, root_ + "/secret").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenFileBeneath(out, "a//b").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenFileBeneath(out, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(FilesTest, TreeSizeCountsEachInodeOnce) {
  ASSERT_TRUE(MakeDirectories(root_ + "/d/e", 0755).ok());
  Write("d/one", std::string(1000, 'x'));
  Write("d/e/two", std::string(24, 'y'));
  ASSERT_EQ(link((root_ + "/d/one").c_str(), (root_ + "/d/e/hard").c_str()), 0);
  ASSERT_EQ(symlink("one", (root_ + "/d/soft").c_str()), 0);
  absl::StatusOr<uint64_t> size = TreeSize(root_ + "/d");
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 1000u + 24u + 3u);
}

TEST_F(FilesTest, RemovesReadOnlyAndDeepTrees) {
  const std::string tree = root_ + "/tree";
  ASSERT_TRUE(MakeDirectories(tree + "/locked/inner", 0755).ok());
  Write("tree/locked/inner/file", "x");
  ASSERT_EQ(chmod((tree + "/locked/inner").c_str(), 0), 0);
  ASSERT_EQ(chmod((tree + "/locked").c_str(), 0500), 0);
  // Deeper than any recursion or descriptor budget would allow.
  const int dir = open(tree.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  int current = dir;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(mkdirat(current, "d", 0755), 0);
    const int next = openat(current, "d", O_RDONLY | O_DIRECTORY);
    ASSERT_GE(next, 0);
    close(current);
    current = next;
  }
  close(current);
  absl::StatusOr<uint64_t> size = TreeSize(tree);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 1u);
  EXPECT_TRUE(ChownTree(tree, getuid(), getgid()).ok());
  ASSERT_TRUE(RemoveTree(tree).ok());
  struct stat st;
  EXPECT_NE(lstat(tree.c_str(), &st), 0);
  EXPECT_TRUE(RemoveTree(tree).ok());
}

}  // namespace
}  // namespace refsum::witness
