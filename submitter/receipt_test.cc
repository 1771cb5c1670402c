#include "submitter/receipt.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/log.pb.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"
#include "tlog/tlog_proof.h"

namespace refsum::submitter {
namespace {

using ::testing::HasSubstr;

constexpr char kOrigin[] = "log.example/receipt";

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// A log of `size` leaves "leaf-<i>" with checkpoints signed by an Ed25519
// key named `origin`.
class FakeLog {
 public:
  explicit FakeLog(uint64_t size, const std::string& origin = kOrigin)
      : origin_(origin),
        key_(*crypto::PrivateKey::Generate(crypto::KeyType::kEd25519)) {
    for (uint64_t i = 0; i < size; ++i) {
      leaves_.push_back(absl::StrCat("leaf-", i));
      hashes_.push_back(tlog::HashLeaf(leaves_.back()));
    }
  }

  const std::string& leaf(uint64_t index) const { return leaves_[index]; }

  std::unique_ptr<crypto::NoteVerifier> Verifier() const {
    return *crypto::NewEd25519NoteVerifier(origin_, key_.public_key());
  }

  std::string VerifierKey() const {
    return *crypto::FormatVerifierKey(
        origin_, crypto::kNoteSignatureTypeEd25519, key_.public_key());
  }

  tlog::Checkpoint Checkpoint(uint64_t size) const {
    return tlog::Checkpoint{origin_,
                            size,
                            tlog::testing::ReferenceRoot(
                                absl::MakeConstSpan(hashes_).subspan(0, size)),
                            {}};
  }

  // The signed checkpoint note of the tree of the first `size` leaves.
  std::string Note(uint64_t size) const {
    const auto signer = *crypto::NewEd25519NoteSigner(origin_, key_);
    const crypto::NoteSigner* signers[] = {signer.get()};
    return *crypto::SignNote(*tlog::FormatCheckpointBody(Checkpoint(size)),
                             signers);
  }

  tlog::TlogProof Proof(uint64_t index, uint64_t size) const {
    return tlog::TlogProof{
        "", index,
        tlog::testing::ReferenceInclusionProof(
            index, absl::MakeConstSpan(hashes_).subspan(0, size)),
        Note(size)};
  }

  std::vector<tlog::Hash> ConsistencyProof(uint64_t old_size,
                                           uint64_t new_size) const {
    return tlog::testing::ReferenceConsistencyProof(
        old_size, absl::MakeConstSpan(hashes_).subspan(0, new_size));
  }

  refsum::v1::SubmitResponse Response(uint64_t index, uint64_t size) const {
    const tlog::TlogProof proof = Proof(index, size);
    refsum::v1::SubmitResponse response;
    response.set_index(index);
    response.set_leaf_hash(std::string(crypto::DigestBytes(hashes_[index])));
    response.set_checkpoint(proof.checkpoint);
    response.set_tlog_proof(*tlog::FormatTlogProof(proof));
    return response;
  }

  tlog::BundleEntry Entry(uint64_t index, uint64_t size) const {
    return tlog::BundleEntry{leaves_[index], Proof(index, size), "der"};
  }

 private:
  const std::string origin_;
  const crypto::PrivateKey key_;
  std::vector<std::string> leaves_;
  std::vector<tlog::Hash> hashes_;
};

TEST(VerifySubmitResponseTest, AcceptsAGoodResponse) {
  const FakeLog log(7);
  const refsum::v1::SubmitResponse response = log.Response(3, 7);
  const std::unique_ptr<crypto::NoteVerifier> key = log.Verifier();
  for (const crypto::NoteVerifier* log_key :
       std::vector<const crypto::NoteVerifier*>{key.get(), nullptr}) {
    const absl::StatusOr<Receipt> receipt =
        VerifySubmitResponse(response, log.leaf(3), log_key);
    ASSERT_TRUE(receipt.ok()) << receipt.status();
    EXPECT_EQ(receipt->index, 3u);
    EXPECT_FALSE(receipt->duplicate);
    EXPECT_EQ(receipt->checkpoint, log.Checkpoint(7));
    EXPECT_EQ(receipt->tlog_proof, response.tlog_proof());
  }
  refsum::v1::SubmitResponse duplicate = response;
  duplicate.set_duplicate(true);
  EXPECT_TRUE(VerifySubmitResponse(duplicate, log.leaf(3), key.get())
                  .value_or(Receipt())
                  .duplicate);
}

TEST(VerifySubmitResponseTest, RefusesAnAnswerForAnotherLeaf) {
  const FakeLog log(7);
  const absl::StatusOr<Receipt> receipt =
      VerifySubmitResponse(log.Response(3, 7), log.leaf(4), nullptr);
  EXPECT_EQ(receipt.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(receipt.status()), HasSubstr("leaf hash"));
}

TEST(VerifySubmitResponseTest, RefusesAResponseThatContradictsItself) {
  const FakeLog log(7);
  refsum::v1::SubmitResponse response = log.Response(3, 7);
  response.set_tlog_proof("not a proof");
  EXPECT_THAT(
      Message(VerifySubmitResponse(response, log.leaf(3), nullptr).status()),
      HasSubstr("the tlog-proof does not parse"));

  response = log.Response(3, 7);
  response.set_index(2);
  EXPECT_THAT(
      Message(VerifySubmitResponse(response, log.leaf(3), nullptr).status()),
      HasSubstr("the tlog-proof is for entry 3, the log said 2"));

  response = log.Response(3, 7);
  response.set_checkpoint(log.Note(6));
  EXPECT_THAT(
      Message(VerifySubmitResponse(response, log.leaf(3), nullptr).status()),
      HasSubstr("another checkpoint"));
}

TEST(VerifySubmitResponseTest, RefusesABadInclusionProof) {
  const FakeLog log(7);
  tlog::TlogProof proof = log.Proof(3, 7);
  proof.inclusion_proof[1][5] ^= 1;
  refsum::v1::SubmitResponse response = log.Response(3, 7);
  response.set_tlog_proof(*tlog::FormatTlogProof(proof));
  const absl::StatusOr<Receipt> receipt =
      VerifySubmitResponse(response, log.leaf(3), nullptr);
  EXPECT_EQ(receipt.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(receipt.status()),
              HasSubstr("the inclusion proof of entry 3 does not verify"));

  // A checkpoint whose tree does not hold the index.
  proof = log.Proof(3, 7);
  proof.checkpoint = log.Note(3);
  EXPECT_THAT(Message(VerifyEntryProof(proof, log.leaf(3), nullptr).status()),
              HasSubstr("entry 3 is not in the checkpoint's tree of size 3"));
}

TEST(VerifySubmitResponseTest, ChecksTheSignatureWithTheLogKey) {
  const FakeLog log(7);
  const FakeLog impostor(7);  // same origin, another key
  const FakeLog other_log(7, "log.example/other");
  const refsum::v1::SubmitResponse response = impostor.Response(3, 7);
  const std::unique_ptr<crypto::NoteVerifier> key = log.Verifier();
  const absl::StatusOr<Receipt> forged =
      VerifySubmitResponse(response, impostor.leaf(3), key.get());
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Message(forged.status()),
              HasSubstr("signature by log.example/receipt does not verify"));

  const absl::StatusOr<Receipt> other = VerifySubmitResponse(
      other_log.Response(3, 7), other_log.leaf(3), key.get());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Message(other.status()),
              HasSubstr("the checkpoint is of log \"log.example/other\""));
}

TEST(ReadLogKeyFileTest, ReadsAVerifierKeyLine) {
  const FakeLog log(1);
  const std::string path = TempDir() + "/log.vkey";
  ASSERT_TRUE(WriteFileAtomically(path, log.VerifierKey() + "\n", 0644).ok());
  const absl::StatusOr<std::unique_ptr<crypto::NoteVerifier>> key =
      ReadLogKeyFile(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ((*key)->name(), kOrigin);
  EXPECT_TRUE(
      VerifySubmitResponse(log.Response(0, 1), log.leaf(0), key->get()).ok());
}

TEST(ReadLogKeyFileTest, RefusesOtherFiles) {
  EXPECT_EQ(ReadLogKeyFile(TempDir() + "/missing.vkey").status().code(),
            absl::StatusCode::kNotFound);
  const FakeLog log(1);
  const std::string two_lines = TempDir() + "/two.vkey";
  ASSERT_TRUE(WriteFileAtomically(
                  two_lines, log.VerifierKey() + "\n" + log.VerifierKey(), 0644)
                  .ok());
  const std::string garbage = TempDir() + "/garbage.vkey";
  ASSERT_TRUE(WriteFileAtomically(garbage, "hello\n", 0644).ok());
  for (const std::string& path : {two_lines, garbage}) {
    const absl::Status status = ReadLogKeyFile(path).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_THAT(Message(status),
                HasSubstr(path + " does not hold a log verifier key"));
  }
}

TEST(VerifySameHistoryTest, AcceptsConsistentCheckpointsInEitherOrder) {
  const FakeLog log(9);
  const std::vector<tlog::Hash> proof = log.ConsistencyProof(4, 9);
  EXPECT_TRUE(
      VerifySameHistory(log.Checkpoint(4), log.Checkpoint(9), proof).ok());
  EXPECT_TRUE(
      VerifySameHistory(log.Checkpoint(9), log.Checkpoint(4), proof).ok());
  EXPECT_TRUE(VerifySameHistory(log.Checkpoint(9), log.Checkpoint(9), {}).ok());
}

TEST(VerifySameHistoryTest, RefusesForks) {
  const FakeLog log(9);
  const FakeLog fork(9);
  tlog::Checkpoint forked = log.Checkpoint(9);
  forked.root = tlog::HashLeaf("another tree");
  EXPECT_THAT(Message(VerifySameHistory(log.Checkpoint(9), forked, {})),
              HasSubstr("split view"));
  std::vector<tlog::Hash> proof = log.ConsistencyProof(4, 9);
  proof[0][0] ^= 1;
  const absl::Status bad =
      VerifySameHistory(log.Checkpoint(4), log.Checkpoint(9), proof);
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(bad), HasSubstr("size 4 and 9 are not consistent"));
  const FakeLog other_log(9, "log.example/other");
  EXPECT_THAT(Message(VerifySameHistory(log.Checkpoint(9),
                                        other_log.Checkpoint(9), {})),
              HasSubstr("checkpoints of two logs"));
}

tlog::Bundle ClaimBundle(const FakeLog& log) {
  return tlog::Bundle{
      {tlog::BundleClaim{log.Entry(1, 6), {log.Entry(3, 6), log.Entry(5, 6)}}}};
}

TEST(VerifyClaimBundleTest, AcceptsTheClaimsBundle) {
  const FakeLog log(6);
  const std::unique_ptr<crypto::NoteVerifier> key = log.Verifier();
  for (const crypto::NoteVerifier* log_key :
       std::vector<const crypto::NoteVerifier*>{key.get(), nullptr}) {
    const absl::StatusOr<tlog::Checkpoint> checkpoint =
        VerifyClaimBundle(ClaimBundle(log), 1, log.leaf(1), log_key);
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
    EXPECT_EQ(*checkpoint, log.Checkpoint(6));
  }
}

TEST(VerifyClaimBundleTest, RefusesAnotherClaimsBundle) {
  const FakeLog log(6);
  EXPECT_THAT(
      Message(VerifyClaimBundle(ClaimBundle(log), 2, log.leaf(1), nullptr)
                  .status()),
      HasSubstr("not of the claim at entry 2"));
  EXPECT_THAT(
      Message(VerifyClaimBundle(ClaimBundle(log), 1, log.leaf(2), nullptr)
                  .status()),
      HasSubstr("not of the claim at entry 1"));
  tlog::Bundle two = ClaimBundle(log);
  two.claims.push_back(two.claims[0]);
  EXPECT_THAT(Message(VerifyClaimBundle(two, 1, log.leaf(1), nullptr).status()),
              HasSubstr("holds 2 claims"));
}

TEST(VerifyClaimBundleTest, ChecksEveryProof) {
  const FakeLog log(6);
  tlog::Bundle bundle = ClaimBundle(log);
  bundle.claims[0].attestations[1].leaf = "tampered";
  const absl::Status tampered =
      VerifyClaimBundle(bundle, 1, log.leaf(1), nullptr).status();
  EXPECT_EQ(tampered.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(tampered),
              HasSubstr("bundle attestation: the inclusion proof of entry 5"));

  bundle = ClaimBundle(log);
  bundle.claims[0].attestations[0] = log.Entry(3, 5);
  EXPECT_THAT(
      Message(VerifyClaimBundle(bundle, 1, log.leaf(1), nullptr).status()),
      HasSubstr("against another checkpoint"));

  const FakeLog impostor(6);
  const std::unique_ptr<crypto::NoteVerifier> key = log.Verifier();
  EXPECT_EQ(
      VerifyClaimBundle(ClaimBundle(impostor), 1, impostor.leaf(1), key.get())
          .status()
          .code(),
      absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace refsum::submitter
