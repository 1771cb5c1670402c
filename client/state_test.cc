#include "client/state.h"

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "client/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tlog/checkpoint.h"

namespace refsum::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ListDir;
using testing::NewTempDir;
using testing::TestLog;

constexpr char kOrigin[] = "log.example.org/refsum";
constexpr char kOtherOrigin[] = "other.example.org/log";

// Returns the basename of `path`.
std::string Basename(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("state"));
    ASSERT_OK_AND_ASSIGN(TestLog log, TestLog::Create(kOrigin));
    ASSERT_OK_AND_ASSIGN(TestLog other, TestLog::Create(kOtherOrigin));
    for (int i = 0; i < 5; ++i) {
      log.Append(absl::StrCat("entry ", i));
      other.Append(absl::StrCat("other entry ", i));
    }
    log_.emplace(std::move(log));
    other_log_.emplace(std::move(other));
  }

  // The signed checkpoint of `log` at `size`, as Verify stores it.
  StoredCheckpoint Signed(const TestLog& log, uint64_t size) {
    StoredCheckpoint stored;
    absl::StatusOr<std::string> note = log.SignCheckpoint(size, {});
    EXPECT_TRUE(note.ok()) << note.status();
    stored.note = note.value_or("");
    absl::StatusOr<tlog::Checkpoint> checkpoint =
        tlog::ParseCheckpointNote(stored.note);
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
    if (checkpoint.ok()) stored.checkpoint = *checkpoint;
    return stored;
  }

  std::string dir_;
  std::optional<TestLog> log_;
  std::optional<TestLog> other_log_;
};

TEST_F(CheckpointStoreTest, LoadFromAnEmptyDirectoryFindsNothing) {
  const CheckpointStore store(dir_);
  ASSERT_OK_AND_ASSIGN(const std::optional<StoredCheckpoint> loaded,
                       store.Load(kOrigin));
  EXPECT_FALSE(loaded.has_value());
}

TEST_F(CheckpointStoreTest, LoadFromAMissingDirectoryFindsNothing) {
  const CheckpointStore store(absl::StrCat(dir_, "/not-yet"));
  ASSERT_OK_AND_ASSIGN(const std::optional<StoredCheckpoint> loaded,
                       store.Load(kOrigin));
  EXPECT_FALSE(loaded.has_value());
}

TEST_F(CheckpointStoreTest, StoreThenLoad) {
  const CheckpointStore store(dir_);
  const StoredCheckpoint stored = Signed(*log_, 3);
  ASSERT_OK(store.Store(stored));

  ASSERT_OK_AND_ASSIGN(const std::optional<StoredCheckpoint> loaded,
                       store.Load(kOrigin));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->note, stored.note);
  EXPECT_EQ(loaded->checkpoint, stored.checkpoint);
  EXPECT_EQ(loaded->checkpoint.size, 3u);

  // Another store over the same directory sees it too.
  ASSERT_OK_AND_ASSIGN(const std::optional<StoredCheckpoint> reloaded,
                       CheckpointStore(dir_).Load(kOrigin));
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_EQ(reloaded->note, stored.note);
}

TEST_F(CheckpointStoreTest, StoreReplacesAtomicallyWithoutTemporaryFiles) {
  const CheckpointStore store(dir_);
  ASSERT_OK(store.Store(Signed(*log_, 2)));
  const StoredCheckpoint newer = Signed(*log_, 5);
  ASSERT_OK(store.Store(newer));

  ASSERT_OK_AND_ASSIGN(const std::optional<StoredCheckpoint> loaded,
                       store.Load(kOrigin));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->checkpoint.size, 5u);
  EXPECT_EQ(loaded->note, newer.note);
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> files, ListDir(dir_));
  EXPECT_THAT(files, ElementsAre(Basename(store.PathFor(kOrigin))));
}

TEST_F(CheckpointStoreTest, OriginsAreKeptApart) {
  const CheckpointStore store(dir_);
  const StoredCheckpoint mine = Signed(*log_, 4);
  const StoredCheckpoint theirs = Signed(*other_log_, 2);
  ASSERT_OK(store.Store(mine));
  ASSERT_OK(store.Store(theirs));

  EXPECT_NE(store.PathFor(kOrigin), store.PathFor(kOtherOrigin));
  ASSERT_OK_AND_ASSIGN(const std::optional<StoredCheckpoint> loaded_mine,
                       store.Load(kOrigin));
  ASSERT_OK_AND_ASSIGN(const std::optional<StoredCheckpoint> loaded_theirs,
                       store.Load(kOtherOrigin));
  ASSERT_TRUE(loaded_mine.has_value());
  ASSERT_TRUE(loaded_theirs.has_value());
  EXPECT_EQ(loaded_mine->note, mine.note);
  EXPECT_EQ(loaded_theirs->note, theirs.note);
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> files, ListDir(dir_));
  EXPECT_EQ(files.size(), 2u);
}

TEST_F(CheckpointStoreTest, PathForStaysInTheDirectory) {
  const CheckpointStore store(dir_);
  for (const char* origin : {kOrigin, "../../etc/passwd", "a/b/c"}) {
    const std::string path = store.PathFor(origin);
    EXPECT_TRUE(absl::StartsWith(path, dir_ + "/")) << path;
    EXPECT_EQ(path.find('/', dir_.size() + 1), std::string::npos) << path;
    EXPECT_EQ(path.find(".."), std::string::npos) << path;
  }
}

TEST_F(CheckpointStoreTest, CorruptStateFileIsDataLoss) {
  const CheckpointStore store(dir_);
  ASSERT_OK(
      WriteFileAtomically(store.PathFor(kOrigin), "not a checkpoint\n", 0644));
  const absl::StatusOr<std::optional<StoredCheckpoint>> loaded =
      store.Load(kOrigin);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(kOrigin));
}

TEST_F(CheckpointStoreTest, TruncatedStateFileIsDataLoss) {
  const CheckpointStore store(dir_);
  const StoredCheckpoint stored = Signed(*log_, 3);
  ASSERT_OK(WriteFileAtomically(store.PathFor(kOrigin),
                                stored.note.substr(0, stored.note.size() / 2),
                                0644));
  const absl::StatusOr<std::optional<StoredCheckpoint>> loaded =
      store.Load(kOrigin);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(CheckpointStoreTest, EmptyStateFileIsDataLoss) {
  const CheckpointStore store(dir_);
  ASSERT_OK(WriteFileAtomically(store.PathFor(kOrigin), "", 0644));
  const absl::StatusOr<std::optional<StoredCheckpoint>> loaded =
      store.Load(kOrigin);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(CheckpointStoreTest, CheckpointOfAnotherOriginIsDataLoss) {
  const CheckpointStore store(dir_);
  ASSERT_OK(WriteFileAtomically(store.PathFor(kOrigin),
                                Signed(*other_log_, 2).note, 0644));
  const absl::StatusOr<std::optional<StoredCheckpoint>> loaded =
      store.Load(kOrigin);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr(store.PathFor(kOrigin)));
}

TEST_F(CheckpointStoreTest, StoreCreatesTheDirectory) {
  const std::string dir = absl::StrCat(dir_, "/state");
  const CheckpointStore store(dir);
  ASSERT_OK(store.Store(Signed(*log_, 1)));

  struct stat info;
  ASSERT_EQ(stat(dir.c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  ASSERT_OK_AND_ASSIGN(const std::optional<StoredCheckpoint> loaded,
                       store.Load(kOrigin));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->checkpoint.size, 1u);
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> files, ListDir(dir));
  EXPECT_THAT(files, ElementsAre(Basename(store.PathFor(kOrigin))));
}

TEST_F(CheckpointStoreTest, StoreIntoAnExistingDirectoryKeepsOtherFiles) {
  ASSERT_OK(WriteFileAtomically(absl::StrCat(dir_, "/README"), "mine\n", 0644));
  const CheckpointStore store(dir_);
  ASSERT_OK(store.Store(Signed(*log_, 1)));
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> files, ListDir(dir_));
  EXPECT_EQ(files.size(), 2u);
}

}  // namespace
}  // namespace refsum::client
