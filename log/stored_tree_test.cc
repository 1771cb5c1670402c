// Tests of the start-time checks on real RocksDB storage, and how long they
// take on a large log: REFSUM_RESTART_ENTRIES entries (default 20000; e.g.
// --test_env=REFSUM_RESTART_ENTRIES=1000000) are written in batches as the
// sequencer writes them, then the check and a whole fsck are timed and
// printed (--test_output=all). Nothing asserts on the times.

#include "log/stored_tree.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/status_macros.h"
#include "crypto/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "log/fsck.h"
#include "log/sequencer.h"
#include "log/storage.h"
#include "log/testing.h"
#include "tlog/checkpoint.h"
#include "tlog/compact_range.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"
#include "tlog/proof.h"

namespace refsum::log {
namespace {

using ::testing::HasSubstr;

constexpr char kOrigin[] = "restart.example.org/log";

uint64_t EntriesFromEnv() {
  const char* value = std::getenv("REFSUM_RESTART_ENTRIES");
  uint64_t entries = 0;
  if (value == nullptr || !absl::SimpleAtoi(value, &entries) || entries == 0) {
    return 20000;
  }
  return entries;
}

class StoredTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, testing::NewTempDir("stored-tree"));
    ASSERT_OK_AND_ASSIGN(storage_, Storage::Open(dir_));
    ASSERT_OK_AND_ASSIGN(testing::TestLogKey key,
                         testing::NewTestLogKey(kOrigin));
    signer_ = std::move(key.signer);
    verifier_ = std::move(key.verifier);
  }

  // Appends `count` entries in synced batches of up to 10000, each with
  // every node it completes and a signed checkpoint, as the sequencer does.
  void Append(uint64_t count) {
    while (count > 0) {
      const uint64_t size = std::min<uint64_t>(count, 10000);
      Batch batch;
      for (uint64_t i = 0; i < size; ++i) {
        const uint64_t index = range_.end();
        std::string leaf = absl::StrCat("entry ", index);
        const tlog::Hash hash = tlog::HashLeaf(leaf);
        ASSERT_OK(range_.AppendLeaf(
            hash, [&batch](const tlog::NodeId& id, const tlog::Hash& node) {
              batch.nodes.emplace_back(id, node);
            }));
        batch.entries.push_back(StoredEntry{index, std::move(leaf), hash, {}});
      }
      ASSERT_OK_AND_ASSIGN(batch.checkpoint, Sign(range_.end()));
      ASSERT_OK(storage_->Write(batch));
      count -= size;
    }
  }

  absl::StatusOr<std::string> Sign(uint64_t size) {
    ASSIGN_OR_RETURN(tlog::Hash root, range_.Root());
    ASSIGN_OR_RETURN(
        std::string body,
        tlog::FormatCheckpointBody(tlog::Checkpoint{kOrigin, size, root, {}}));
    const crypto::NoteSigner* signers[] = {signer_.get()};
    return crypto::SignNote(body, signers);
  }

  // The start-time checks on the stored checkpoint.
  absl::StatusOr<tlog::CompactRange> Check() {
    ASSIGN_OR_RETURN(std::optional<std::string> note,
                              storage_->ReadCheckpoint());
    if (!note.has_value()) return absl::NotFoundError("no checkpoint");
    ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint,
                              OpenStoredCheckpoint(*note, kOrigin, *verifier_));
    return ReadStoredRange(*storage_, checkpoint);
  }

  std::string dir_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<crypto::NoteSigner> signer_;
  std::unique_ptr<crypto::NoteVerifier> verifier_;
  tlog::CompactRange range_;
};

TEST_F(StoredTreeTest, RestoresTheRangeOfALargeLogFromItsBorder) {
  const uint64_t entries = EntriesFromEnv();
  const absl::Time start = absl::Now();
  Append(entries);
  if (HasFatalFailure()) return;
  const absl::Duration written = absl::Now() - start;

  // A restart: RocksDB opens the directory (replaying its write-ahead log)
  // with a cold block cache, then the log checks the stored tree.
  storage_.reset();
  const absl::Time open_start = absl::Now();
  ASSERT_OK_AND_ASSIGN(storage_, Storage::Open(dir_));
  const absl::Duration opened = absl::Now() - open_start;
  const absl::Time check_start = absl::Now();
  ASSERT_OK_AND_ASSIGN(const tlog::CompactRange stored, Check());
  const absl::Duration checked = absl::Now() - check_start;
  EXPECT_EQ(stored.end(), entries);
  EXPECT_EQ(stored.Root().value(), range_.Root().value());
  EXPECT_EQ(stored.hashes(), range_.hashes());

  // The whole start of the sequencer, which runs the same checks.
  const absl::Time sequencer_start = absl::Now();
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Sequencer> sequencer,
      Sequencer::Start(storage_.get(), kOrigin, signer_.get(),
                       verifier_.get()));
  const absl::Duration started = absl::Now() - sequencer_start;
  EXPECT_EQ(sequencer->Latest()->checkpoint.size, entries);
  sequencer->Shutdown();

  const absl::Time fsck_start = absl::Now();
  ASSERT_OK_AND_ASSIGN(const FsckReport report,
                       Fsck(*storage_, kOrigin, *verifier_));
  const absl::Duration fscked = absl::Now() - fsck_start;
  EXPECT_EQ(report.entries, entries);
  std::cout << "[restart] " << entries << " entries written in " << written
            << "; restart: Storage::Open " << opened << ", start-time check "
            << checked << ", then Sequencer::Start "
            << started << ", fsck " << fscked << " (" << report.nodes
            << " nodes)" << std::endl;
}

TEST_F(StoredTreeTest, AnEmptyLogHasTheEmptyRoot) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(0));
  Batch batch;
  batch.checkpoint = note;
  ASSERT_OK(storage_->Write(batch));
  ASSERT_OK_AND_ASSIGN(const tlog::CompactRange stored, Check());
  EXPECT_EQ(stored.end(), 0u);
}

TEST_F(StoredTreeTest, ABorderNodeThatDoesNotMatchTheCheckpointIsDataLoss) {
  Append(1000);
  if (HasFatalFailure()) return;
  Batch damage;
  damage.nodes.emplace_back(tlog::NodeId{5, 30}, tlog::HashLeaf("not it"));
  ASSERT_OK_AND_ASSIGN(damage.checkpoint, Sign(1000));
  ASSERT_OK(storage_->Write(damage));
  const absl::Status refused = Check().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss) << refused;
  EXPECT_THAT(refused.message(),
              HasSubstr("the stored tree of size 1000 has root "));
  EXPECT_THAT(refused.message(), HasSubstr("but the stored checkpoint says "));
}

TEST_F(StoredTreeTest, AMissingBorderNodeIsDataLoss) {
  Append(4);
  if (HasFatalFailure()) return;
  // A checkpoint of size 5 over a tree of 4 stored entries.
  ASSERT_OK(range_.AppendLeaf(tlog::HashLeaf("never stored")));
  Batch batch;
  ASSERT_OK_AND_ASSIGN(batch.checkpoint, Sign(5));
  ASSERT_OK(storage_->Write(batch));
  const absl::Status refused = Check().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("not stored"));
}

TEST_F(StoredTreeTest, ACheckpointOfAnotherKeyOrOriginIsRefused) {
  Append(3);
  if (HasFatalFailure()) return;
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> note,
                       storage_->ReadCheckpoint());
  ASSERT_TRUE(note.has_value());
  ASSERT_OK_AND_ASSIGN(const testing::TestLogKey other,
                       testing::NewTestLogKey(kOrigin));
  absl::Status refused =
      OpenStoredCheckpoint(*note, kOrigin, *other.verifier).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("not signed by this log's key"));

  // Same key, signing for another origin.
  ASSERT_OK_AND_ASSIGN(
      const std::string body,
      tlog::FormatCheckpointBody(
          tlog::Checkpoint{"other.example.org/log", 3, range_.Root().value(),
                           {}}));
  const crypto::NoteSigner* signers[] = {signer_.get()};
  ASSERT_OK_AND_ASSIGN(const std::string foreign,
                       crypto::SignNote(body, signers));
  refused = OpenStoredCheckpoint(foreign, kOrigin, *verifier_).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(refused.message(),
              HasSubstr("holds the log \"other.example.org/log\""));
}

// Every inclusion and consistency proof in a tree of 37 entries: all right
// while the storage is intact; after one interior node is damaged, each is
// right or DataLoss, and DataLoss wherever the unchecked proof is wrong
// (also, where it needs the damaged node to check a right one).
TEST_F(StoredTreeTest, CheckedProofsAreRightOrDataLoss) {
  constexpr uint64_t kSize = 37;
  Append(kSize);
  if (HasFatalFailure()) return;
  std::vector<tlog::Hash> leaves;
  for (uint64_t i = 0; i < kSize; ++i) {
    leaves.push_back(tlog::HashLeaf(absl::StrCat("entry ", i)));
  }
  std::vector<tlog::Hash> roots = {tlog::EmptyRoot()};
  for (uint64_t size = 1; size <= kSize; ++size) {
    roots.push_back(tlog::testing::ReferenceRoot(
        absl::MakeConstSpan(leaves).subspan(0, size)));
  }
  const tlog::Checkpoint signed_tree{kOrigin, kSize, roots[kSize], {}};

  // Returns the number of checked proofs refused; fails the test on any
  // wrong proof and on a refusal other than DataLoss. Counts the unchecked
  // proofs that are wrong in `wrong_unchecked`.
  int wrong_unchecked = 0;
  const auto check_all = [&]() -> int {
    int refused = 0;
    const auto expect = [&](const absl::StatusOr<std::vector<tlog::Hash>>&
                                checked,
                            const absl::StatusOr<std::vector<tlog::Hash>>&
                                unchecked,
                            const std::function<absl::Status(
                                const std::vector<tlog::Hash>&)>& verify,
                            const std::string& what) {
      const bool unchecked_right =
          unchecked.ok() && verify(*unchecked).ok();
      if (checked.ok()) {
        const absl::Status verified = verify(*checked);
        EXPECT_TRUE(verified.ok()) << what << ": " << verified;
      } else {
        EXPECT_EQ(checked.status().code(), absl::StatusCode::kDataLoss)
            << what << ": " << checked.status();
        ++refused;
      }
      if (!unchecked_right) {
        EXPECT_FALSE(checked.ok()) << what;
        ++wrong_unchecked;
      }
    };
    for (uint64_t size = 1; size <= kSize; ++size) {
      for (uint64_t index = 0; index < size; ++index) {
        expect(CheckedInclusionProof(*storage_, index, size, signed_tree),
               tlog::BuildInclusionProof(index, size, *storage_),
               [&](const std::vector<tlog::Hash>& proof) {
                 return tlog::VerifyInclusion(index, size, leaves[index],
                                              proof, roots[size]);
               },
               absl::StrCat("inclusion of ", index, " in ", size));
      }
      for (uint64_t old_size = 1; old_size <= size; ++old_size) {
        expect(CheckedConsistencyProof(*storage_, old_size, size,
                                       signed_tree),
               tlog::BuildConsistencyProof(old_size, size, *storage_),
               [&](const std::vector<tlog::Hash>& proof) {
                 return tlog::VerifyConsistency(old_size, size,
                                                roots[old_size], roots[size],
                                                proof);
               },
               absl::StrCat("consistency of ", old_size, " with ", size));
      }
    }
    return refused;
  };
  EXPECT_EQ(check_all(), 0);
  EXPECT_EQ(wrong_unchecked, 0);

  // Node 2/3 (entries 12 to 15) is off the border of the tree of 37
  // (5/0, 2/8, 0/36): the start-time check cannot see it.
  Batch damage;
  damage.nodes.emplace_back(tlog::NodeId{2, 3}, tlog::HashLeaf("not it"));
  ASSERT_OK_AND_ASSIGN(damage.checkpoint, Sign(kSize));
  ASSERT_OK(storage_->Write(damage));
  ASSERT_OK(Check().status());
  const int refused = check_all();
  EXPECT_GT(wrong_unchecked, 0);
  EXPECT_GE(refused, wrong_unchecked);
  std::cout << "[proofs] after damage: " << wrong_unchecked
            << " unchecked proofs wrong, " << refused
            << " checked proofs refused with DataLoss, none wrong"
            << std::endl;

  // Beyond the signed tree is an argument error, not damage.
  EXPECT_EQ(
      CheckedInclusionProof(*storage_, 0, kSize + 1, signed_tree).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace refsum::log
