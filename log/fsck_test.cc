// Tests of fsck on real logs: RocksDB storage written by the real sequencer
// with a real Ed25519 key, then damaged the ways a disk damages data: bytes
// of an SST file flipped on disk (RocksDB's checksums see it), and records
// rewritten with other values that RocksDB stores with valid checksums (a
// wrong tree node, a wrong entry), which only the tree's hashes reveal.

#include "log/fsck.h"

#include <dirent.h>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"
#include "crypto/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "log/sequencer.h"
#include "log/storage.h"
#include "log/testing.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"

namespace refsum::log {
namespace {

using ::testing::HasSubstr;

constexpr char kOrigin[] = "fsck.example.org/log";

// 1000 entries: not a power of two, so the tree's right border has six
// nodes (9/0, 8/2, 7/6, 6/14, 5/30, 3/124).
constexpr int kEntries = 1000;

class FsckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, testing::NewTempDir("fsck"));
    ASSERT_OK_AND_ASSIGN(testing::TestLogKey key,
                         testing::NewTestLogKey(kOrigin));
    signer_ = std::move(key.signer);
    verifier_ = std::move(key.verifier);
  }

  // Appends `count` entries "entry <i>" to the log in dir_ with the real
  // sequencer, and closes it.
  void AppendEntries(int count) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Storage> storage,
                         Storage::Open(dir_));
    ASSERT_OK_AND_ASSIGN(
        std::unique_ptr<Sequencer> sequencer,
        Sequencer::Start(storage.get(), kOrigin, signer_.get(),
                         verifier_.get()));
    absl::Mutex mu;
    std::vector<absl::Status> failures;
    for (int i = 0; i < count; ++i) {
      leaves_.push_back(absl::StrCat("entry ", leaves_.size()));
      PendingEntry entry;
      entry.leaf = leaves_.back();
      entry.leaf_hash = tlog::HashLeaf(entry.leaf);
      sequencer->Add(std::move(entry),
                     [&mu, &failures](absl::StatusOr<Integrated> done) {
                       absl::MutexLock lock(&mu);
                       if (!done.ok()) failures.push_back(done.status());
                     });
    }
    // Integrates everything queued before it returns.
    sequencer->Shutdown();
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(failures.empty()) << failures.front();
  }

  absl::StatusOr<FsckReport> RunFsck() {
    StorageOptions options;
    options.create_if_missing = false;
    ASSIGN_OR_RETURN(std::unique_ptr<Storage> storage,
                     Storage::Open(dir_, options));
    return Fsck(*storage, kOrigin, *verifier_);
  }

  // Expects fsck to fail with DataLoss naming `problem`.
  void ExpectFsckFinds(absl::string_view problem) {
    const absl::StatusOr<FsckReport> report = RunFsck();
    EXPECT_EQ(report.status().code(), absl::StatusCode::kDataLoss)
        << report.status();
    EXPECT_THAT(report.status().message(), HasSubstr(problem));
  }

  // Rewrites stored records with `batch` through the storage's own writes,
  // keeping the stored checkpoint: what damage that RocksDB's checksums
  // cannot see (a bad write, a bad copy) leaves behind.
  void Damage(Batch batch) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Storage> storage,
                         Storage::Open(dir_));
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> note,
                         storage->ReadCheckpoint());
    ASSERT_TRUE(note.has_value());
    batch.checkpoint = *note;
    ASSERT_OK(storage->Write(batch));
  }

  void DamageNode(uint32_t level, uint64_t index) {
    Batch batch;
    batch.nodes.emplace_back(tlog::NodeId{level, index},
                             tlog::HashLeaf("not this node"));
    Damage(std::move(batch));
  }

  absl::Status StartSequencer() {
    ASSIGN_OR_RETURN(std::unique_ptr<Storage> storage, Storage::Open(dir_));
    return Sequencer::Start(storage.get(), kOrigin, signer_.get(),
                            verifier_.get())
        .status();
  }

  std::string dir_;
  std::unique_ptr<crypto::NoteSigner> signer_;
  std::unique_ptr<crypto::NoteVerifier> verifier_;
  std::vector<std::string> leaves_;
};

TEST_F(FsckTest, AHealthyLogPassesWithEveryNodeChecked) {
  AppendEntries(kEntries);
  if (HasFatalFailure()) return;
  ASSERT_OK_AND_ASSIGN(const FsckReport report, RunFsck());
  EXPECT_EQ(report.checkpoint.size, static_cast<uint64_t>(kEntries));
  EXPECT_EQ(report.entries, static_cast<uint64_t>(kEntries));
  uint64_t nodes = 0;
  for (uint64_t level_size = kEntries; level_size > 0; level_size /= 2) {
    nodes += level_size;
  }
  EXPECT_EQ(report.nodes, nodes);
}

TEST_F(FsckTest, AnEmptyLogPasses) {
  AppendEntries(0);
  if (HasFatalFailure()) return;
  ASSERT_OK_AND_ASSIGN(const FsckReport report, RunFsck());
  EXPECT_EQ(report.checkpoint.size, 0u);
  EXPECT_EQ(report.nodes, 0u);
}

TEST_F(FsckTest, NamesAnInteriorNodeThatIsNotTheHashOfItsChildren) {
  AppendEntries(kEntries);
  if (HasFatalFailure()) return;
  DamageNode(2, 5);
  if (HasFatalFailure()) return;
  ExpectFsckFinds(
      "node 2/5 (entries 20 to 23): the stored hash is not the hash of its "
      "children node 1/10 and node 1/11");
}

TEST_F(FsckTest, NamesADamagedLeafNode) {
  AppendEntries(kEntries);
  if (HasFatalFailure()) return;
  DamageNode(0, 321);
  if (HasFatalFailure()) return;
  ExpectFsckFinds("entry 321: ");
}

TEST_F(FsckTest, ADamagedBorderNodeStopsTheLogFromStarting) {
  AppendEntries(kEntries);
  if (HasFatalFailure()) return;
  ASSERT_OK(StartSequencer());
  DamageNode(8, 2);
  if (HasFatalFailure()) return;
  const absl::Status refused = StartSequencer();
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss) << refused;
  EXPECT_THAT(refused.message(),
              HasSubstr("the stored tree of size 1000 has root "));
  ExpectFsckFinds("node 8/2 (entries 512 ");
}

TEST_F(FsckTest, NamesADamagedEntry) {
  AppendEntries(kEntries);
  if (HasFatalFailure()) return;
  // The entry's bytes change; its leaf hash index entry stays as it was.
  Batch batch;
  batch.entries.push_back(
      StoredEntry{123, "not entry 123", tlog::HashLeaf(leaves_[123]), {}});
  Damage(std::move(batch));
  if (HasFatalFailure()) return;
  ExpectFsckFinds(
      "entry 123: the stored leaf hash (node 0/123) is not the hash of the "
      "stored entry");
}

TEST_F(FsckTest, NamesAnEntryMissingFromTheLeafHashIndex) {
  AppendEntries(kEntries);
  if (HasFatalFailure()) return;
  // Entry 40 stored again at 41: 41's bytes and leaf node are then those
  // of 40, and the leaf hash index sends 40's hash to 41.
  Batch batch;
  batch.entries.push_back(
      StoredEntry{41, leaves_[40], tlog::HashLeaf(leaves_[40]), {}});
  batch.nodes.emplace_back(tlog::NodeId{0, 41}, tlog::HashLeaf(leaves_[40]));
  Damage(std::move(batch));
  if (HasFatalFailure()) return;
  ExpectFsckFinds("entry 40: the leaf-hash index says it is at 41");
}

TEST_F(FsckTest, RefusesAnotherLogsKey) {
  AppendEntries(3);
  if (HasFatalFailure()) return;
  ASSERT_OK_AND_ASSIGN(testing::TestLogKey other,
                       testing::NewTestLogKey(kOrigin));
  verifier_ = std::move(other.verifier);
  const absl::StatusOr<FsckReport> report = RunFsck();
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition)
      << report.status();
  EXPECT_THAT(report.status().message(), HasSubstr("not signed by this log"));
}

TEST_F(FsckTest, RefusesADirectoryWithoutALog) {
  // Not created: fsck opens without creating.
  dir_ += "/missing";
  absl::StatusOr<FsckReport> report = RunFsck();
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition)
      << report.status();
  EXPECT_THAT(report.status().message(), HasSubstr(dir_));
  // A database without a checkpoint is no log either.
  ASSERT_OK(Storage::Open(dir_).status());
  report = RunFsck();
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition)
      << report.status();
  EXPECT_THAT(report.status().message(), HasSubstr("no checkpoint"));
}

// Returns the paths of the SST files in `dir`.
std::vector<std::string> SstFiles(const std::string& dir) {
  std::vector<std::string> files;
  DIR* listing = opendir(dir.c_str());
  if (listing == nullptr) return files;
  while (const dirent* entry = readdir(listing)) {
    if (absl::EndsWith(entry->d_name, ".sst")) {
      files.push_back(absl::StrCat(dir, "/", entry->d_name));
    }
  }
  closedir(listing);
  return files;
}

TEST_F(FsckTest, ADamagedFileIsFoundAndNoReadServesWrongData) {
  AppendEntries(kEntries);
  if (HasFatalFailure()) return;
  // Closing the storage flushed the entries into an SST file.
  const std::vector<std::string> ssts = SstFiles(dir_);
  ASSERT_EQ(ssts.size(), 1u);
  {
    std::fstream file(ssts[0], std::ios::in | std::ios::out |
                                   std::ios::binary);
    ASSERT_TRUE(file.is_open());
    file.seekg(0, std::ios::end);
    const std::streamoff size = file.tellg();
    ASSERT_GT(size, 4096);
    // Data blocks come first: flip bytes well inside them.
    for (std::streamoff at = size / 8; at < size / 2; at += size / 8) {
      file.seekg(at);
      char byte = 0;
      file.read(&byte, 1);
      byte = static_cast<char>(byte ^ 0x5a);
      file.seekp(at);
      file.write(&byte, 1);
    }
    ASSERT_TRUE(file.good());
  }

  ExpectFsckFinds("RocksDB files: ");
  ExpectFsckFinds(".sst");

  absl::StatusOr<std::unique_ptr<Storage>> storage = Storage::Open(dir_);
  if (!storage.ok()) {
    // Refusing to open at all is also right.
    std::cout << "damaged SST: open refused: " << storage.status() << std::endl;
    EXPECT_EQ(storage.status().code(), absl::StatusCode::kDataLoss)
        << storage.status();
    return;
  }
  ASSERT_OK_AND_ASSIGN(const std::optional<std::string> note,
                       (*storage)->ReadCheckpoint());
  ASSERT_TRUE(note.has_value());
  const crypto::NoteVerifier* verifiers[] = {verifier_.get()};
  ASSERT_OK_AND_ASSIGN(const crypto::VerifiedNote opened,
                       crypto::OpenNote(*note, verifiers));
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint checkpoint,
                       tlog::ParseCheckpointBody(opened.text));
  // Every read either is right or fails with DataLoss; a proof built from
  // damaged blocks is never returned.
  int data_loss = 0;
  for (uint64_t i = 0; i < kEntries; ++i) {
    const absl::StatusOr<std::vector<std::string>> entry =
        (*storage)->ReadEntries(i, 1);
    if (entry.ok()) {
      ASSERT_EQ(entry->size(), 1u);
      EXPECT_EQ((*entry)[0], leaves_[i]);
    } else {
      EXPECT_EQ(entry.status().code(), absl::StatusCode::kDataLoss)
          << entry.status();
      ++data_loss;
    }
    const absl::StatusOr<std::vector<tlog::Hash>> proof =
        tlog::BuildInclusionProof(i, checkpoint.size, **storage);
    if (proof.ok()) {
      EXPECT_OK(tlog::VerifyInclusion(i, checkpoint.size,
                                      tlog::HashLeaf(leaves_[i]), *proof,
                                      checkpoint.root));
    } else {
      EXPECT_EQ(proof.status().code(), absl::StatusCode::kDataLoss)
          << proof.status();
      ++data_loss;
    }
  }
  EXPECT_GT(data_loss, 0);
  std::cout << "damaged SST: " << data_loss
            << " reads and proofs answered DataLoss" << std::endl;
}

}  // namespace
}  // namespace refsum::log
