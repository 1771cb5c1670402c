#include "base/file.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace refsum {
namespace {

std::string NewTempDir() {
  std::string dir_template =
      std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR")
                                             : "/tmp") +
      "/file_test.XXXXXX";
  char* dir = mkdtemp(dir_template.data());
  EXPECT_NE(dir, nullptr);
  return dir_template;
}

int CountEntries(const std::string& dir) {
  int count = 0;
  DIR* handle = opendir(dir.c_str());
  while (dirent* entry = readdir(handle)) {
    if (std::string(entry->d_name) != "." && std::string(entry->d_name) != "..")
      ++count;
  }
  closedir(handle);
  return count;
}

TEST(FileTest, WritesAtomicallyWithModeAndReadsBack) {
  const std::string dir = NewTempDir();
  const std::string path = dir + "/state";
  ASSERT_TRUE(WriteFileAtomically(path, "first", 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second", 0600).ok());
  absl::StatusOr<std::string> contents = ReadFile(path);
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(*contents, "second");
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(CountEntries(dir), 1) << "a temporary file was left behind";
}

TEST(FileTest, FailedWriteLeavesNothingBehind) {
  const std::string dir = NewTempDir();
  absl::Status status =
      WriteFileAtomically(dir + "/missing/state", "data", 0644);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_NE(status.message().find("missing/state"), absl::string_view::npos);
  // Renaming onto a directory fails after the temporary file was written.
  ASSERT_EQ(mkdir((dir + "/occupied").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((dir + "/occupied/x").c_str(), 0700), 0);
  EXPECT_FALSE(WriteFileAtomically(dir + "/occupied", "data", 0644).ok());
  EXPECT_EQ(CountEntries(dir), 1);
}

TEST(FileTest, ReadFileReportsMissingAndOversizedFiles) {
  const std::string dir = NewTempDir();
  EXPECT_EQ(ReadFile(dir + "/nope").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(WriteFileAtomically(dir + "/big", std::string(100, 'x'), 0600)
                  .ok());
  absl::Status status = ReadFile(dir + "/big", 99).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("99"), absl::string_view::npos);
  EXPECT_TRUE(ReadFile(dir + "/big", 100).ok());
}

TEST(FileTest, MakeDirectoriesCreatesMissingParents) {
  const std::string dir = NewTempDir();
  ASSERT_TRUE(MakeDirectories(dir + "/a/b/c", 0700).ok());
  ASSERT_TRUE(MakeDirectories(dir + "/a/b/c", 0700).ok());  // already there
  struct stat info;
  ASSERT_EQ(stat((dir + "/a/b/c").c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  ASSERT_TRUE(WriteFileAtomically(dir + "/file", "x", 0600).ok());
  EXPECT_FALSE(MakeDirectories(dir + "/file", 0700).ok());
  EXPECT_FALSE(MakeDirectories(dir + "/file/below", 0700).ok());
}

TEST(FileTest, PathsResolveAgainstTheirBase) {
  EXPECT_EQ(DirectoryOf("a/b/c.conf"), "a/b");
  EXPECT_EQ(DirectoryOf("c.conf"), ".");
  EXPECT_EQ(DirectoryOf("/c.conf"), "/");
  EXPECT_EQ(ResolvePath("a/b", "keys/k"), "a/b/keys/k");
  EXPECT_EQ(ResolvePath("a/b", "/etc/k"), "/etc/k");
  EXPECT_EQ(ResolvePath(".", "keys/k"), "keys/k");
}

}  // namespace
}  // namespace refsum
