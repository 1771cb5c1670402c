#include "witness/cosigner.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/file.h"
#include "client/state.h"
#include "client/testing.h"
#include "crypto/cosignature.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/witness_protocol.h"
#include "witness/config.h"

namespace refsum::witness {
namespace {

using ::refsum::client::testing::FlipBit;
using ::refsum::client::testing::FlipHashBit;
using ::refsum::client::testing::NewTempDir;
using ::refsum::client::testing::NewTestWitness;
using ::refsum::client::testing::TestLog;
using ::refsum::client::testing::TestWitness;
using ::refsum::tlog::AddCheckpointRequest;
using ::refsum::tlog::FormatAddCheckpointRequest;
using ::refsum::tlog::ParseAddCheckpointRequest;
using ::refsum::tlog::ParseTlogSize;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kOrigin[] = "log.example.org/a";
constexpr char kOtherOrigin[] = "log.example.org/b";
constexpr char kName[] = "witness.example.org/w1";
constexpr uint64_t kTime = 1767225600;

constexpr char kText[] = "text/plain; charset=utf-8";

class CosignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(state_dir_, NewTempDir("cosigner"));
    ASSERT_OK_AND_ASSIGN(TestLog log, TestLog::Create(kOrigin));
    log_ = std::make_unique<TestLog>(std::move(log));
    ASSERT_OK_AND_ASSIGN(TestLog other, TestLog::Create(kOtherOrigin));
    other_ = std::make_unique<TestLog>(std::move(other));
    for (int i = 0; i < 20; ++i) {
      // From leaf 5 on, the same log key signs two different trees.
      if (i == 5) fork_ = std::make_unique<TestLog>(*log_);
      log_->Append(absl::StrCat("a", i));
      if (i >= 5) fork_->Append(absl::StrCat("fork", i));
      other_->Append(absl::StrCat("b", i));
    }
    ASSERT_OK_AND_ASSIGN(
        crypto::PrivateKey key,
        crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
    key_ = std::make_unique<crypto::PrivateKey>(std::move(key));
    logs_ = {LogConfig{kOrigin, log_->vkey(), "127.0.0.1:1"},
             LogConfig{kOtherOrigin, other_->vkey(), "127.0.0.1:2"}};
    ASSERT_OK_AND_ASSIGN(cosigner_, NewCosigner());
  }

  absl::StatusOr<std::unique_ptr<Cosigner>> NewCosigner() const {
    return Cosigner::Create(kName, *key_, logs_, state_dir_,
                            [] { return kTime; });
  }

  // A cosigner with the same key and logs and its own, empty state.
  absl::StatusOr<std::unique_ptr<Cosigner>> NewCosignerIn(
      absl::string_view subdir) const {
    return Cosigner::Create(kName, *key_, logs_,
                            absl::StrCat(state_dir_, "/", subdir),
                            [] { return kTime; });
  }

  // A request from `old_size` to the checkpoint of `new_size` leaves of
  // `log`, with the log's own consistency proof.
  static std::string Request(const TestLog& log, uint64_t old_size,
                             uint64_t new_size) {
    absl::StatusOr<std::string> note = log.SignCheckpoint(new_size, {});
    absl::StatusOr<std::vector<tlog::Hash>> proof =
        log.ConsistencyProof(old_size, new_size);
    EXPECT_TRUE(note.ok() && proof.ok());
    return FormatAddCheckpointRequest({old_size, *proof, *note});
  }

  std::string Request(uint64_t old_size, uint64_t new_size) const {
    return Request(*log_, old_size, new_size);
  }

  // Expects a 200 whose body is one cosignature line that verifies, with
  // cosign.vkey's verifier, over the checkpoint of the request `body`.
  void ExpectCosigned(const AddCheckpointResponse& response,
                      const std::string& body) const {
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.content_type, kText);
    EXPECT_FALSE(response.evidence);
    ASSERT_OK_AND_ASSIGN(const AddCheckpointRequest request,
                         ParseAddCheckpointRequest(body));
    ASSERT_OK_AND_ASSIGN(const std::string vkey,
                         crypto::FormatVerifierKey(
                             kName, crypto::kNoteSignatureTypeCosignatureV1,
                             key_->public_key()));
    EXPECT_EQ(cosigner_->vkey(), vkey);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<crypto::NoteVerifier> verifier,
                         crypto::NewCosignatureV1VerifierFromKey(vkey));
    // The response is one line, and appended to the checkpoint it makes a
    // note that a client holding cosign.vkey accepts.
    EXPECT_THAT(response.body,
                StartsWith(absl::StrCat("\xe2\x80\x94 ", kName, " ")));
    EXPECT_EQ(response.body.find('\n'), response.body.size() - 1);
    const crypto::NoteVerifier* const verifiers[] = {verifier.get()};
    ASSERT_OK_AND_ASSIGN(
        const crypto::VerifiedNote note,
        crypto::OpenNote(request.checkpoint + response.body, verifiers));
    ASSERT_EQ(note.verified.size(), 1u);
    ASSERT_OK_AND_ASSIGN(
        const uint64_t timestamp,
        crypto::CosignatureV1Timestamp(note.verified[0].signature));
    EXPECT_EQ(timestamp, kTime);
  }

  void ExpectSizeConflict(const AddCheckpointResponse& response,
                          uint64_t stored) const {
    EXPECT_EQ(response.status, 409) << response.body;
    EXPECT_EQ(response.content_type, "text/x.tlog.size");
    EXPECT_EQ(response.body, absl::StrCat(stored, "\n"));
    EXPECT_FALSE(response.evidence);
  }

  void ExpectError(const AddCheckpointResponse& response, int status,
                   const std::string& message) const {
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_EQ(response.content_type, kText);
    EXPECT_THAT(response.body, HasSubstr(message));
    EXPECT_FALSE(absl::StrContains(response.body, "\xe2\x80\x94"));
  }

  // The stored size of kOrigin, or 0 before the first cosignature.
  uint64_t StoredSize(const Cosigner& cosigner) const {
    absl::StatusOr<std::optional<client::StoredCheckpoint>> latest =
        cosigner.Latest(kOrigin);
    EXPECT_TRUE(latest.ok()) << latest.status();
    return latest.ok() && latest->has_value() ? (*latest)->checkpoint.size : 0;
  }

  std::string StatePath(absl::string_view origin) const {
    return absl::StrCat(CosignedDir(state_dir_), "/checkpoint-",
                        crypto::Sha256Hex(origin));
  }

  std::string state_dir_;
  std::unique_ptr<TestLog> log_;
  std::unique_ptr<TestLog> other_;
  // Shares log_'s key and first 5 leaves.
  std::unique_ptr<TestLog> fork_;
  std::unique_ptr<crypto::PrivateKey> key_;
  std::vector<LogConfig> logs_;
  std::unique_ptr<Cosigner> cosigner_;
};

TEST_F(CosignerTest, CosignsTheFirstCheckpointFromSizeZero) {
  EXPECT_EQ(StoredSize(*cosigner_), 0u);
  EXPECT_TRUE(absl::IsNotFound(ReadFile(StatePath(kOrigin)).status()));
  const std::string body = Request(0, 5);
  ExpectCosigned(cosigner_->AddCheckpoint(body), body);
  EXPECT_EQ(StoredSize(*cosigner_), 5u);
  // Stored before the answer: the file holds the checkpoint.
  ASSERT_OK_AND_ASSIGN(const std::string stored, ReadFile(StatePath(kOrigin)));
  ASSERT_OK_AND_ASSIGN(const tlog::Checkpoint checkpoint,
                       tlog::ParseCheckpointNote(stored));
  EXPECT_EQ(checkpoint.size, 5u);
  ASSERT_OK_AND_ASSIGN(const tlog::Hash root, log_->Root(5));
  EXPECT_EQ(checkpoint.root, root);
  // The other log is untouched.
  EXPECT_TRUE(absl::IsNotFound(ReadFile(StatePath(kOtherOrigin)).status()));
}

TEST_F(CosignerTest, CosignsTheEmptyTree) {
  const std::string body = Request(0, 0);
  ExpectCosigned(cosigner_->AddCheckpoint(body), body);
  ASSERT_OK_AND_ASSIGN(auto latest, cosigner_->Latest(kOrigin));
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->checkpoint.root, tlog::EmptyRoot());
  const std::string next = Request(0, 3);
  ExpectCosigned(cosigner_->AddCheckpoint(next), next);
}

TEST_F(CosignerTest, ExtendsWithConsistencyProofs) {
  uint64_t size = 0;
  for (const uint64_t next : {1, 2, 3, 7, 8, 13, 16, 20}) {
    const std::string body = Request(size, next);
    ExpectCosigned(cosigner_->AddCheckpoint(body), body);
    EXPECT_EQ(StoredSize(*cosigner_), next);
    size = next;
  }
}

TEST_F(CosignerTest, SameCheckpointAgainIsCosignedAgain) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 5)), Request(0, 5));
  const std::string again = Request(5, 5);
  ExpectCosigned(cosigner_->AddCheckpoint(again), again);
  EXPECT_EQ(StoredSize(*cosigner_), 5u);
}

TEST_F(CosignerTest, OldSizeMustBeTheStoredSize) {
  // Before the first cosignature the stored size is 0.
  ExpectSizeConflict(cosigner_->AddCheckpoint(Request(3, 5)), 0);
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 8)), Request(0, 8));
  // A log that does not know what the witness holds asks with old 0.
  ExpectSizeConflict(cosigner_->AddCheckpoint(Request(0, 10)), 8);
  ExpectSizeConflict(cosigner_->AddCheckpoint(Request(5, 10)), 8);
  ExpectSizeConflict(cosigner_->AddCheckpoint(Request(9, 10)), 8);
  EXPECT_EQ(StoredSize(*cosigner_), 8u);
  ExpectCosigned(cosigner_->AddCheckpoint(Request(8, 10)), Request(8, 10));
}

TEST_F(CosignerTest, OldSizeLargerThanCheckpointIs400) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 8)), Request(0, 8));
  ASSERT_OK_AND_ASSIGN(const std::string note, log_->SignCheckpoint(5, {}));
  // Checked before the stored size: a 409 would invite a retry.
  ExpectError(
      cosigner_->AddCheckpoint(FormatAddCheckpointRequest({8, {}, note})), 400,
      "old size 8 is larger than the checkpoint's 5");
  ExpectError(
      cosigner_->AddCheckpoint(FormatAddCheckpointRequest({6, {}, note})), 400,
      "old size 6 is larger");
  EXPECT_EQ(StoredSize(*cosigner_), 8u);
}

TEST_F(CosignerTest, RollbackIsNeverCosigned) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 8)), Request(0, 8));
  // A genuine older checkpoint, from any old size, is not cosigned.
  ExpectSizeConflict(cosigner_->AddCheckpoint(Request(5, 5)), 8);
  ExpectSizeConflict(cosigner_->AddCheckpoint(Request(0, 5)), 8);
  EXPECT_EQ(StoredSize(*cosigner_), 8u);
}

TEST_F(CosignerTest, ForkAtTheStoredSizeIs409WithoutCosignature) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 8)), Request(0, 8));
  // The log's key signed another tree of 8 leaves: a split view.
  const AddCheckpointResponse response =
      cosigner_->AddCheckpoint(Request(*fork_, 8, 8));
  ExpectError(response, 409, "forked");
  EXPECT_TRUE(response.evidence);
  ASSERT_OK_AND_ASSIGN(auto latest, cosigner_->Latest(kOrigin));
  ASSERT_OK_AND_ASSIGN(const tlog::Hash root, log_->Root(8));
  EXPECT_EQ(latest->checkpoint.root, root);
  // The honest tree is still cosigned.
  ExpectCosigned(cosigner_->AddCheckpoint(Request(8, 8)), Request(8, 8));
}

TEST_F(CosignerTest, ForkOfTheEmptyTreeIs409) {
  // A log whose key signs whatever this test asks.
  constexpr char kOwnOrigin[] = "log.example.org/own";
  ASSERT_OK_AND_ASSIGN(const crypto::PrivateKey log_key,
                       crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<crypto::NoteSigner> log_signer,
                       crypto::NewEd25519NoteSigner(kOwnOrigin, log_key));
  ASSERT_OK_AND_ASSIGN(
      const std::string log_vkey,
      crypto::FormatVerifierKey(kOwnOrigin, crypto::kNoteSignatureTypeEd25519,
                                log_key.public_key()));
  const LogConfig own[] = {LogConfig{kOwnOrigin, log_vkey, "127.0.0.1:1"}};
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<Cosigner> cosigner,
                       Cosigner::Create(kName, *key_, own, state_dir_ + "/own",
                                        [] { return kTime; }));
  // Before any cosignature the stored tree is the empty one: a size-0
  // checkpoint with another root is a fork of it.
  tlog::Checkpoint checkpoint{
      kOwnOrigin, 0, FlipHashBit(tlog::EmptyRoot()), {}};
  ASSERT_OK_AND_ASSIGN(const std::string body,
                       tlog::FormatCheckpointBody(checkpoint));
  const crypto::NoteSigner* const signers[] = {log_signer.get()};
  ASSERT_OK_AND_ASSIGN(const std::string note, crypto::SignNote(body, signers));
  const AddCheckpointResponse response =
      cosigner->AddCheckpoint(FormatAddCheckpointRequest({0, {}, note}));
  ExpectError(response, 409, "forked");
  EXPECT_TRUE(response.evidence);
  ASSERT_OK_AND_ASSIGN(auto latest, cosigner->Latest(kOwnOrigin));
  EXPECT_FALSE(latest.has_value());
  // The real empty tree is cosigned.
  checkpoint.root = tlog::EmptyRoot();
  ASSERT_OK_AND_ASSIGN(const std::string empty_body,
                       tlog::FormatCheckpointBody(checkpoint));
  ASSERT_OK_AND_ASSIGN(const std::string empty_note,
                       crypto::SignNote(empty_body, signers));
  EXPECT_EQ(
      cosigner->AddCheckpoint(FormatAddCheckpointRequest({0, {}, empty_note}))
          .status,
      200);
}

TEST_F(CosignerTest, ForkBeyondTheStoredSizeFailsTheProof) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 8)), Request(0, 8));
  // The fork's own proof from its size 8 does not reach the stored root.
  const AddCheckpointResponse response =
      cosigner_->AddCheckpoint(Request(*fork_, 8, 12));
  ExpectError(response, 422, "does not verify");
  EXPECT_TRUE(response.evidence);
  EXPECT_EQ(StoredSize(*cosigner_), 8u);
}

TEST_F(CosignerTest, BadProofsAre422) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 8)), Request(0, 8));
  ASSERT_OK_AND_ASSIGN(const std::string note, log_->SignCheckpoint(13, {}));
  ASSERT_OK_AND_ASSIGN(std::vector<tlog::Hash> proof,
                       log_->ConsistencyProof(8, 13));
  ASSERT_FALSE(proof.empty());
  std::vector<std::vector<tlog::Hash>> bad_proofs;
  for (size_t i = 0; i < proof.size(); ++i) {
    std::vector<tlog::Hash> flipped = proof;
    flipped[i] = FlipHashBit(flipped[i]);
    bad_proofs.push_back(flipped);
  }
  bad_proofs.push_back({});
  bad_proofs.push_back(std::vector<tlog::Hash>(proof.begin(), proof.end() - 1));
  std::vector<tlog::Hash> longer = proof;
  longer.push_back(proof.back());
  bad_proofs.push_back(longer);
  ASSERT_OK_AND_ASSIGN(std::vector<tlog::Hash> other_sizes,
                       log_->ConsistencyProof(7, 13));
  bad_proofs.push_back(other_sizes);
  for (const std::vector<tlog::Hash>& bad : bad_proofs) {
    const AddCheckpointResponse response =
        cosigner_->AddCheckpoint(FormatAddCheckpointRequest({8, bad, note}));
    ExpectError(response, 422, "the consistency proof from size 8 to 13");
    EXPECT_TRUE(response.evidence);
  }
  // A proof where none is needed: from 0, and between equal sizes.
  ASSERT_OK_AND_ASSIGN(const std::string note8, log_->SignCheckpoint(8, {}));
  ExpectError(cosigner_->AddCheckpoint(
                  FormatAddCheckpointRequest({8, {proof[0]}, note8})),
              422, "does not verify");
  ASSERT_OK_AND_ASSIGN(auto fresh, NewCosignerIn("fresh"));
  ExpectError(
      fresh->AddCheckpoint(FormatAddCheckpointRequest({0, {proof[0]}, note})),
      422, "does not verify");
  EXPECT_EQ(StoredSize(*cosigner_), 8u);
  ExpectCosigned(
      cosigner_->AddCheckpoint(FormatAddCheckpointRequest({8, proof, note})),
      FormatAddCheckpointRequest({8, proof, note}));
}

TEST_F(CosignerTest, UnknownOriginIs404) {
  ASSERT_OK_AND_ASSIGN(TestLog unknown, TestLog::Create("log.example.org/z"));
  unknown.Append("x");
  ExpectError(cosigner_->AddCheckpoint(Request(unknown, 0, 1)), 404,
              "unknown log origin \"log.example.org/z\"");
}

TEST_F(CosignerTest, BadLogSignatureIs403) {
  // Another key under the same origin: its signature is ignored, and then
  // no trusted key signed the checkpoint.
  ASSERT_OK_AND_ASSIGN(TestLog impostor, TestLog::Create(kOrigin));
  for (int i = 0; i < 5; ++i) impostor.Append(absl::StrCat("a", i));
  ExpectError(cosigner_->AddCheckpoint(Request(impostor, 0, 5)), 403,
              "not signed by the key of log.example.org/a");
  // The log's key, but a signature that does not verify.
  ASSERT_OK_AND_ASSIGN(const std::string note, log_->SignCheckpoint(5, {}));
  ASSERT_OK_AND_ASSIGN(crypto::Note parsed, crypto::ParseNote(note));
  parsed.signatures[0].signature = FlipBit(parsed.signatures[0].signature, 10);
  ExpectError(cosigner_->AddCheckpoint(FormatAddCheckpointRequest(
                  {0, {}, crypto::FormatNote(parsed)})),
              403, "not signed by the key");
  // Only a witness's cosignature, no log signature.
  ASSERT_OK_AND_ASSIGN(const TestWitness witness,
                       NewTestWitness("W", "witness.example.org/w9"));
  ASSERT_OK_AND_ASSIGN(const crypto::Note cosigned_only, [&] {
    absl::StatusOr<std::string> both = log_->SignCheckpoint(5, {&witness});
    if (!both.ok()) return absl::StatusOr<crypto::Note>(both.status());
    absl::StatusOr<crypto::Note> note = crypto::ParseNote(*both);
    if (note.ok()) note->signatures.erase(note->signatures.begin());
    return note;
  }());
  ExpectError(cosigner_->AddCheckpoint(FormatAddCheckpointRequest(
                  {0, {}, crypto::FormatNote(cosigned_only)})),
              403, "not signed by the key");
  EXPECT_EQ(StoredSize(*cosigner_), 0u);
}

TEST_F(CosignerTest, MalformedRequestsAre400) {
  ASSERT_OK_AND_ASSIGN(const std::string note, log_->SignCheckpoint(5, {}));
  const std::vector<std::string> bodies = {
      "",
      "garbage",
      absl::StrCat("old 0\n", note),  // no empty line after the old size
      "old 0\n\nnot a note\n",
      // A note whose text is not a checkpoint.
      absl::StrCat("old 0\n\n", log_->origin(), "\nfive\n",
                   note.substr(note.find("\n\n"))),
      // Two signatures by the log's key.
      absl::StrCat("old 0\n\n", note, note.substr(note.find("\xe2\x80\x94"))),
  };
  for (const std::string& body : bodies) {
    const AddCheckpointResponse response = cosigner_->AddCheckpoint(body);
    EXPECT_EQ(response.status, 400) << body << "\n" << response.body;
    EXPECT_FALSE(response.evidence);
  }
  EXPECT_EQ(StoredSize(*cosigner_), 0u);
}

TEST_F(CosignerTest, StoresOnlyTheLogSignature) {
  ASSERT_OK_AND_ASSIGN(const TestWitness witness,
                       NewTestWitness("W", "witness.example.org/w9"));
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       log_->SignCheckpoint(5, {&witness}));
  const std::string body = FormatAddCheckpointRequest({0, {}, note});
  ExpectCosigned(cosigner_->AddCheckpoint(body), body);
  ASSERT_OK_AND_ASSIGN(const std::string stored, ReadFile(StatePath(kOrigin)));
  ASSERT_OK_AND_ASSIGN(const crypto::Note parsed, crypto::ParseNote(stored));
  ASSERT_EQ(parsed.signatures.size(), 1u);
  EXPECT_EQ(parsed.signatures[0].name, kOrigin);
}

TEST_F(CosignerTest, StatePersistsAcrossCosigners) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 8)), Request(0, 8));
  const std::string other_body = Request(*other_, 0, 3);
  ExpectCosigned(cosigner_->AddCheckpoint(other_body), other_body);
  cosigner_.reset();
  ASSERT_OK_AND_ASSIGN(cosigner_, NewCosigner());
  EXPECT_EQ(StoredSize(*cosigner_), 8u);
  ASSERT_OK_AND_ASSIGN(auto other_latest, cosigner_->Latest(kOtherOrigin));
  ASSERT_TRUE(other_latest.has_value());
  EXPECT_EQ(other_latest->checkpoint.size, 3u);
  ExpectSizeConflict(cosigner_->AddCheckpoint(Request(0, 10)), 8);
  ExpectError(cosigner_->AddCheckpoint(Request(*fork_, 8, 8)), 409, "forked");
  ExpectCosigned(cosigner_->AddCheckpoint(Request(8, 10)), Request(8, 10));
}

TEST_F(CosignerTest, CorruptStateFailsCreate) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 8)), Request(0, 8));
  // The state of one origin holding another's checkpoint.
  ASSERT_OK_AND_ASSIGN(const std::string other_note,
                       other_->SignCheckpoint(3, {}));
  ASSERT_OK(WriteFileAtomically(StatePath(kOrigin), other_note, 0644));
  EXPECT_TRUE(absl::IsDataLoss(NewCosigner().status()));
  ASSERT_OK(WriteFileAtomically(StatePath(kOrigin), "garbage", 0644));
  EXPECT_TRUE(absl::IsDataLoss(NewCosigner().status()));
}

TEST_F(CosignerTest, FailedWriteAnswers500AndKeepsTheState) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 8)), Request(0, 8));
  // Replace the state directory by a file, so that nothing can be written.
  const std::string dir = CosignedDir(state_dir_);
  const std::string moved = state_dir_ + "/moved";
  ASSERT_EQ(rename(dir.c_str(), moved.c_str()), 0);
  ASSERT_OK(WriteFileAtomically(dir, "", 0644));
  const AddCheckpointResponse response =
      cosigner_->AddCheckpoint(Request(8, 10));
  EXPECT_EQ(response.status, 500);
  EXPECT_FALSE(response.error.ok());
  EXPECT_FALSE(absl::StrContains(response.body, state_dir_));
  EXPECT_FALSE(absl::StrContains(response.body, "\xe2\x80\x94"));
  EXPECT_EQ(StoredSize(*cosigner_), 8u);
  ASSERT_EQ(unlink(dir.c_str()), 0);
  ASSERT_EQ(rename(moved.c_str(), dir.c_str()), 0);
  ExpectSizeConflict(cosigner_->AddCheckpoint(Request(10, 12)), 8);
  ExpectCosigned(cosigner_->AddCheckpoint(Request(8, 10)), Request(8, 10));
}

TEST_F(CosignerTest, ConcurrentRequestsForOneOriginAreSerialized) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 1)), Request(0, 1));
  // Every thread proves from size 1 to its own size: only the first to be
  // served can succeed; the others then see size 1 is no longer stored.
  // Unserialized, several would pass the check of the old size and the
  // stored size could go back (the race the spec describes).
  constexpr int kThreads = 16;
  std::vector<std::string> bodies;
  for (int i = 0; i < kThreads; ++i) bodies.push_back(Request(1, 2 + i));
  std::vector<AddCheckpointResponse> responses(kThreads);
  absl::Mutex mu;
  bool go = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      {
        absl::MutexLock lock(&mu);
        mu.Await(absl::Condition(&go));
      }
      responses[i] = cosigner_->AddCheckpoint(bodies[i]);
    });
  }
  {
    absl::MutexLock lock(&mu);
    go = true;
  }
  for (std::thread& thread : threads) thread.join();
  int cosigned = -1;
  for (int i = 0; i < kThreads; ++i) {
    if (responses[i].status == 200) {
      EXPECT_EQ(cosigned, -1) << "two cosignatures from old size 1";
      cosigned = i;
    }
  }
  ASSERT_NE(cosigned, -1);
  for (int i = 0; i < kThreads; ++i) {
    if (i != cosigned) ExpectSizeConflict(responses[i], 2 + cosigned);
  }
  EXPECT_EQ(StoredSize(*cosigner_), 2u + cosigned);

  // Logs that catch up on 409s, all at once: the stored size only grows and
  // ends at the largest.
  std::vector<uint64_t> stored_seen[kThreads];
  threads.clear();
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const uint64_t target = 4 + i;
      uint64_t old_size = 0;
      for (int attempt = 0; attempt < 4 * kThreads; ++attempt) {
        const AddCheckpointResponse response =
            cosigner_->AddCheckpoint(Request(old_size, target));
        if (response.status == 200) return;
        if (response.status != 409) break;
        absl::StatusOr<uint64_t> stored = ParseTlogSize(response.body);
        if (!stored.ok() || *stored > target) return;
        stored_seen[i].push_back(*stored);
        old_size = *stored;
      }
      ADD_FAILURE() << "thread " << i << " did not get its size cosigned";
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(StoredSize(*cosigner_), 3u + kThreads);
  for (const std::vector<uint64_t>& seen : stored_seen) {
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  }
}

TEST_F(CosignerTest, OriginsAreIndependent) {
  ExpectCosigned(cosigner_->AddCheckpoint(Request(0, 8)), Request(0, 8));
  ExpectSizeConflict(cosigner_->AddCheckpoint(Request(*other_, 8, 10)), 0);
  ExpectCosigned(cosigner_->AddCheckpoint(Request(*other_, 0, 10)),
                 Request(*other_, 0, 10));
  EXPECT_EQ(StoredSize(*cosigner_), 8u);
  EXPECT_TRUE(
      absl::IsNotFound(cosigner_->Latest("log.example.org/z").status()));
}

TEST_F(CosignerTest, CreateChecksItsArguments) {
  std::vector<LogConfig> misnamed = {
      LogConfig{kOtherOrigin, log_->vkey(), "127.0.0.1:1"}};
  EXPECT_TRUE(absl::IsInvalidArgument(
      Cosigner::Create(kName, *key_, misnamed, state_dir_).status()));
  std::vector<LogConfig> twice = {logs_[0], logs_[0]};
  EXPECT_TRUE(absl::IsInvalidArgument(
      Cosigner::Create(kName, *key_, twice, state_dir_).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      Cosigner::Create("bad+name", *key_, logs_, state_dir_).status()));
  ASSERT_OK_AND_ASSIGN(
      const crypto::PrivateKey ecdsa,
      crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256));
  EXPECT_TRUE(absl::IsInvalidArgument(
      Cosigner::Create(kName, ecdsa, logs_, state_dir_).status()));
}

}  // namespace
}  // namespace refsum::witness
