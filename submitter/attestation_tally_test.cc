#include "submitter/attestation_tally.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "encoding/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/attestation.h"
#include "statement/in_toto.h"
#include "tlog/merkle.h"

namespace refsum::submitter {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "log.example/tally";
constexpr uint64_t kClaimIndex = 4;

const tlog::Hash kClaimLeafHash = tlog::HashLeaf("the claim");

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

std::unique_ptr<crypto::Signer> NewKey() {
  return *crypto::NewSigner(
      *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
}

statement::RebuildAttestation Attestation(statement::Verdict verdict,
                                          const std::string& rebuilder) {
  statement::Subject subject;
  subject.name = "os-image.raw";
  subject.digest = {{"sha256", std::string(64, 'a')}};
  statement::ReferenceValue value;
  value.platform = "tpm";
  value.kind = "pcr";
  value.index = 4;
  value.digest = {"sha256", std::string(64, 'b')};
  statement::RebuildAttestation attestation;
  attestation.subjects = {subject};
  attestation.claim = {
      kOrigin, static_cast<int64_t>(kClaimIndex),
      encoding::HexEncode(crypto::DigestBytes(kClaimLeafHash))};
  attestation.verdict = verdict;
  if (verdict != statement::Verdict::kFailed) {
    attestation.rebuilt = statement::RebuiltOutput{{subject}, {value}};
  }
  if (verdict == statement::Verdict::kMismatch) {
    attestation.report = statement::Report{{{"sha256", std::string(64, 'c')}},
                                           "https://rebuilder.example/r/1"};
  }
  attestation.rebuilder = {rebuilder, "nix build .#image"};
  attestation.rebuilt_at = "2026-11-27T12:00:00Z";
  return attestation;
}

std::string Leaf(const statement::RebuildAttestation& attestation,
                 const crypto::Signer& signer) {
  const std::string payload =
      *statement::SerializeRebuildAttestation(attestation);
  return crypto::EncodeDsseLeaf(
      *crypto::DsseSign(statement::kPayloadType, payload, signer));
}

std::string Leaf(statement::Verdict verdict, const std::string& rebuilder,
                 const crypto::Signer& signer) {
  return Leaf(Attestation(verdict, rebuilder), signer);
}

TEST(AttestationTallyTest, CountsMatchesByDistinctKeys) {
  const std::unique_ptr<crypto::Signer> one = NewKey();
  const std::unique_ptr<crypto::Signer> two = NewKey();
  AttestationTally tally(kOrigin, kClaimIndex, kClaimLeafHash);
  EXPECT_EQ(tally.matches(), 0u);

  absl::StatusOr<AttestationTally::Reading> reading =
      tally.Add(5, Leaf(statement::Verdict::kMatch, "one", *one));
  ASSERT_TRUE(reading.ok()) << reading.status();
  EXPECT_EQ(reading->index, 5u);
  EXPECT_EQ(reading->verdict, statement::Verdict::kMatch);
  EXPECT_EQ(reading->rebuilder_id, "one");
  EXPECT_EQ(reading->keyid, one->public_key().keyid());
  EXPECT_FALSE(reading->report_uri.has_value());
  EXPECT_TRUE(reading->counted);
  EXPECT_EQ(tally.matches(), 1u);

  // The same key again, even under another name, does not count twice.
  statement::RebuildAttestation again =
      Attestation(statement::Verdict::kMatch, "one-renamed");
  again.rebuilt_at = "2026-11-28T12:00:00Z";
  reading = tally.Add(6, Leaf(again, *one));
  ASSERT_TRUE(reading.ok()) << reading.status();
  EXPECT_FALSE(reading->counted);
  EXPECT_EQ(tally.matches(), 1u);

  reading = tally.Add(8, Leaf(statement::Verdict::kMatch, "two", *two));
  ASSERT_TRUE(reading.ok()) << reading.status();
  EXPECT_TRUE(reading->counted);
  EXPECT_EQ(tally.matches(), 2u);
  EXPECT_THAT(tally.matching_rebuilders(), ElementsAre("one", "two"));
  EXPECT_TRUE(tally.Seen(5));
  EXPECT_TRUE(tally.Seen(6));
  EXPECT_FALSE(tally.Seen(7));
}

TEST(AttestationTallyTest, MismatchAndFailedDoNotCount) {
  const std::unique_ptr<crypto::Signer> key = NewKey();
  AttestationTally tally(kOrigin, kClaimIndex, kClaimLeafHash);
  absl::StatusOr<AttestationTally::Reading> mismatch =
      tally.Add(5, Leaf(statement::Verdict::kMismatch, "r", *key));
  ASSERT_TRUE(mismatch.ok()) << mismatch.status();
  EXPECT_EQ(mismatch->verdict, statement::Verdict::kMismatch);
  EXPECT_EQ(mismatch->report_uri, "https://rebuilder.example/r/1");
  EXPECT_FALSE(mismatch->counted);
  absl::StatusOr<AttestationTally::Reading> failed =
      tally.Add(6, Leaf(statement::Verdict::kFailed, "r", *key));
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_FALSE(failed->counted);
  EXPECT_EQ(tally.matches(), 0u);
  // A MATCH by the same key later counts: only MATCHes are tallied.
  EXPECT_TRUE(tally.Add(7, Leaf(statement::Verdict::kMatch, "r", *key))
                  .value_or(AttestationTally::Reading())
                  .counted);
}

TEST(AttestationTallyTest, AnIndexCountsOnce) {
  const std::unique_ptr<crypto::Signer> key = NewKey();
  AttestationTally tally(kOrigin, kClaimIndex, kClaimLeafHash);
  const std::string leaf = Leaf(statement::Verdict::kMatch, "r", *key);
  EXPECT_TRUE(tally.Add(5, leaf).value_or(AttestationTally::Reading()).counted);
  const absl::StatusOr<AttestationTally::Reading> again = tally.Add(5, leaf);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->counted);
  EXPECT_EQ(tally.matches(), 1u);
}

TEST(AttestationTallyTest, RefusesAttestationsOfAnotherClaim) {
  const std::unique_ptr<crypto::Signer> key = NewKey();
  const std::string leaf = Leaf(statement::Verdict::kMatch, "r", *key);
  AttestationTally other_index(kOrigin, kClaimIndex + 1, kClaimLeafHash);
  AttestationTally other_hash(kOrigin, kClaimIndex, tlog::HashLeaf("other"));
  AttestationTally other_log("log.example/other", kClaimIndex, kClaimLeafHash);
  for (AttestationTally* tally : {&other_index, &other_hash, &other_log}) {
    const absl::Status status = tally->Add(9, leaf).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(Message(status),
                HasSubstr("entry 9, listed as an attestation"));
    EXPECT_THAT(Message(status), HasSubstr("is about entry 4 of log"));
    EXPECT_EQ(tally->matches(), 0u);
    EXPECT_FALSE(tally->Seen(9));
  }
}

TEST(AttestationTallyTest, RefusesWhatIsNotAnAttestation) {
  const std::unique_ptr<crypto::Signer> key = NewKey();
  AttestationTally tally(kOrigin, kClaimIndex, kClaimLeafHash);
  EXPECT_THAT(Message(tally.Add(5, "garbage").status()),
              HasSubstr("is not a DSSE envelope"));
  const std::string not_a_statement = crypto::EncodeDsseLeaf(
      *crypto::DsseSign(statement::kPayloadType, "{}", *key));
  EXPECT_THAT(Message(tally.Add(5, not_a_statement).status()),
              HasSubstr("is not a rebuild attestation"));
  crypto::DsseEnvelope unsigned_envelope =
      *crypto::DecodeDsseLeaf(Leaf(statement::Verdict::kMatch, "r", *key));
  unsigned_envelope.signatures.clear();
  EXPECT_THAT(
      Message(tally.Add(5, crypto::EncodeDsseLeaf(unsigned_envelope)).status()),
      HasSubstr("has 0 signatures"));
  EXPECT_EQ(tally.matches(), 0u);
}

}  // namespace
}  // namespace refsum::submitter
