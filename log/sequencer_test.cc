#include "log/sequencer.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "log/signed_checkpoint.h"
#include "log/storage.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"
#include "tlog/proof.h"

namespace refsum::log {
namespace {

using ::refsum::tlog::testing::ReferenceRoot;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::string_view kOrigin = "example.com/refsum/sequencer-test";

// An upper bound for anything the tests wait for; never an expectation of how
// fast the machine is.
constexpr absl::Duration kTimeout = absl::Seconds(60);

// Effectively forever, for batch delays that must only end early.
constexpr absl::Duration kLongDelay = absl::Hours(24);

std::string NewTempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr ? base : "/tmp", "/sequencer_test_XXXXXX");
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp failed for " << pattern;
  return pattern;
}

PendingEntry MakeEntry(absl::string_view leaf,
                       std::vector<std::string> lookup_keys = {}) {
  PendingEntry entry;
  entry.leaf = std::string(leaf);
  entry.leaf_hash = tlog::HashLeaf(leaf);
  entry.lookup_keys = std::move(lookup_keys);
  return entry;
}

// A log's signing identity: an Ed25519 key with a signer and a verifier
// under one origin.
struct LogIdentity {
  std::string origin;
  std::unique_ptr<crypto::NoteSigner> signer;
  std::unique_ptr<crypto::NoteVerifier> verifier;
};

LogIdentity MakeIdentity(absl::string_view origin,
                         const crypto::PrivateKey& key) {
  LogIdentity identity;
  identity.origin = std::string(origin);
  absl::StatusOr<std::unique_ptr<crypto::NoteSigner>> signer =
      crypto::NewEd25519NoteSigner(origin, key);
  EXPECT_TRUE(signer.ok()) << signer.status();
  if (signer.ok()) identity.signer = *std::move(signer);
  absl::StatusOr<std::unique_ptr<crypto::NoteVerifier>> verifier =
      crypto::NewEd25519NoteVerifier(origin, key.public_key());
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  if (verifier.ok()) identity.verifier = *std::move(verifier);
  return identity;
}

crypto::PrivateKey NewKey() {
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

// What one Add's callback received.
struct Outcome {
  absl::Notification done;
  absl::StatusOr<Integrated> result = absl::UnknownError("no callback yet");
  std::atomic<int> calls{0};  // more than 1 is a bug
};

std::shared_ptr<Outcome> AddEntry(Sequencer& sequencer, PendingEntry entry) {
  auto outcome = std::make_shared<Outcome>();
  sequencer.Add(std::move(entry), [outcome](absl::StatusOr<Integrated> result) {
    if (++outcome->calls > 1) return;
    outcome->result = std::move(result);
    outcome->done.Notify();
  });
  return outcome;
}

// Waits (at most kTimeout) for `outcome`'s callback.
::testing::AssertionResult Finished(const Outcome& outcome) {
  if (!outcome.done.WaitForNotificationWithTimeout(kTimeout)) {
    return ::testing::AssertionFailure()
           << "the callback did not run within " << kTimeout;
  }
  if (outcome.calls.load() != 1) {
    return ::testing::AssertionFailure()
           << "the callback ran " << outcome.calls.load() << " times";
  }
  return ::testing::AssertionSuccess();
}

// Waits for `outcome` and returns its Integrated, failing the test if the
// entry was not integrated.
Integrated AwaitIntegrated(const Outcome& outcome) {
  EXPECT_TRUE(Finished(outcome));
  EXPECT_TRUE(outcome.result.ok()) << outcome.result.status();
  if (!outcome.done.HasBeenNotified() || !outcome.result.ok()) {
    return Integrated{UINT64_MAX, false, nullptr, nullptr};
  }
  EXPECT_NE(outcome.result->checkpoint, nullptr);
  return *outcome.result;
}

// Adds an entry whose callback holds the sequencer thread until Release(),
// so that entries added meanwhile queue up and form the next batch
// deterministically. Releases on destruction; destroy it before the
// sequencer.
class Blocker {
 public:
  Blocker(Sequencer& sequencer, PendingEntry entry)
      : state_(std::make_shared<State>()) {
    sequencer.Add(std::move(entry),
                  [state = state_](absl::StatusOr<Integrated> result) {
                    state->result = std::move(result);
                    state->held.Notify();
                    state->release.WaitForNotificationWithTimeout(kTimeout);
                  });
  }
  ~Blocker() { Release(); }

  // Waits until the sequencer thread is held in the callback.
  ::testing::AssertionResult Held() const {
    if (state_->held.WaitForNotificationWithTimeout(kTimeout)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "the blocking entry was not integrated within " << kTimeout;
  }
  void Release() {
    if (!state_->release.HasBeenNotified()) state_->release.Notify();
  }
  // Valid once Held().
  const absl::StatusOr<Integrated>& result() const { return state_->result; }

 private:
  struct State {
    absl::Notification held;
    absl::Notification release;
    absl::StatusOr<Integrated> result = absl::UnknownError("not integrated");
  };
  std::shared_ptr<State> state_;
};

// A Storage that forwards to a real one and can fail on demand.
class FaultyStorage : public Storage {
 public:
  enum class WriteFault {
    kNone,
    // Returns the error without storing anything.
    kFailBeforeStoring,
    // Stores the batch, then returns the error anyway (e.g. an fsync error
    // reported after the data reached the disk).
    kFailAfterStoring,
  };

  explicit FaultyStorage(Storage* real) : real_(real) {}

  void FailNextWrite(WriteFault fault, absl::Status status) {
    absl::MutexLock lock(&mu_);
    write_fault_ = fault;
    write_error_ = std::move(status);
  }
  void FailCheckpointReads(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_checkpoint_reads_ = fail;
  }
  int write_calls() const {
    absl::MutexLock lock(&mu_);
    return write_calls_;
  }
  // Every checkpoint that reached the real storage, in order.
  std::vector<std::string> stored_checkpoints() const {
    absl::MutexLock lock(&mu_);
    return stored_checkpoints_;
  }

  absl::Status Write(const Batch& batch) override {
    absl::MutexLock lock(&mu_);
    ++write_calls_;
    const WriteFault fault = write_fault_;
    write_fault_ = WriteFault::kNone;
    if (fault == WriteFault::kFailBeforeStoring) return write_error_;
    absl::Status status = real_->Write(batch);
    if (status.ok()) stored_checkpoints_.push_back(batch.checkpoint);
    if (fault == WriteFault::kFailAfterStoring && status.ok()) {
      return write_error_;
    }
    return status;
  }

  absl::StatusOr<std::optional<std::string>> ReadCheckpoint() const override {
    {
      absl::MutexLock lock(&mu_);
      if (fail_checkpoint_reads_) {
        return absl::UnavailableError("injected checkpoint read failure");
      }
    }
    return real_->ReadCheckpoint();
  }
  absl::Status VerifyChecksums() const override {
    return real_->VerifyChecksums();
  }
  absl::StatusOr<std::optional<std::string>> ReadWitnessedCheckpoint()
      const override {
    return real_->ReadWitnessedCheckpoint();
  }
  absl::Status WriteWitnessedCheckpoint(absl::string_view note) override {
    return real_->WriteWitnessedCheckpoint(note);
  }
  absl::StatusOr<std::vector<std::string>> ReadEntries(
      uint64_t start, uint64_t count) const override {
    return real_->ReadEntries(start, count);
  }
  absl::StatusOr<std::optional<uint64_t>> FindLeafHash(
      const tlog::Hash& leaf_hash) const override {
    return real_->FindLeafHash(leaf_hash);
  }
  absl::StatusOr<IndexPage> Lookup(absl::string_view lookup_key,
                                   std::optional<uint64_t> after,
                                   size_t limit) const override {
    return real_->Lookup(lookup_key, after, limit);
  }
  absl::StatusOr<std::optional<KnownKey>> ReadKey(
      absl::string_view keyid) const override {
    return real_->ReadKey(keyid);
  }
  absl::StatusOr<std::string> ReadNodeRun(uint32_t level, uint64_t first,
                                          uint32_t count) const override {
    return real_->ReadNodeRun(level, first, count);
  }
  absl::StatusOr<std::vector<tlog::Hash>> ReadNodes(
      absl::Span<const tlog::NodeId> ids) const override {
    return real_->ReadNodes(ids);
  }

 private:
  Storage* const real_;
  mutable absl::Mutex mu_;
  WriteFault write_fault_ ABSL_GUARDED_BY(mu_) = WriteFault::kNone;
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
  bool fail_checkpoint_reads_ ABSL_GUARDED_BY(mu_) = false;
  int write_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> stored_checkpoints_ ABSL_GUARDED_BY(mu_);
};

class SequencerTest : public ::testing::Test {
 protected:
  SequencerTest()
      : dir_(NewTempDir()), key_(NewKey()), log_(MakeIdentity(kOrigin, key_)) {}

  void SetUp() override {
    ASSERT_NE(log_.signer, nullptr);
    ASSERT_NE(log_.verifier, nullptr);
    OpenStorage();
  }

  void OpenStorage() {
    absl::StatusOr<std::unique_ptr<Storage>> storage = Storage::Open(dir_);
    ASSERT_TRUE(storage.ok()) << storage.status();
    storage_ = *std::move(storage);
  }

  // Starts a sequencer for log_ on storage_ (or `storage`).
  std::unique_ptr<Sequencer> StartOrDie(SequencerOptions options = {},
                                        Storage* storage = nullptr) {
    absl::StatusOr<std::unique_ptr<Sequencer>> sequencer = Sequencer::Start(
        storage != nullptr ? storage : storage_.get(), log_.origin,
        log_.signer.get(), log_.verifier.get(), options);
    EXPECT_TRUE(sequencer.ok()) << sequencer.status();
    return sequencer.ok() ? *std::move(sequencer) : nullptr;
  }

  // Checks that `checkpoint` is a note signed by log_'s key whose body is
  // checkpoint->checkpoint.
  void ExpectSignedByLog(const SignedCheckpoint& checkpoint) const {
    const crypto::NoteVerifier* verifiers[] = {log_.verifier.get()};
    absl::StatusOr<crypto::VerifiedNote> opened =
        crypto::OpenNote(checkpoint.note, verifiers);
    ASSERT_TRUE(opened.ok()) << opened.status() << "\n" << checkpoint.note;
    EXPECT_EQ(opened->verified.size(), 1u);
    absl::StatusOr<tlog::Checkpoint> body =
        tlog::ParseCheckpointBody(opened->text);
    ASSERT_TRUE(body.ok()) << body.status();
    EXPECT_EQ(*body, checkpoint.checkpoint);
    EXPECT_EQ(body->origin, kOrigin);
  }

  // Checks that the leaf `leaf_hash` is at `index` in the tree of
  // `checkpoint`, with a proof built from storage.
  void ExpectIncluded(uint64_t index, const tlog::Hash& leaf_hash,
                      const tlog::Checkpoint& checkpoint) const {
    ASSERT_LT(index, checkpoint.size);
    absl::StatusOr<std::vector<tlog::Hash>> proof =
        tlog::BuildInclusionProof(index, checkpoint.size, *storage_);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(tlog::VerifyInclusion(index, checkpoint.size, leaf_hash,
                                      *proof, checkpoint.root)
                    .ok())
        << "leaf " << index << " in tree " << checkpoint.size;
  }

  // Checks that `newer` extends `older`, with a proof built from storage.
  void ExpectConsistent(const tlog::Checkpoint& older,
                        const tlog::Checkpoint& newer) const {
    ASSERT_LE(older.size, newer.size);
    absl::StatusOr<std::vector<tlog::Hash>> proof =
        tlog::BuildConsistencyProof(older.size, newer.size, *storage_);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(tlog::VerifyConsistency(older.size, newer.size, older.root,
                                        newer.root, *proof)
                    .ok())
        << "tree " << older.size << " to tree " << newer.size;
  }

  // Checks that the stored leaves are exactly `leaves`, and that the latest
  // checkpoint's root is the reference root of them.
  void ExpectStoredLog(const Sequencer& sequencer,
                       const std::vector<std::string>& leaves) const {
    absl::StatusOr<std::vector<std::string>> stored =
        storage_->ReadEntries(0, leaves.size() + 10);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(*stored, leaves);
    std::vector<tlog::Hash> leaf_hashes;
    for (const std::string& leaf : leaves) {
      leaf_hashes.push_back(tlog::HashLeaf(leaf));
    }
    const std::shared_ptr<const SignedCheckpoint> latest = sequencer.Latest();
    ASSERT_NE(latest, nullptr);
    EXPECT_EQ(latest->checkpoint.size, leaves.size());
    EXPECT_EQ(latest->checkpoint.root, ReferenceRoot(leaf_hashes));
    absl::StatusOr<std::optional<std::string>> note =
        storage_->ReadCheckpoint();
    ASSERT_TRUE(note.ok()) << note.status();
    EXPECT_EQ(*note, std::optional<std::string>(latest->note));
  }

  const std::string dir_;
  const crypto::PrivateKey key_;
  const LogIdentity log_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(SequencerTest, FreshStoreGetsASignedEmptyCheckpoint) {
  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);

  const std::shared_ptr<const SignedCheckpoint> latest = sequencer->Latest();
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->checkpoint.origin, kOrigin);
  EXPECT_EQ(latest->checkpoint.size, 0u);
  EXPECT_EQ(latest->checkpoint.root, tlog::EmptyRoot());
  ExpectSignedByLog(*latest);

  // It is stored, not just held in memory.
  absl::StatusOr<std::optional<std::string>> stored =
      storage_->ReadCheckpoint();
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, std::optional<std::string>(latest->note));

  // Another key does not verify it.
  const LogIdentity other = MakeIdentity(kOrigin, NewKey());
  const crypto::NoteVerifier* verifiers[] = {other.verifier.get()};
  EXPECT_FALSE(crypto::OpenNote(latest->note, verifiers).ok());
}

TEST_F(SequencerTest, StartRejectsAZeroBatchSize) {
  SequencerOptions options;
  options.max_batch_entries = 0;
  absl::StatusOr<std::unique_ptr<Sequencer>> sequencer = Sequencer::Start(
      storage_.get(), log_.origin, log_.signer.get(), log_.verifier.get(),
      options);
  EXPECT_EQ(sequencer.status().code(), absl::StatusCode::kInvalidArgument)
      << sequencer.status();
}

TEST_F(SequencerTest, ConcurrentAddsGetDistinctIndicesAndVerifiableProofs) {
  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);
  const std::shared_ptr<const SignedCheckpoint> empty = sequencer->Latest();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 32;
  constexpr int kTotal = kThreads * kPerThread;

  std::vector<std::string> leaves(kTotal);
  std::vector<std::shared_ptr<Outcome>> outcomes(kTotal);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t * kPerThread; i < (t + 1) * kPerThread; ++i) {
        leaves[i] = absl::StrCat("thread ", t, " entry ", i);
        outcomes[i] = AddEntry(*sequencer, MakeEntry(leaves[i]));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::set<uint64_t> indices;
  std::vector<std::string> leaves_by_index(kTotal);
  // Distinct checkpoints handed out, by size.
  std::map<uint64_t, std::shared_ptr<const SignedCheckpoint>> checkpoints;
  checkpoints[0] = empty;
  for (int i = 0; i < kTotal; ++i) {
    const Integrated integrated = AwaitIntegrated(*outcomes[i]);
    ASSERT_NE(integrated.checkpoint, nullptr) << "entry " << i;
    EXPECT_FALSE(integrated.duplicate) << "entry " << i;
    ASSERT_LT(integrated.index, uint64_t{kTotal}) << "entry " << i;
    EXPECT_TRUE(indices.insert(integrated.index).second)
        << "index " << integrated.index << " given twice";
    leaves_by_index[integrated.index] = leaves[i];
    const tlog::Checkpoint& checkpoint = integrated.checkpoint->checkpoint;
    EXPECT_GT(checkpoint.size, integrated.index);
    ExpectIncluded(integrated.index, tlog::HashLeaf(leaves[i]), checkpoint);
    auto [it, inserted] =
        checkpoints.emplace(checkpoint.size, integrated.checkpoint);
    if (!inserted) {
      // One signed checkpoint per tree size.
      EXPECT_EQ(it->second->note, integrated.checkpoint->note);
    }
  }
  EXPECT_EQ(indices.size(), size_t{kTotal});
  ExpectStoredLog(*sequencer, leaves_by_index);

  for (const auto& [size, checkpoint] : checkpoints) {
    ExpectSignedByLog(*checkpoint);
  }
  for (auto it = checkpoints.begin(); std::next(it) != checkpoints.end();
       ++it) {
    ExpectConsistent(it->second->checkpoint,
                     std::next(it)->second->checkpoint);
  }
  EXPECT_EQ(checkpoints.rbegin()->second->checkpoint,
            sequencer->Latest()->checkpoint);
}

// A stress test for ThreadSanitizer as much as a check: writers add entries
// and wait for them while readers keep taking the newest checkpoint and
// proving, from storage, that its newest entry is included and that it
// extends the checkpoint they saw before.
TEST_F(SequencerTest, ReadersProveCheckpointsWhileWritersAdd) {
  SequencerOptions options;
  options.max_batch_entries = 4;  // many small batches, many checkpoints
  std::unique_ptr<Sequencer> sequencer = StartOrDie(options);
  ASSERT_NE(sequencer, nullptr);
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 40;
  constexpr int kReaders = 3;

  std::atomic<int> writers_left{kWriters};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        const std::string leaf = absl::StrCat("writer ", w, " entry ", i);
        const Integrated integrated =
            AwaitIntegrated(*AddEntry(*sequencer, MakeEntry(leaf)));
        if (integrated.checkpoint == nullptr) break;
        ExpectIncluded(integrated.index, tlog::HashLeaf(leaf),
                       integrated.checkpoint->checkpoint);
      }
      --writers_left;
    });
  }
  std::vector<int> proofs_checked(kReaders, 0);
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      tlog::Checkpoint seen = sequencer->Latest()->checkpoint;
      // At least one more round after the writers are done.
      for (bool last = false; !last;) {
        last = writers_left.load() == 0;
        const std::shared_ptr<const SignedCheckpoint> latest =
            sequencer->Latest();
        ASSERT_NE(latest, nullptr);
        const tlog::Checkpoint& now = latest->checkpoint;
        ASSERT_GE(now.size, seen.size) << "the newest checkpoint shrank";
        ExpectConsistent(seen, now);
        if (now.size > 0) {
          absl::StatusOr<std::vector<std::string>> newest =
              storage_->ReadEntries(now.size - 1, 1);
          ASSERT_TRUE(newest.ok()) << newest.status();
          ASSERT_EQ(newest->size(), 1u)
              << "checkpoint " << now.size << " is ahead of its entries";
          ExpectIncluded(now.size - 1, tlog::HashLeaf((*newest)[0]), now);
        }
        seen = now;
        ++proofs_checked[r];
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  for (std::thread& reader : readers) reader.join();

  for (int r = 0; r < kReaders; ++r) {
    EXPECT_GE(proofs_checked[r], 1) << "reader " << r;
  }
  EXPECT_EQ(sequencer->Latest()->checkpoint.size,
            uint64_t{kWriters * kPerWriter});
  ExpectSignedByLog(*sequencer->Latest());
}

TEST_F(SequencerTest, EntriesAddedByOneThreadGetIndicesInOrder) {
  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);
  std::vector<std::shared_ptr<Outcome>> outcomes;
  std::vector<std::string> leaves;
  for (int i = 0; i < 20; ++i) {
    leaves.push_back(absl::StrCat("ordered ", i));
    outcomes.push_back(AddEntry(*sequencer, MakeEntry(leaves.back())));
  }
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(AwaitIntegrated(*outcomes[i]).index, uint64_t(i));
  }
  ExpectStoredLog(*sequencer, leaves);
}

TEST_F(SequencerTest, QueuedEntriesAreIntegratedAsOneBatch) {
  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);
  Blocker blocker(*sequencer, MakeEntry("blocker"));
  ASSERT_TRUE(blocker.Held());
  std::vector<std::shared_ptr<Outcome>> outcomes;
  std::vector<std::string> leaves = {"blocker"};
  for (int i = 0; i < 10; ++i) {
    leaves.push_back(absl::StrCat("queued ", i));
    outcomes.push_back(AddEntry(*sequencer, MakeEntry(leaves.back())));
  }
  blocker.Release();

  std::shared_ptr<const SignedCheckpoint> shared;
  for (int i = 0; i < 10; ++i) {
    const Integrated integrated = AwaitIntegrated(*outcomes[i]);
    EXPECT_EQ(integrated.index, uint64_t(i + 1));
    ASSERT_NE(integrated.checkpoint, nullptr);
    EXPECT_EQ(integrated.checkpoint->checkpoint.size, 11u);
    if (shared == nullptr) shared = integrated.checkpoint;
    EXPECT_EQ(integrated.checkpoint->note, shared->note);
  }
  ExpectStoredLog(*sequencer, leaves);
}

TEST_F(SequencerTest, BatchNodesProveEachNewEntryAsStorageDoes) {
  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);
  // Batches of several sizes, so that proofs reach into earlier batches.
  int n = 0;
  for (int batch_size : {1, 3, 7, 2, 13}) {
    Blocker blocker(*sequencer, MakeEntry(absl::StrCat("blocker ", n++)));
    ASSERT_TRUE(blocker.Held());
    std::vector<std::shared_ptr<Outcome>> outcomes;
    for (int i = 0; i < batch_size; ++i) {
      outcomes.push_back(
          AddEntry(*sequencer, MakeEntry(absl::StrCat("entry ", n++))));
    }
    outcomes.push_back(AddEntry(*sequencer, MakeEntry("entry 1")));
    blocker.Release();
    for (const std::shared_ptr<Outcome>& outcome : outcomes) {
      const Integrated integrated = AwaitIntegrated(*outcome);
      ASSERT_NE(integrated.checkpoint, nullptr);
      const uint64_t size = integrated.checkpoint->checkpoint.size;
      if (integrated.duplicate) {
        EXPECT_EQ(integrated.batch_nodes, nullptr);
        continue;
      }
      ASSERT_NE(integrated.batch_nodes, nullptr);
      absl::StatusOr<std::vector<tlog::Hash>> from_batch =
          tlog::BuildInclusionProof(integrated.index, size,
                                    *integrated.batch_nodes);
      ASSERT_TRUE(from_batch.ok()) << from_batch.status();
      absl::StatusOr<std::vector<tlog::Hash>> stored =
          tlog::BuildInclusionProof(integrated.index, size, *storage_);
      ASSERT_TRUE(stored.ok()) << stored.status();
      EXPECT_EQ(*from_batch, *stored) << "entry " << integrated.index;
    }
  }
}

TEST_F(SequencerTest, DuplicateWithinABatchGetsTheFirstIndex) {
  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);
  Blocker blocker(*sequencer, MakeEntry("blocker"));
  ASSERT_TRUE(blocker.Held());
  std::shared_ptr<Outcome> a1 = AddEntry(*sequencer, MakeEntry("a"));
  std::shared_ptr<Outcome> b = AddEntry(*sequencer, MakeEntry("b"));
  std::shared_ptr<Outcome> a2 = AddEntry(*sequencer, MakeEntry("a"));
  std::shared_ptr<Outcome> a3 = AddEntry(*sequencer, MakeEntry("a"));
  blocker.Release();

  const Integrated first = AwaitIntegrated(*a1);
  EXPECT_EQ(first.index, 1u);
  EXPECT_FALSE(first.duplicate);
  const Integrated other = AwaitIntegrated(*b);
  EXPECT_EQ(other.index, 2u);
  EXPECT_FALSE(other.duplicate);
  for (const std::shared_ptr<Outcome>& again : {a2, a3}) {
    const Integrated duplicate = AwaitIntegrated(*again);
    EXPECT_EQ(duplicate.index, 1u);
    EXPECT_TRUE(duplicate.duplicate);
    ASSERT_NE(duplicate.checkpoint, nullptr);
    EXPECT_GT(duplicate.checkpoint->checkpoint.size, 1u);
    ExpectIncluded(1, tlog::HashLeaf("a"), duplicate.checkpoint->checkpoint);
  }
  ExpectStoredLog(*sequencer, {"blocker", "a", "b"});
}

TEST_F(SequencerTest, DuplicateAcrossBatchesGetsTheExistingIndex) {
  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);
  EXPECT_EQ(AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("a"))).index, 0u);
  EXPECT_EQ(AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("b"))).index, 1u);
  const std::shared_ptr<const SignedCheckpoint> before = sequencer->Latest();
  ASSERT_EQ(before->checkpoint.size, 2u);

  const Integrated duplicate =
      AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("a")));
  EXPECT_EQ(duplicate.index, 0u);
  EXPECT_TRUE(duplicate.duplicate);
  ASSERT_NE(duplicate.checkpoint, nullptr);
  EXPECT_EQ(duplicate.checkpoint->note, before->note);
  ExpectIncluded(0, tlog::HashLeaf("a"), duplicate.checkpoint->checkpoint);

  // The tree did not grow and no new checkpoint was signed.
  EXPECT_EQ(sequencer->Latest()->note, before->note);
  ExpectStoredLog(*sequencer, {"a", "b"});

  // A duplicate in the same batch as new entries does not grow the tree
  // either.
  Blocker blocker(*sequencer, MakeEntry("c"));
  ASSERT_TRUE(blocker.Held());
  std::shared_ptr<Outcome> d = AddEntry(*sequencer, MakeEntry("d"));
  std::shared_ptr<Outcome> b_again = AddEntry(*sequencer, MakeEntry("b"));
  std::shared_ptr<Outcome> c_again = AddEntry(*sequencer, MakeEntry("c"));
  blocker.Release();
  EXPECT_EQ(AwaitIntegrated(*d).index, 3u);
  const Integrated b_duplicate = AwaitIntegrated(*b_again);
  EXPECT_EQ(b_duplicate.index, 1u);
  EXPECT_TRUE(b_duplicate.duplicate);
  const Integrated c_duplicate = AwaitIntegrated(*c_again);
  EXPECT_EQ(c_duplicate.index, 2u);
  EXPECT_TRUE(c_duplicate.duplicate);
  ExpectStoredLog(*sequencer, {"a", "b", "c", "d"});
}

TEST_F(SequencerTest, SuccessiveCheckpointsAreConsistent) {
  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);
  std::vector<std::shared_ptr<const SignedCheckpoint>> checkpoints = {
      sequencer->Latest()};
  std::vector<std::string> leaves;
  // Batches of 1, 2, 3, ... 8 entries (a blocker plus queued ones), so the
  // tree passes through sizes with varied right borders.
  for (int batch = 1; batch <= 8; ++batch) {
    leaves.push_back(absl::StrCat("batch ", batch, " blocker"));
    Blocker blocker(*sequencer, MakeEntry(leaves.back()));
    ASSERT_TRUE(blocker.Held());
    ASSERT_TRUE(blocker.result().ok()) << blocker.result().status();
    checkpoints.push_back(blocker.result()->checkpoint);
    std::vector<std::shared_ptr<Outcome>> outcomes;
    for (int i = 0; i < batch; ++i) {
      leaves.push_back(absl::StrCat("batch ", batch, " entry ", i));
      outcomes.push_back(AddEntry(*sequencer, MakeEntry(leaves.back())));
    }
    blocker.Release();
    for (const std::shared_ptr<Outcome>& outcome : outcomes) {
      AwaitIntegrated(*outcome);
    }
    checkpoints.push_back(sequencer->Latest());
  }
  ExpectStoredLog(*sequencer, leaves);
  for (size_t i = 0; i < checkpoints.size(); ++i) {
    ExpectSignedByLog(*checkpoints[i]);
    for (size_t j = i; j < checkpoints.size(); ++j) {
      ExpectConsistent(checkpoints[i]->checkpoint, checkpoints[j]->checkpoint);
    }
  }
}

TEST_F(SequencerTest, RestartResumesTheTreeAndContinuesIt) {
  std::vector<std::string> leaves;
  std::shared_ptr<const SignedCheckpoint> before;
  {
    std::unique_ptr<Sequencer> sequencer = StartOrDie();
    ASSERT_NE(sequencer, nullptr);
    std::vector<std::shared_ptr<Outcome>> outcomes;
    for (int i = 0; i < 13; ++i) {
      leaves.push_back(absl::StrCat("before restart ", i));
      outcomes.push_back(AddEntry(*sequencer, MakeEntry(leaves.back())));
    }
    for (const std::shared_ptr<Outcome>& outcome : outcomes) {
      AwaitIntegrated(*outcome);
    }
    before = sequencer->Latest();
    sequencer->Shutdown();
  }
  ASSERT_EQ(before->checkpoint.size, 13u);
  storage_.reset();
  OpenStorage();

  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);
  const std::shared_ptr<const SignedCheckpoint> resumed = sequencer->Latest();
  ASSERT_NE(resumed, nullptr);
  EXPECT_EQ(resumed->checkpoint, before->checkpoint);
  EXPECT_EQ(resumed->note, before->note);
  ExpectStoredLog(*sequencer, leaves);

  // Old entries are duplicates; new ones continue the tree.
  const Integrated old = AwaitIntegrated(*AddEntry(*sequencer, MakeEntry(leaves[4])));
  EXPECT_EQ(old.index, 4u);
  EXPECT_TRUE(old.duplicate);
  std::vector<std::shared_ptr<Outcome>> outcomes;
  for (int i = 0; i < 6; ++i) {
    leaves.push_back(absl::StrCat("after restart ", i));
    outcomes.push_back(AddEntry(*sequencer, MakeEntry(leaves.back())));
  }
  for (int i = 0; i < 6; ++i) {
    const Integrated integrated = AwaitIntegrated(*outcomes[i]);
    EXPECT_EQ(integrated.index, uint64_t(13 + i));
    EXPECT_FALSE(integrated.duplicate);
  }
  const std::shared_ptr<const SignedCheckpoint> after = sequencer->Latest();
  ExpectSignedByLog(*after);
  ExpectStoredLog(*sequencer, leaves);
  ExpectConsistent(before->checkpoint, after->checkpoint);
  for (uint64_t i = 0; i < leaves.size(); ++i) {
    ExpectIncluded(i, tlog::HashLeaf(leaves[i]), after->checkpoint);
  }
}

TEST_F(SequencerTest, RestartOfAnEmptyLogKeepsItsCheckpoint) {
  std::string note;
  {
    std::unique_ptr<Sequencer> sequencer = StartOrDie();
    ASSERT_NE(sequencer, nullptr);
    note = sequencer->Latest()->note;
  }
  storage_.reset();
  OpenStorage();
  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);
  EXPECT_EQ(sequencer->Latest()->note, note);
  EXPECT_EQ(AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("first"))).index,
            0u);
  ExpectStoredLog(*sequencer, {"first"});
}

TEST_F(SequencerTest, StartRefusesAStoreOfAnotherOrigin) {
  {
    std::unique_ptr<Sequencer> sequencer = StartOrDie();
    ASSERT_NE(sequencer, nullptr);
    AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("a")));
  }
  absl::StatusOr<std::optional<std::string>> stored =
      storage_->ReadCheckpoint();
  ASSERT_TRUE(stored.ok()) << stored.status();

  // The same key under another origin (so another note key name and ID).
  const LogIdentity other = MakeIdentity("example.com/another-log", key_);
  absl::StatusOr<std::unique_ptr<Sequencer>> refused =
      Sequencer::Start(storage_.get(), other.origin, other.signer.get(),
                       other.verifier.get());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
      << refused.status();

  // A verifier that accepts the stored note, but another origin.
  absl::StatusOr<std::unique_ptr<Sequencer>> wrong_origin =
      Sequencer::Start(storage_.get(), other.origin, other.signer.get(),
                       log_.verifier.get());
  EXPECT_EQ(wrong_origin.status().code(),
            absl::StatusCode::kFailedPrecondition)
      << wrong_origin.status();
  EXPECT_THAT(wrong_origin.status().message(), HasSubstr(std::string(kOrigin)));

  // Nothing was overwritten.
  absl::StatusOr<std::optional<std::string>> after =
      storage_->ReadCheckpoint();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, *stored);
}

TEST_F(SequencerTest, StartRefusesAStoreSignedByAnotherKey) {
  {
    std::unique_ptr<Sequencer> sequencer = StartOrDie();
    ASSERT_NE(sequencer, nullptr);
  }
  absl::StatusOr<std::optional<std::string>> stored =
      storage_->ReadCheckpoint();
  ASSERT_TRUE(stored.ok()) << stored.status();

  const LogIdentity other = MakeIdentity(kOrigin, NewKey());
  absl::StatusOr<std::unique_ptr<Sequencer>> refused =
      Sequencer::Start(storage_.get(), other.origin, other.signer.get(),
                       other.verifier.get());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
      << refused.status();

  absl::StatusOr<std::optional<std::string>> after =
      storage_->ReadCheckpoint();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, *stored);
}

TEST_F(SequencerTest, StartRefusesATreeThatDoesNotMatchItsCheckpoint) {
  // A correctly signed checkpoint of the tree (a, b) over stored nodes of
  // the tree (a, c).
  const std::vector<tlog::Hash> signed_leaves = {tlog::HashLeaf("a"),
                                                 tlog::HashLeaf("b")};
  absl::StatusOr<std::string> body = tlog::FormatCheckpointBody(
      tlog::Checkpoint{std::string(kOrigin), 2, ReferenceRoot(signed_leaves),
                       {}});
  ASSERT_TRUE(body.ok()) << body.status();
  const crypto::NoteSigner* signers[] = {log_.signer.get()};
  absl::StatusOr<std::string> note = crypto::SignNote(*body, signers);
  ASSERT_TRUE(note.ok()) << note.status();
  Batch batch;
  const tlog::Hash a = tlog::HashLeaf("a");
  const tlog::Hash c = tlog::HashLeaf("c");
  batch.entries = {StoredEntry{0, "a", a, {}}, StoredEntry{1, "c", c, {}}};
  batch.nodes = {{tlog::NodeId{0, 0}, a},
                 {tlog::NodeId{0, 1}, c},
                 {tlog::NodeId{1, 0}, tlog::HashChildren(a, c)}};
  batch.checkpoint = *note;
  ASSERT_TRUE(storage_->Write(batch).ok());

  absl::StatusOr<std::unique_ptr<Sequencer>> refused = Sequencer::Start(
      storage_.get(), log_.origin, log_.signer.get(), log_.verifier.get());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss)
      << refused.status();
}

TEST_F(SequencerTest, StartOnACheckpointWhoseTreeIsMissingIsDataLoss) {
  // A correctly signed checkpoint of size 2 whose nodes were never stored:
  // the stored tree does not match the stored checkpoint.
  absl::StatusOr<std::string> body = tlog::FormatCheckpointBody(
      tlog::Checkpoint{std::string(kOrigin), 2,
                       ReferenceRoot({tlog::HashLeaf("a"), tlog::HashLeaf("b")}),
                       {}});
  ASSERT_TRUE(body.ok()) << body.status();
  const crypto::NoteSigner* signers[] = {log_.signer.get()};
  absl::StatusOr<std::string> note = crypto::SignNote(*body, signers);
  ASSERT_TRUE(note.ok()) << note.status();
  Batch batch;
  batch.checkpoint = *note;
  ASSERT_TRUE(storage_->Write(batch).ok());

  absl::StatusOr<std::unique_ptr<Sequencer>> refused = Sequencer::Start(
      storage_.get(), log_.origin, log_.signer.get(), log_.verifier.get());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss)
      << refused.status();
}

TEST_F(SequencerTest, MaxBatchEntriesOfOneGivesEachEntryItsOwnCheckpoint) {
  SequencerOptions options;
  options.max_batch_entries = 1;
  std::unique_ptr<Sequencer> sequencer = StartOrDie(options);
  ASSERT_NE(sequencer, nullptr);
  Blocker blocker(*sequencer, MakeEntry("blocker"));
  ASSERT_TRUE(blocker.Held());
  std::vector<std::shared_ptr<Outcome>> outcomes;
  std::vector<std::string> leaves = {"blocker"};
  for (int i = 0; i < 6; ++i) {
    leaves.push_back(absl::StrCat("single ", i));
    outcomes.push_back(AddEntry(*sequencer, MakeEntry(leaves.back())));
  }
  blocker.Release();
  for (int i = 0; i < 6; ++i) {
    const Integrated integrated = AwaitIntegrated(*outcomes[i]);
    EXPECT_EQ(integrated.index, uint64_t(i + 1));
    ASSERT_NE(integrated.checkpoint, nullptr);
    EXPECT_EQ(integrated.checkpoint->checkpoint.size, integrated.index + 1);
    ExpectSignedByLog(*integrated.checkpoint);
  }
  ExpectStoredLog(*sequencer, leaves);
}

TEST_F(SequencerTest, MaxBatchEntriesSplitsAQueueIntoBatches) {
  SequencerOptions options;
  options.max_batch_entries = 3;
  std::unique_ptr<Sequencer> sequencer = StartOrDie(options);
  ASSERT_NE(sequencer, nullptr);
  Blocker blocker(*sequencer, MakeEntry("blocker"));
  ASSERT_TRUE(blocker.Held());
  std::vector<std::shared_ptr<Outcome>> outcomes;
  for (int i = 0; i < 7; ++i) {
    outcomes.push_back(
        AddEntry(*sequencer, MakeEntry(absl::StrCat("entry ", i))));
  }
  blocker.Release();
  // Queued entries 0..6 get indices 1..7, in batches {1,2,3}, {4,5,6}, {7}.
  const uint64_t expected_sizes[] = {4, 4, 4, 7, 7, 7, 8};
  for (int i = 0; i < 7; ++i) {
    const Integrated integrated = AwaitIntegrated(*outcomes[i]);
    EXPECT_EQ(integrated.index, uint64_t(i + 1));
    ASSERT_NE(integrated.checkpoint, nullptr);
    EXPECT_EQ(integrated.checkpoint->checkpoint.size, expected_sizes[i])
        << "entry " << i;
  }
}

TEST_F(SequencerTest, MaxBatchDelayWaitsForMoreEntries) {
  SequencerOptions options;
  options.max_batch_entries = 4;
  options.max_batch_delay = kLongDelay;
  std::unique_ptr<Sequencer> sequencer = StartOrDie(options);
  ASSERT_NE(sequencer, nullptr);
  std::vector<std::shared_ptr<Outcome>> outcomes;
  for (int i = 0; i < 4; ++i) {
    outcomes.push_back(
        AddEntry(*sequencer, MakeEntry(absl::StrCat("entry ", i))));
  }
  // The first entry waits for the batch to fill rather than being
  // integrated alone; the full batch does not wait out the delay.
  for (int i = 0; i < 4; ++i) {
    const Integrated integrated = AwaitIntegrated(*outcomes[i]);
    EXPECT_EQ(integrated.index, uint64_t(i));
    ASSERT_NE(integrated.checkpoint, nullptr);
    EXPECT_EQ(integrated.checkpoint->checkpoint.size, 4u);
  }
}

TEST_F(SequencerTest, MaxBatchDelayEndsWithAPartialBatch) {
  SequencerOptions options;
  options.max_batch_entries = 1000;
  options.max_batch_delay = absl::Milliseconds(20);
  std::unique_ptr<Sequencer> sequencer = StartOrDie(options);
  ASSERT_NE(sequencer, nullptr);
  std::vector<std::shared_ptr<Outcome>> outcomes;
  std::vector<std::string> leaves;
  for (int i = 0; i < 3; ++i) {
    leaves.push_back(absl::StrCat("entry ", i));
    outcomes.push_back(AddEntry(*sequencer, MakeEntry(leaves.back())));
  }
  // Far fewer entries than a batch holds, and no Shutdown: they are
  // integrated once the delay has passed.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(AwaitIntegrated(*outcomes[i]).index, uint64_t(i));
  }
  ExpectStoredLog(*sequencer, leaves);
}

TEST_F(SequencerTest, ShutdownIntegratesQueuedEntriesThenRefusesNewOnes) {
  SequencerOptions options;
  options.max_batch_entries = 100;
  options.max_batch_delay = kLongDelay;
  std::unique_ptr<Sequencer> sequencer = StartOrDie(options);
  ASSERT_NE(sequencer, nullptr);
  std::vector<std::shared_ptr<Outcome>> outcomes;
  std::vector<std::string> leaves;
  for (int i = 0; i < 5; ++i) {
    leaves.push_back(absl::StrCat("queued ", i));
    outcomes.push_back(AddEntry(*sequencer, MakeEntry(leaves.back())));
  }
  // The batch waits (for a day) for more entries.
  for (const std::shared_ptr<Outcome>& outcome : outcomes) {
    EXPECT_FALSE(outcome->done.HasBeenNotified());
  }

  sequencer->Shutdown();
  for (int i = 0; i < 5; ++i) {
    // Shutdown returned, so every callback has already run.
    EXPECT_TRUE(outcomes[i]->done.HasBeenNotified()) << "entry " << i;
    const Integrated integrated = AwaitIntegrated(*outcomes[i]);
    EXPECT_EQ(integrated.index, uint64_t(i));
    ASSERT_NE(integrated.checkpoint, nullptr);
    EXPECT_EQ(integrated.checkpoint->checkpoint.size, 5u);
  }
  ExpectStoredLog(*sequencer, leaves);

  std::shared_ptr<Outcome> late = AddEntry(*sequencer, MakeEntry("late"));
  ASSERT_TRUE(Finished(*late));
  EXPECT_EQ(late->result.status().code(), absl::StatusCode::kUnavailable)
      << late->result.status();
  sequencer->Shutdown();  // idempotent
  ExpectStoredLog(*sequencer, leaves);
  absl::StatusOr<std::optional<uint64_t>> found =
      storage_->FindLeafHash(tlog::HashLeaf("late"));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, std::nullopt);
}

TEST_F(SequencerTest, DestructorIntegratesQueuedEntries) {
  SequencerOptions options;
  options.max_batch_delay = kLongDelay;
  std::vector<std::shared_ptr<Outcome>> outcomes;
  {
    std::unique_ptr<Sequencer> sequencer = StartOrDie(options);
    ASSERT_NE(sequencer, nullptr);
    for (int i = 0; i < 3; ++i) {
      outcomes.push_back(
          AddEntry(*sequencer, MakeEntry(absl::StrCat("entry ", i))));
    }
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(AwaitIntegrated(*outcomes[i]).index, uint64_t(i));
  }
  absl::StatusOr<std::vector<std::string>> stored =
      storage_->ReadEntries(0, 10);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_THAT(*stored, ElementsAre("entry 0", "entry 1", "entry 2"));
}

TEST_F(SequencerTest, LookupKeysAndNewKeysAreStoredWithTheEntry) {
  std::unique_ptr<Sequencer> sequencer = StartOrDie();
  ASSERT_NE(sequencer, nullptr);
  const std::string artifact = LookupKeyForArtifact(std::string(32, '\x11'));
  const std::string source = LookupKeyForSource("github.com/o/r", "abc123");
  const std::string attestations = LookupKeyForAttestationsOf(0);
  const KnownKey new_key{std::string(64, 'f'), "open", "",
                         "-----BEGIN PUBLIC KEY-----\nkey\n"
                         "-----END PUBLIC KEY-----\n"};

  PendingEntry claim = MakeEntry("claim", {artifact, source});
  PendingEntry attestation1 = MakeEntry("attestation 1", {attestations});
  attestation1.new_key = new_key;
  PendingEntry attestation2 = MakeEntry("attestation 2", {attestations});
  EXPECT_EQ(AwaitIntegrated(*AddEntry(*sequencer, std::move(claim))).index,
            0u);
  EXPECT_EQ(
      AwaitIntegrated(*AddEntry(*sequencer, std::move(attestation1))).index,
      1u);
  EXPECT_EQ(
      AwaitIntegrated(*AddEntry(*sequencer, std::move(attestation2))).index,
      2u);

  const auto lookup = [&](const std::string& key) {
    absl::StatusOr<IndexPage> page = storage_->Lookup(key, std::nullopt, 10);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->indices : std::vector<uint64_t>{};
  };
  EXPECT_THAT(lookup(artifact), ElementsAre(0));
  EXPECT_THAT(lookup(source), ElementsAre(0));
  EXPECT_THAT(lookup(attestations), ElementsAre(1, 2));
  EXPECT_THAT(lookup(LookupKeyForAttestationsOf(1)), IsEmpty());

  absl::StatusOr<std::optional<KnownKey>> read = storage_->ReadKey(new_key.keyid);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, std::optional<KnownKey>(new_key));
}

TEST_F(SequencerTest, FailedWriteFailsTheBatchAndStoresNothing) {
  FaultyStorage faulty(storage_.get());
  std::unique_ptr<Sequencer> sequencer = StartOrDie({}, &faulty);
  ASSERT_NE(sequencer, nullptr);
  const std::shared_ptr<const SignedCheckpoint> empty = sequencer->Latest();

  faulty.FailNextWrite(FaultyStorage::WriteFault::kFailBeforeStoring,
                       absl::ResourceExhaustedError("disk full"));
  std::shared_ptr<Outcome> failed = AddEntry(*sequencer, MakeEntry("a"));
  ASSERT_TRUE(Finished(*failed));
  EXPECT_EQ(failed->result.status().code(),
            absl::StatusCode::kResourceExhausted)
      << failed->result.status();
  EXPECT_EQ(sequencer->Latest()->note, empty->note);
  ExpectStoredLog(*sequencer, {});

  // The log goes on from what is stored.
  const Integrated b = AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("b")));
  EXPECT_EQ(b.index, 0u);
  const Integrated a = AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("a")));
  EXPECT_EQ(a.index, 1u);
  EXPECT_FALSE(a.duplicate);
  ExpectStoredLog(*sequencer, {"b", "a"});
}

TEST_F(SequencerTest, WriteThatFailsAfterStoringIsNeverSignedOver) {
  FaultyStorage faulty(storage_.get());
  std::unique_ptr<Sequencer> sequencer = StartOrDie({}, &faulty);
  ASSERT_NE(sequencer, nullptr);
  AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("a")));

  // The batch of "b" reaches the disk, but the write reports an error.
  faulty.FailNextWrite(FaultyStorage::WriteFault::kFailAfterStoring,
                       absl::UnavailableError("fsync failed"));
  std::shared_ptr<Outcome> failed = AddEntry(*sequencer, MakeEntry("b"));
  ASSERT_TRUE(Finished(*failed));
  EXPECT_EQ(failed->result.status().code(), absl::StatusCode::kUnavailable)
      << failed->result.status();

  // The next entry extends the stored tree (which holds "b"), not the tree
  // the sequencer had before the failed write.
  const Integrated c = AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("c")));
  EXPECT_EQ(c.index, 2u);
  const Integrated b_again =
      AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("b")));
  EXPECT_EQ(b_again.index, 1u);
  EXPECT_TRUE(b_again.duplicate);
  ExpectStoredLog(*sequencer, {"a", "b", "c"});

  // Every checkpoint that was ever stored is consistent with every later
  // one.
  std::vector<tlog::Checkpoint> stored;
  for (const std::string& note : faulty.stored_checkpoints()) {
    absl::StatusOr<tlog::Checkpoint> checkpoint =
        tlog::ParseCheckpointNote(note);
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    stored.push_back(*checkpoint);
  }
  ASSERT_EQ(stored.size(), 4u);  // sizes 0, 1, 2, 3
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i].size, i);
    for (size_t j = i; j < stored.size(); ++j) {
      ExpectConsistent(stored[i], stored[j]);
    }
  }
}

// Records what SequencerOptions::on_checkpoint receives.
class CheckpointRecorder {
 public:
  std::function<void(std::shared_ptr<const SignedCheckpoint>)> Callback() {
    return [this](std::shared_ptr<const SignedCheckpoint> checkpoint) {
      absl::MutexLock lock(&mu_);
      sizes_.push_back(checkpoint->checkpoint.size);
    };
  }
  std::vector<uint64_t> sizes() const {
    absl::MutexLock lock(&mu_);
    return sizes_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<uint64_t> sizes_ ABSL_GUARDED_BY(mu_);
};

TEST_F(SequencerTest, OnCheckpointSeesEachNewCheckpointBeforeItsCallbacks) {
  CheckpointRecorder recorder;
  SequencerOptions options;
  options.on_checkpoint = recorder.Callback();
  std::unique_ptr<Sequencer> sequencer = StartOrDie(options);
  ASSERT_NE(sequencer, nullptr);
  // Start's own empty checkpoint is the caller's to read with Latest().
  EXPECT_THAT(recorder.sizes(), IsEmpty());

  std::vector<uint64_t> seen_in_callback;
  absl::Notification done;
  sequencer->Add(MakeEntry("a"), [&](absl::StatusOr<Integrated>) {
    seen_in_callback = recorder.sizes();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTimeout));
  EXPECT_THAT(seen_in_callback, ElementsAre(1));

  AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("b")));
  // A duplicate signs no checkpoint, so it reports none.
  AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("a")));
  EXPECT_THAT(recorder.sizes(), ElementsAre(1, 2));
}

TEST_F(SequencerTest, OnCheckpointSeesACheckpointStoredByAFailedWrite) {
  FaultyStorage faulty(storage_.get());
  CheckpointRecorder recorder;
  SequencerOptions options;
  options.on_checkpoint = recorder.Callback();
  std::unique_ptr<Sequencer> sequencer = StartOrDie(options, &faulty);
  ASSERT_NE(sequencer, nullptr);
  faulty.FailNextWrite(FaultyStorage::WriteFault::kFailAfterStoring,
                       absl::UnavailableError("fsync failed"));
  std::shared_ptr<Outcome> failed = AddEntry(*sequencer, MakeEntry("a"));
  ASSERT_TRUE(Finished(*failed));
  EXPECT_FALSE(failed->result.ok());
  EXPECT_THAT(recorder.sizes(), ElementsAre(1));
  EXPECT_EQ(sequencer->Latest()->checkpoint.size, 1u);
}

TEST_F(SequencerTest, FailedWriteWithUnreadableStateStopsTheLog) {
  FaultyStorage faulty(storage_.get());
  std::unique_ptr<Sequencer> sequencer = StartOrDie({}, &faulty);
  ASSERT_NE(sequencer, nullptr);
  AwaitIntegrated(*AddEntry(*sequencer, MakeEntry("a")));
  const std::shared_ptr<const SignedCheckpoint> before = sequencer->Latest();

  faulty.FailNextWrite(FaultyStorage::WriteFault::kFailBeforeStoring,
                       absl::UnavailableError("I/O error"));
  faulty.FailCheckpointReads(true);
  std::shared_ptr<Outcome> failed = AddEntry(*sequencer, MakeEntry("b"));
  ASSERT_TRUE(Finished(*failed));
  EXPECT_EQ(failed->result.status().code(), absl::StatusCode::kUnavailable);
  const int writes = faulty.write_calls();

  // Even once storage reads work again, the sequencer does not know what
  // the failed write left behind, so it refuses to sign anything more.
  faulty.FailCheckpointReads(false);
  std::shared_ptr<Outcome> refused = AddEntry(*sequencer, MakeEntry("c"));
  ASSERT_TRUE(Finished(*refused));
  EXPECT_EQ(refused->result.status().code(), absl::StatusCode::kUnavailable)
      << refused->result.status();
  EXPECT_EQ(faulty.write_calls(), writes);
  EXPECT_EQ(sequencer->Latest()->note, before->note);
  ExpectStoredLog(*sequencer, {"a"});
}

}  // namespace
}  // namespace refsum::log
