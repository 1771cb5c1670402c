#include "client/verify.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/file.h"
#include "client/policy.h"
#include "client/state.h"
#include "client/testing.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"

namespace refsum::client {
namespace {

using statement::Verdict;
using testing::AttestationLeaf;
using testing::ClaimLeaf;
using ::testing::ElementsAre;
using testing::FlipBit;
using testing::FlipHashBit;
using testing::HashHex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::NewTempDir;
using testing::NewTestSigner;
using testing::NewTestWitness;
using ::testing::Pair;
using testing::SampleAttestation;
using testing::SampleClaim;
using ::testing::SizeIs;
using ::testing::StartsWith;
using testing::TestLog;
using testing::TestSigner;
using testing::TestWitness;

constexpr char kOrigin[] = "log.example.org/refsum";

// An entry appended to the test log, and the key it was admitted under.
struct LoggedEntry {
  uint64_t index = 0;
  std::string public_key;
};

// What the policy says beyond the fixed log and witness lines.
struct PolicyOptions {
  bool list_vendors = true;
  // The on-mismatch line's value, or empty for none.
  std::string on_mismatch;
  // The rebuild-quorum; "rebuilders" is 2 of R1 R2 R3.
  std::string rebuild_quorum = "rebuilders";
};

// Expects `result` to be a failure of `check`: FailedPrecondition
// "<check>: ...".
template <typename T>
void ExpectFailedCheck(const absl::StatusOr<T>& result,
                       absl::string_view check) {
  ASSERT_FALSE(result.ok()) << "passed, expected a failure of " << check;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition)
      << result.status();
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith(absl::StrCat(check, ": ")));
}

// Returns `bundle` with every entry's checkpoint replaced by `note`.
tlog::Bundle WithCheckpoint(tlog::Bundle bundle, const std::string& note) {
  for (tlog::BundleClaim& claim : bundle.claims) {
    claim.claim.proof.checkpoint = note;
    for (tlog::BundleEntry& attestation : claim.attestations) {
      attestation.proof.checkpoint = note;
    }
  }
  return bundle;
}

// Returns `note` with the lowest bit of its checkpoint's root flipped and its
// signatures kept.
absl::StatusOr<std::string> FlipRootBit(const std::string& note) {
  absl::StatusOr<crypto::Note> parsed = crypto::ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<tlog::Checkpoint> checkpoint =
      tlog::ParseCheckpointBody(parsed->text);
  if (!checkpoint.ok()) return checkpoint.status();
  checkpoint->root = FlipHashBit(checkpoint->root);
  absl::StatusOr<std::string> text = tlog::FormatCheckpointBody(*checkpoint);
  if (!text.ok()) return text.status();
  parsed->text = *text;
  return crypto::FormatNote(*parsed);
}

// Returns `note` with a bit of byte `byte` of the signature by `key_name`
// (the bytes after the key ID) flipped.
absl::StatusOr<std::string> FlipSignatureBit(const std::string& note,
                                             absl::string_view key_name,
                                             size_t byte) {
  absl::StatusOr<crypto::Note> parsed = crypto::ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  for (crypto::NoteSignature& signature : parsed->signatures) {
    if (signature.name == key_name) {
      signature.signature = FlipBit(signature.signature, byte);
      return crypto::FormatNote(*parsed);
    }
  }
  return absl::NotFoundError(absl::StrCat("no signature by ", key_name));
}

// The selector of `value` (platform/kind[/index]=alg:hex), as a user types
// it.
Query QueryFor(const statement::ReferenceValue& value) {
  return ParseValueQuery(
             statement::FormatValueSelector(statement::SelectorOf(value)))
      .value();
}

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(TestLog log, TestLog::Create(kOrigin));
    log_.emplace(std::move(log));
    for (int i = 1; i <= 3; ++i) {
      ASSERT_OK_AND_ASSIGN(
          TestWitness witness,
          NewTestWitness(absl::StrCat("W", i),
                         absl::StrCat("witness", i, ".example/w")));
      witnesses_.push_back(std::move(witness));
    }
    ASSERT_OK_AND_ASSIGN(vendor_,
                         NewTestSigner("acme", crypto::KeyType::kEcdsaP256));
    ASSERT_OK_AND_ASSIGN(other_vendor_,
                         NewTestSigner("globex", crypto::KeyType::kEd25519));
    ASSERT_OK_AND_ASSIGN(unlisted_vendor_,
                         NewTestSigner("mallory", crypto::KeyType::kEd25519));
    const crypto::KeyType rebuilder_types[] = {crypto::KeyType::kEd25519,
                                               crypto::KeyType::kEcdsaP256,
                                               crypto::KeyType::kEd25519};
    for (int i = 0; i < 3; ++i) {
      ASSERT_OK_AND_ASSIGN(
          TestSigner rebuilder,
          NewTestSigner(absl::StrCat("R", i + 1), rebuilder_types[i]));
      rebuilders_.push_back(std::move(rebuilder));
    }
    ASSERT_OK_AND_ASSIGN(outsider_,
                         NewTestSigner("R4", crypto::KeyType::kEd25519));
    ASSERT_OK_AND_ASSIGN(state_dir_, NewTempDir("verify_state"));
    store_.emplace(state_dir_);

    // The baseline log: an unrelated entry, the claim, a MATCH by each policy
    // rebuilder and another unrelated entry, so that proofs have several
    // hashes and the tree is not perfect.
    log_->Append("unrelated entry 0");
    claim_ = SampleClaim("v1.2.0");
    ASSERT_OK_AND_ASSIGN(claim_entry_, LogClaim(claim_, *vendor_));
    for (const TestSigner& rebuilder : rebuilders_) {
      ASSERT_OK_AND_ASSIGN(
          LoggedEntry attestation,
          LogVerdict(claim_entry_, claim_, rebuilder, Verdict::kMatch));
      match_entries_.push_back(std::move(attestation));
    }
    log_->Append("unrelated entry 1");
    ASSERT_EQ(log_->size(), 6u);
  }

  absl::StatusOr<LoggedEntry> LogClaim(const statement::Claim& claim,
                                       const TestSigner& vendor) {
    absl::StatusOr<std::string> leaf = ClaimLeaf(claim, vendor);
    if (!leaf.ok()) return leaf.status();
    return LoggedEntry{log_->Append(*std::move(leaf)),
                       vendor.public_key().der()};
  }

  absl::StatusOr<LoggedEntry> LogAttestation(
      const statement::RebuildAttestation& attestation,
      const TestSigner& rebuilder) {
    absl::StatusOr<std::string> leaf = AttestationLeaf(attestation, rebuilder);
    if (!leaf.ok()) return leaf.status();
    return LoggedEntry{log_->Append(*std::move(leaf)),
                       rebuilder.public_key().der()};
  }

  // A valid attestation with `verdict` by `rebuilder` of the claim logged as
  // `claim_entry`.
  statement::RebuildAttestation AttestationOf(const LoggedEntry& claim_entry,
                                              const statement::Claim& claim,
                                              const TestSigner& rebuilder,
                                              Verdict verdict) const {
    return SampleAttestation(claim, kOrigin, claim_entry.index,
                             log_->leaf_hash(claim_entry.index), verdict,
                             absl::StrCat(rebuilder.name, ".example"));
  }

  absl::StatusOr<LoggedEntry> LogVerdict(const LoggedEntry& claim_entry,
                                         const statement::Claim& claim,
                                         const TestSigner& rebuilder,
                                         Verdict verdict) {
    return LogAttestation(AttestationOf(claim_entry, claim, rebuilder, verdict),
                          rebuilder);
  }

  std::vector<const TestWitness*> Witnesses(std::vector<int> numbers) const {
    std::vector<const TestWitness*> chosen;
    for (int number : numbers) chosen.push_back(&witnesses_[number - 1]);
    return chosen;
  }

  // A bundle of `claims`, each a claim and its attestations, against the
  // checkpoint of `size` (0: the whole log) cosigned by `cosigners` (W1 and
  // W2 unless given).
  absl::StatusOr<tlog::Bundle> MakeBundle(
      const std::vector<std::pair<LoggedEntry, std::vector<LoggedEntry>>>&
          claims,
      uint64_t size = 0,
      std::optional<std::vector<const TestWitness*>> cosigners = std::nullopt,
      const TestLog* log = nullptr) const {
    if (log == nullptr) log = &*log_;
    if (size == 0) size = log->size();
    absl::StatusOr<std::string> note =
        log->SignCheckpoint(size, cosigners.value_or(Witnesses({1, 2})));
    if (!note.ok()) return note.status();
    tlog::Bundle bundle;
    for (const auto& [claim_entry, attestations] : claims) {
      tlog::BundleClaim bundle_claim;
      absl::StatusOr<tlog::BundleEntry> entry =
          log->Entry(claim_entry.index, *note, claim_entry.public_key);
      if (!entry.ok()) return entry.status();
      bundle_claim.claim = *std::move(entry);
      for (const LoggedEntry& attestation : attestations) {
        entry = log->Entry(attestation.index, *note, attestation.public_key);
        if (!entry.ok()) return entry.status();
        bundle_claim.attestations.push_back(*std::move(entry));
      }
      bundle.claims.push_back(std::move(bundle_claim));
    }
    return bundle;
  }

  // The baseline claim with the given attestations.
  absl::StatusOr<tlog::Bundle> BundleWith(
      const std::vector<LoggedEntry>& attestations, uint64_t size = 0) const {
    return MakeBundle({{claim_entry_, attestations}}, size);
  }

  // The baseline: the claim and its three MATCH attestations against the
  // checkpoint of the whole log, cosigned by W1 and W2.
  absl::StatusOr<tlog::Bundle> BaselineBundle() const {
    return BundleWith(match_entries_);
  }

  std::string PolicyText(const PolicyOptions& options) const {
    std::string text = absl::StrCat("log ", log_->vkey(), "\n");
    for (const TestWitness& witness : witnesses_) {
      absl::StrAppend(&text, "witness ", witness.policy_name, " ",
                      witness.Vkey(), "\n");
    }
    absl::StrAppend(&text, "group witnesses 2 W1 W2 W3\nquorum witnesses\n");
    if (options.list_vendors) {
      absl::StrAppend(&text, "vendor acme ", vendor_->Base64Spki(), "\n",
                      "vendor globex ", other_vendor_->Base64Spki(), "\n");
    }
    for (const TestSigner& rebuilder : rebuilders_) {
      absl::StrAppend(&text, "rebuilder ", rebuilder.name, " ",
                      rebuilder.Base64Spki(), "\n");
    }
    absl::StrAppend(&text, "rebuild-group rebuilders 2 R1 R2 R3\n",
                    "rebuild-quorum ", options.rebuild_quorum, "\n");
    if (!options.on_mismatch.empty()) {
      absl::StrAppend(&text, "on-mismatch ", options.on_mismatch, "\n");
    }
    return text;
  }

  absl::StatusOr<Policy> MakePolicy(const PolicyOptions& options = {}) const {
    return Policy::Parse(PolicyText(options), state_dir_);
  }

  // A query for the claim's first reference value (the SEV-SNP measurement).
  Query ValueQuery() const { return QueryFor(claim_.reference_values[0]); }

  absl::StatusOr<VerifiedClaim> Run(const Policy& policy,
                                    const tlog::Bundle& bundle,
                                    const Query& query,
                                    const ConsistencyProver& prover = nullptr) {
    return Verify(policy, *store_, bundle, query, prover);
  }

  // Verifies `bundle` with the default policy and the value query.
  absl::StatusOr<VerifiedClaim> Run(const tlog::Bundle& bundle,
                                    const ConsistencyProver& prover = nullptr) {
    absl::StatusOr<Policy> policy = MakePolicy();
    if (!policy.ok()) return policy.status();
    return Run(*policy, bundle, ValueQuery(), prover);
  }

  // The size of the stored checkpoint of kOrigin, or nullopt if none.
  std::optional<uint64_t> StoredSize() const {
    absl::StatusOr<std::optional<StoredCheckpoint>> stored =
        store_->Load(kOrigin);
    EXPECT_TRUE(stored.ok()) << stored.status();
    if (!stored.ok() || !stored->has_value()) return std::nullopt;
    return (*stored)->checkpoint.size;
  }

  std::optional<std::string> StoredNote() const {
    absl::StatusOr<std::optional<StoredCheckpoint>> stored =
        store_->Load(kOrigin);
    EXPECT_TRUE(stored.ok()) << stored.status();
    if (!stored.ok() || !stored->has_value()) return std::nullopt;
    return (*stored)->note;
  }

  // Verifies the baseline claim against the checkpoint of `size`, so that it
  // is stored.
  void VerifyAtSize(uint64_t size) {
    ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                         BundleWith(match_entries_, size));
    ASSERT_OK(Run(bundle).status());
    ASSERT_EQ(StoredSize(), size);
  }

  std::optional<TestLog> log_;
  std::vector<TestWitness> witnesses_;
  std::optional<TestSigner> vendor_;
  std::optional<TestSigner> other_vendor_;
  std::optional<TestSigner> unlisted_vendor_;
  std::vector<TestSigner> rebuilders_;
  std::optional<TestSigner> outsider_;
  std::string state_dir_;
  std::optional<CheckpointStore> store_;

  statement::Claim claim_;
  LoggedEntry claim_entry_;
  std::vector<LoggedEntry> match_entries_;
};

// ---------------------------------------------------------------------------
// Passing verifications

TEST_F(VerifyTest, BaselinePasses) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified, Run(bundle));

  EXPECT_EQ(verified.index, claim_entry_.index);
  EXPECT_EQ(verified.claim.source.repository, claim_.source.repository);
  EXPECT_EQ(verified.claim.source.commit, claim_.source.commit);
  EXPECT_EQ(verified.claim.source.tag, claim_.source.tag);
  EXPECT_EQ(verified.claim.subjects, claim_.subjects);
  EXPECT_EQ(verified.claim.reference_values, claim_.reference_values);
  EXPECT_EQ(verified.vendor, "acme");
  EXPECT_THAT(verified.matched_rebuilders, ElementsAre("R1", "R2", "R3"));
  EXPECT_THAT(verified.warnings, IsEmpty());
  EXPECT_EQ(verified.checkpoint.origin, kOrigin);
  EXPECT_EQ(verified.checkpoint.size, 6u);
  ASSERT_OK_AND_ASSIGN(const tlog::Hash root, log_->Root(6));
  EXPECT_EQ(verified.checkpoint.root, root);
  EXPECT_THAT(verified.witnesses, ElementsAre("W1", "W2"));
}

TEST_F(VerifyTest, EveryClaimedValueIsFound) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy());
  for (const statement::ReferenceValue& value : claim_.reference_values) {
    ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified,
                         Run(policy, bundle, QueryFor(value)));
    EXPECT_EQ(verified.index, claim_entry_.index);
    EXPECT_EQ(verified.matched_value, value);
  }
}

TEST_F(VerifyTest, ArtifactQueryPasses) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy());
  ASSERT_OK_AND_ASSIGN(const Query query,
                       ParseArtifactQuery(absl::StrCat(
                           "sha256:", claim_.subjects[0].digest.at("sha256"))));
  EXPECT_EQ(query.kind, Query::Kind::kArtifact);
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified,
                       Run(policy, bundle, query));
  EXPECT_EQ(verified.claim.subjects, claim_.subjects);
}

TEST_F(VerifyTest, ClaimIndexQueryPasses) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy());
  Query query;
  query.kind = Query::Kind::kClaimIndex;
  query.claim_index = claim_entry_.index;
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified,
                       Run(policy, bundle, query));
  EXPECT_EQ(verified.index, claim_entry_.index);
}

TEST_F(VerifyTest, ClaimFoundAmongSeveralInTheBundle) {
  const statement::Claim other_claim = SampleClaim("v2.0.0");
  ASSERT_OK_AND_ASSIGN(const LoggedEntry other_entry,
                       LogClaim(other_claim, *other_vendor_));
  std::vector<LoggedEntry> other_matches;
  for (const TestSigner& rebuilder : rebuilders_) {
    ASSERT_OK_AND_ASSIGN(
        LoggedEntry match,
        LogVerdict(other_entry, other_claim, rebuilder, Verdict::kMatch));
    other_matches.push_back(std::move(match));
  }
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       MakeBundle({{claim_entry_, match_entries_},
                                   {other_entry, other_matches}}));
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy());
  ASSERT_OK_AND_ASSIGN(
      const VerifiedClaim verified,
      Run(policy, bundle, QueryFor(other_claim.reference_values[1])));
  EXPECT_EQ(verified.index, other_entry.index);
  EXPECT_EQ(verified.vendor, "globex");
  EXPECT_EQ(verified.claim.source.commit, other_claim.source.commit);
}

TEST_F(VerifyTest, RebuildQuorumNoneNeedsNoAttestations) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BundleWith({}));
  PolicyOptions options;
  options.rebuild_quorum = "none";
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy(options));
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified,
                       Run(policy, bundle, ValueQuery()));
  EXPECT_THAT(verified.matched_rebuilders, IsEmpty());
}

TEST_F(VerifyTest, AllThreeWitnessesCosigning) {
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle bundle,
      MakeBundle({{claim_entry_, match_entries_}}, 0, Witnesses({1, 2, 3})));
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified, Run(bundle));
  EXPECT_THAT(verified.witnesses, ElementsAre("W1", "W2", "W3"));
}

TEST_F(VerifyTest, ParseQueries) {
  EXPECT_FALSE(ParseValueQuery("sha384").ok());
  EXPECT_FALSE(ParseValueQuery("tpm/pcr/4=md5:00").ok());
  EXPECT_FALSE(
      ParseValueQuery(absl::StrCat("tpm/pcr/4=sha384:", std::string(64, 'a')))
          .ok());
  EXPECT_FALSE(
      ParseValueQuery(absl::StrCat("tpm/pcr/4=sha256:", std::string(64, 'A')))
          .ok());
  ASSERT_OK_AND_ASSIGN(
      const Query value,
      ParseValueQuery(absl::StrCat("generic/blob=sha512:",
                                   std::string(128, 'f'))));
  EXPECT_EQ(value.kind, Query::Kind::kReferenceValue);
  EXPECT_EQ(value.value, (statement::ValueSelector{
                             "generic", "blob", std::nullopt,
                             statement::Digest{"sha512",
                                               std::string(128, 'f')}}));
  ASSERT_OK_AND_ASSIGN(
      const Query artifact,
      ParseArtifactQuery(absl::StrCat("sha256:", std::string(64, '0'))));
  EXPECT_EQ(artifact.kind, Query::Kind::kArtifact);
  EXPECT_EQ(artifact.artifact_sha256, std::string(64, '0'));
  EXPECT_FALSE(
      ParseArtifactQuery(absl::StrCat("sha384:", std::string(96, '0'))).ok());
}

// A bare ALG:HEX names no register: it is refused, with the selector form.
TEST_F(VerifyTest, BareDigestQueryIsRefused) {
  const absl::StatusOr<Query> bare =
      ParseValueQuery(absl::StrCat("sha256:", std::string(64, '0')));
  ASSERT_EQ(bare.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bare.status().message()),
              HasSubstr("platform/kind[/index]=alg:hex"));
}

// ---------------------------------------------------------------------------
// Check 1: checkpoint

TEST_F(VerifyTest, FlippedBitInTheCheckpointRootFails) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  ASSERT_OK_AND_ASSIGN(const std::string tampered,
                       FlipRootBit(bundle.claims[0].claim.proof.checkpoint));
  ExpectFailedCheck(Run(WithCheckpoint(bundle, tampered)), "checkpoint");
  EXPECT_EQ(StoredSize(), std::nullopt);
}

TEST_F(VerifyTest, EveryBitFlipInTheCheckpointNoteFails) {
  // Cosigned by exactly a quorum, so that no byte of the note is redundant.
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy());
  const std::string note = bundle.claims[0].claim.proof.checkpoint;
  for (size_t byte = 0; byte < note.size(); ++byte) {
    for (int bit : {0, 5}) {
      SCOPED_TRACE(absl::StrCat("byte ", byte, " bit ", bit));
      ExpectFailedCheck(
          Run(policy, WithCheckpoint(bundle, FlipBit(note, byte, bit)),
              ValueQuery()),
          "checkpoint");
    }
  }
  EXPECT_EQ(StoredSize(), std::nullopt);
}

TEST_F(VerifyTest, FlippedBitInTheLogSignatureFails) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  for (size_t byte : {0, 31, 63}) {
    ASSERT_OK_AND_ASSIGN(
        const std::string tampered,
        FlipSignatureBit(bundle.claims[0].claim.proof.checkpoint, kOrigin,
                         byte));
    const absl::StatusOr<VerifiedClaim> result =
        Run(WithCheckpoint(bundle, tampered));
    ExpectFailedCheck(result, "checkpoint");
    EXPECT_THAT(std::string(result.status().message()),
                HasSubstr("bad signature"));
  }
  EXPECT_EQ(StoredSize(), std::nullopt);
}

TEST_F(VerifyTest, FlippedBitInACosignatureFails) {
  // Even with a quorum of good cosignatures, a bad one by a policy witness
  // rejects the note. Byte 0 is in the timestamp, 8 and 71 in the signature.
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle bundle,
      MakeBundle({{claim_entry_, match_entries_}}, 0, Witnesses({1, 2, 3})));
  for (size_t byte : {0, 8, 71}) {
    ASSERT_OK_AND_ASSIGN(
        const std::string tampered,
        FlipSignatureBit(bundle.claims[0].claim.proof.checkpoint,
                         witnesses_[2].key_name, byte));
    ExpectFailedCheck(Run(WithCheckpoint(bundle, tampered)), "checkpoint");
  }
  EXPECT_EQ(StoredSize(), std::nullopt);
}

TEST_F(VerifyTest, CheckpointBelowTheWitnessQuorumFails) {
  for (const std::vector<int>& cosigners :
       std::vector<std::vector<int>>{{}, {1}, {3}}) {
    ASSERT_OK_AND_ASSIGN(
        const tlog::Bundle bundle,
        MakeBundle({{claim_entry_, match_entries_}}, 0, Witnesses(cosigners)));
    const absl::StatusOr<VerifiedClaim> result = Run(bundle);
    ExpectFailedCheck(result, "checkpoint");
    EXPECT_THAT(std::string(result.status().message()),
                HasSubstr("do not meet the quorum"));
  }
  EXPECT_EQ(StoredSize(), std::nullopt);
}

TEST_F(VerifyTest, CheckpointSignedByAnotherKeyFails) {
  // Same origin and tree, but not the policy's log key.
  ASSERT_OK_AND_ASSIGN(TestLog impostor, TestLog::Create(kOrigin));
  for (uint64_t i = 0; i < log_->size(); ++i) impostor.Append(log_->leaf(i));
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle bundle,
      MakeBundle({{claim_entry_, match_entries_}}, 0, std::nullopt, &impostor));
  ExpectFailedCheck(Run(bundle), "checkpoint");
  EXPECT_EQ(StoredSize(), std::nullopt);
}

TEST_F(VerifyTest, EmptyBundleFails) {
  ExpectFailedCheck(Run(tlog::Bundle{}), "claim");
}

// ---------------------------------------------------------------------------
// Check 2: consistency with the stored checkpoint

TEST_F(VerifyTest, FirstUseStoresTheCheckpoint) {
  EXPECT_EQ(StoredNote(), std::nullopt);
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  ASSERT_OK(Run(bundle).status());
  EXPECT_EQ(StoredNote(), bundle.claims[0].claim.proof.checkpoint);

  // The same checkpoint again is consistent with itself.
  ASSERT_OK(Run(bundle).status());
  EXPECT_EQ(StoredNote(), bundle.claims[0].claim.proof.checkpoint);
}

TEST_F(VerifyTest, RolledBackCheckpointIsASplitView) {
  ASSERT_NO_FATAL_FAILURE(VerifyAtSize(6));
  const std::optional<std::string> stored = StoredNote();

  ASSERT_OK_AND_ASSIGN(const tlog::Bundle older, BundleWith(match_entries_, 5));
  const absl::StatusOr<VerifiedClaim> result = Run(older);
  ExpectFailedCheck(result, "consistency");
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith("consistency: possible split view"));
  EXPECT_EQ(StoredNote(), stored);
}

TEST_F(VerifyTest, ForkedCheckpointOfTheSameSizeIsASplitView) {
  TestLog fork = *log_;
  log_->Append("seen by everyone else");
  fork.Append("seen by this verifier only");
  ASSERT_NO_FATAL_FAILURE(VerifyAtSize(7));
  const std::optional<std::string> stored = StoredNote();

  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle forked,
      MakeBundle({{claim_entry_, match_entries_}}, 0, std::nullopt, &fork));
  const absl::StatusOr<VerifiedClaim> result = Run(forked);
  ExpectFailedCheck(result, "consistency");
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith("consistency: possible split view"));
  EXPECT_EQ(StoredNote(), stored);
}

TEST_F(VerifyTest, NewerCheckpointWithAValidConsistencyProofAdvances) {
  ASSERT_NO_FATAL_FAILURE(VerifyAtSize(5));
  std::vector<std::pair<uint64_t, uint64_t>> asked;
  const ConsistencyProver prover = [&](uint64_t old_size, uint64_t new_size) {
    asked.emplace_back(old_size, new_size);
    return log_->ConsistencyProof(old_size, new_size);
  };
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle newer, BaselineBundle());
  ASSERT_OK(Run(newer, prover).status());
  EXPECT_THAT(asked, ElementsAre(Pair(5u, 6u)));
  EXPECT_EQ(StoredNote(), newer.claims[0].claim.proof.checkpoint);
}

TEST_F(VerifyTest, NewerCheckpointWithABadConsistencyProofFails) {
  ASSERT_NO_FATAL_FAILURE(VerifyAtSize(5));
  const std::optional<std::string> stored = StoredNote();
  ASSERT_OK_AND_ASSIGN(const std::vector<tlog::Hash> proof,
                       log_->ConsistencyProof(5, 6));
  ASSERT_FALSE(proof.empty());
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle newer, BaselineBundle());
  for (size_t i = 0; i < proof.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("proof hash ", i));
    std::vector<tlog::Hash> tampered = proof;
    tampered[i] = FlipHashBit(tampered[i]);
    const absl::StatusOr<VerifiedClaim> result =
        Run(newer, [&](uint64_t, uint64_t) { return tampered; });
    ExpectFailedCheck(result, "consistency");
    EXPECT_THAT(std::string(result.status().message()),
                StartsWith("consistency: possible split view"));
    EXPECT_EQ(StoredNote(), stored);
  }
  // A proof with a hash left out.
  ExpectFailedCheck(Run(newer,
                        [&](uint64_t, uint64_t) {
                          return std::vector<tlog::Hash>(proof.begin(),
                                                         proof.end() - 1);
                        }),
                    "consistency");
  EXPECT_EQ(StoredNote(), stored);
}

TEST_F(VerifyTest, LargerForkFailsWithItsOwnConsistencyProof) {
  // The fork shares the first six leaves and then differs; the verifier saw
  // the honest log at size 7 and is then shown the fork at size 8 with the
  // fork's own consistency proof.
  TestLog fork = *log_;
  log_->Append("honest entry 6");
  ASSERT_NO_FATAL_FAILURE(VerifyAtSize(7));
  const std::optional<std::string> stored = StoredNote();
  fork.Append("forked entry 6");
  fork.Append("forked entry 7");
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle forked,
      MakeBundle({{claim_entry_, match_entries_}}, 0, std::nullopt, &fork));
  const absl::StatusOr<VerifiedClaim> result =
      Run(forked, [&](uint64_t old_size, uint64_t new_size) {
        return fork.ConsistencyProof(old_size, new_size);
      });
  ExpectFailedCheck(result, "consistency");
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith("consistency: possible split view"));
  EXPECT_EQ(StoredNote(), stored);
}

TEST_F(VerifyTest, NewerCheckpointOfflineFails) {
  ASSERT_NO_FATAL_FAILURE(VerifyAtSize(5));
  const std::optional<std::string> stored = StoredNote();
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle newer, BaselineBundle());
  const absl::StatusOr<VerifiedClaim> result = Run(newer, nullptr);
  ExpectFailedCheck(result, "consistency");
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("offline"));
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("verify online"));
  EXPECT_EQ(StoredNote(), stored);
}

TEST_F(VerifyTest, ProverErrorFailsConsistency) {
  ASSERT_NO_FATAL_FAILURE(VerifyAtSize(5));
  const std::optional<std::string> stored = StoredNote();
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle newer, BaselineBundle());
  const absl::StatusOr<VerifiedClaim> result = Run(
      newer, [](uint64_t, uint64_t) -> absl::StatusOr<std::vector<tlog::Hash>> {
        return absl::UnavailableError("log unreachable");
      });
  ExpectFailedCheck(result, "consistency");
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("log unreachable"));
  EXPECT_EQ(StoredNote(), stored);
}

TEST_F(VerifyTest, CorruptStateFailsConsistency) {
  ASSERT_OK(WriteFileAtomically(store_->PathFor(kOrigin), "garbage\n", 0644));
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  ExpectFailedCheck(Run(bundle), "consistency");
  ASSERT_OK_AND_ASSIGN(const std::string contents,
                       ReadFile(store_->PathFor(kOrigin)));
  EXPECT_EQ(contents, "garbage\n");
}

TEST_F(VerifyTest, StateIsNotAdvancedWhenTheCheckpointFails) {
  ASSERT_NO_FATAL_FAILURE(VerifyAtSize(5));
  const std::optional<std::string> stored = StoredNote();
  // A newer checkpoint below the witness quorum, with a valid proof at hand.
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle newer,
      MakeBundle({{claim_entry_, match_entries_}}, 0, Witnesses({1})));
  ExpectFailedCheck(Run(newer,
                        [&](uint64_t old_size, uint64_t new_size) {
                          return log_->ConsistencyProof(old_size, new_size);
                        }),
                    "checkpoint");
  EXPECT_EQ(StoredNote(), stored);
}

TEST_F(VerifyTest, StateAdvancesOnceCheckpointAndConsistencyPass) {
  // As verify.h says: a later check failing does not undo the advance, since
  // the checkpoint itself was verified and is consistent.
  ASSERT_NO_FATAL_FAILURE(VerifyAtSize(5));
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle newer, BaselineBundle());
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy());
  ASSERT_OK_AND_ASSIGN(
      const Query absent,
      ParseValueQuery(absl::StrCat("intel-tdx/mrtd=sha384:",
                                   std::string(96, '0'))));
  ExpectFailedCheck(Run(policy, newer, absent,
                        [&](uint64_t old_size, uint64_t new_size) {
                          return log_->ConsistencyProof(old_size, new_size);
                        }),
                    "value");
  EXPECT_EQ(StoredNote(), newer.claims[0].claim.proof.checkpoint);
}

// ---------------------------------------------------------------------------
// Check 3: claim

TEST_F(VerifyTest, FlippedBitInAnyClaimProofHashFails) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  const std::vector<tlog::Hash>& proof =
      bundle.claims[0].claim.proof.inclusion_proof;
  ASSERT_THAT(proof, SizeIs(3));
  for (size_t i = 0; i < proof.size(); ++i) {
    for (size_t byte : {0, 31}) {
      SCOPED_TRACE(absl::StrCat("proof hash ", i, " byte ", byte));
      tlog::Bundle tampered = bundle;
      tampered.claims[0].claim.proof.inclusion_proof[i] =
          FlipHashBit(proof[i], byte);
      ExpectFailedCheck(Run(tampered), "claim");
    }
  }
}

TEST_F(VerifyTest, TruncatedOrWrongIndexClaimProofFails) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  tlog::Bundle short_proof = bundle;
  short_proof.claims[0].claim.proof.inclusion_proof.pop_back();
  ExpectFailedCheck(Run(short_proof), "claim");

  tlog::Bundle wrong_index = bundle;
  wrong_index.claims[0].claim.proof.index = 0;
  ExpectFailedCheck(Run(wrong_index), "claim");

  tlog::Bundle beyond = bundle;
  beyond.claims[0].claim.proof.index = 6;
  ExpectFailedCheck(Run(beyond), "claim");
}

TEST_F(VerifyTest, FlippedBitInTheClaimLeafFails) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  const std::string& leaf = bundle.claims[0].claim.leaf;
  for (size_t byte : {size_t{0}, leaf.size() / 2, leaf.size() - 1}) {
    SCOPED_TRACE(absl::StrCat("byte ", byte));
    tlog::Bundle tampered = bundle;
    tampered.claims[0].claim.leaf = FlipBit(leaf, byte);
    ExpectFailedCheck(Run(tampered), "claim");
  }
}

TEST_F(VerifyTest, ClaimByAnUnlistedVendorFailsWhenVendorsAreListed) {
  ASSERT_OK_AND_ASSIGN(const LoggedEntry claim_entry,
                       LogClaim(claim_, *unlisted_vendor_));
  std::vector<LoggedEntry> matches;
  for (const TestSigner& rebuilder : rebuilders_) {
    ASSERT_OK_AND_ASSIGN(
        LoggedEntry match,
        LogVerdict(claim_entry, claim_, rebuilder, Verdict::kMatch));
    matches.push_back(std::move(match));
  }
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       MakeBundle({{claim_entry, matches}}));

  const absl::StatusOr<VerifiedClaim> listed = Run(bundle);
  ExpectFailedCheck(listed, "claim");
  EXPECT_THAT(std::string(listed.status().message()),
              HasSubstr("not a vendor in the policy"));

  // Without vendor lines, any signer's claim counts.
  PolicyOptions options;
  options.list_vendors = false;
  ASSERT_OK_AND_ASSIGN(const Policy open_policy, MakePolicy(options));
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified,
                       Run(open_policy, bundle, ValueQuery()));
  EXPECT_EQ(verified.vendor, unlisted_vendor_->public_key().keyid());
  EXPECT_THAT(verified.matched_rebuilders, ElementsAre("R1", "R2", "R3"));
}

TEST_F(VerifyTest, UnlistedVendorsClaimNeedsItsRealKey) {
  // Without vendor lines the bundle's publicKey is used, and it must be the
  // signer's.
  PolicyOptions options;
  options.list_vendors = false;
  ASSERT_OK_AND_ASSIGN(const Policy open_policy, MakePolicy(options));
  ASSERT_OK_AND_ASSIGN(tlog::Bundle bundle, BaselineBundle());
  bundle.claims[0].claim.public_key = unlisted_vendor_->public_key().der();
  ExpectFailedCheck(Run(open_policy, bundle, ValueQuery()), "claim");
  bundle.claims[0].claim.public_key = "not a key";
  ExpectFailedCheck(Run(open_policy, bundle, ValueQuery()), "claim");
}

TEST_F(VerifyTest, ClaimWithAForgedSignatureFails) {
  // Signed by mallory but naming acme's keyid.
  ASSERT_OK_AND_ASSIGN(const std::string payload,
                       statement::SerializeClaim(claim_));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       crypto::DsseSign(statement::kPayloadType, payload,
                                        *unlisted_vendor_->signer));
  envelope.signatures[0].keyid = vendor_->public_key().keyid();
  const LoggedEntry forged{log_->Append(crypto::EncodeDsseLeaf(envelope)),
                           vendor_->public_key().der()};
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       MakeBundle({{forged, match_entries_}}));
  ExpectFailedCheck(Run(bundle), "claim");
}

TEST_F(VerifyTest, ClaimThatIsNotAClaimFails) {
  // A validly signed and logged attestation offered as the claim: its
  // inclusion and signature hold, but it does not parse as a claim.
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       MakeBundle({{match_entries_[0], {}}}));
  PolicyOptions options;
  options.list_vendors = false;
  options.rebuild_quorum = "none";
  ASSERT_OK_AND_ASSIGN(const Policy open_policy, MakePolicy(options));
  const absl::StatusOr<VerifiedClaim> result =
      Run(open_policy, bundle, ValueQuery());
  ExpectFailedCheck(result, "claim");
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("predicateType"));
}

// ---------------------------------------------------------------------------
// The query ("value")

TEST_F(VerifyTest, ValueNotInTheClaimFails) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy());

  ASSERT_OK_AND_ASSIGN(
      const Query absent,
      ParseValueQuery(absl::StrCat("intel-tdx/mrtd=sha384:",
                                   std::string(96, 'a'))));
  const absl::StatusOr<VerifiedClaim> result = Run(policy, bundle, absent);
  ExpectFailedCheck(result, "value");
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr(std::string(96, 'a')));

  // The right hex under another algorithm is another value.
  const statement::Digest& pcr = claim_.reference_values[2].digest;
  ASSERT_EQ(pcr.algorithm, "sha256");
  ASSERT_OK_AND_ASSIGN(const Query pcr_as_artifact,
                       ParseArtifactQuery(absl::StrCat("sha256:", pcr.hex)));
  ExpectFailedCheck(Run(policy, bundle, pcr_as_artifact), "value");

  Query other_index;
  other_index.kind = Query::Kind::kClaimIndex;
  other_index.claim_index = claim_entry_.index + 1;
  ExpectFailedCheck(Run(policy, bundle, other_index), "value");
}

// A value binds its register: a digest claimed for PCR 16 is not a value
// for PCR 7, nor for the same index on another platform, and the failure
// says where the digest is claimed.
TEST_F(VerifyTest, ValueClaimedForAnotherRegisterFails) {
  statement::Claim claim = SampleClaim("pcr16");
  statement::ReferenceValue zeros;
  zeros.platform = "tpm";
  zeros.kind = "pcr";
  zeros.index = 16;
  zeros.digest = {"sha256", std::string(64, '0')};
  claim.reference_values.push_back(zeros);
  ASSERT_OK_AND_ASSIGN(const LoggedEntry entry, LogClaim(claim, *vendor_));
  std::vector<LoggedEntry> matches;
  for (const TestSigner& rebuilder : rebuilders_) {
    ASSERT_OK_AND_ASSIGN(LoggedEntry match,
                         LogVerdict(entry, claim, rebuilder, Verdict::kMatch));
    matches.push_back(std::move(match));
  }
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       MakeBundle({{entry, matches}}));
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy());

  // Asked for as PCR 16, it is trusted, and the result names the register.
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified,
                       Run(policy, bundle, QueryFor(zeros)));
  EXPECT_EQ(verified.matched_value, zeros);

  for (const std::string& selector :
       {absl::StrCat("tpm/pcr/7=sha256:", std::string(64, '0')),
        absl::StrCat("generic/pcr/16=sha256:", std::string(64, '0'))}) {
    ASSERT_OK_AND_ASSIGN(const Query query, ParseValueQuery(selector));
    const absl::StatusOr<VerifiedClaim> result = Run(policy, bundle, query);
    ExpectFailedCheck(result, "value");
    EXPECT_THAT(std::string(result.status().message()),
                HasSubstr(absl::StrCat("claimed only for tpm/pcr/16 in claim ",
                                       entry.index)));
  }
}

// A MATCH counts for a value that names its calculator only if the
// rebuilder computed it with that calculator; a rebuilder whose attestation
// says its recipe reported the value does not count (issue 13).
TEST_F(VerifyTest, MatchCountsForACalculatedValueOnlyWhenComputed) {
  statement::Claim claim = SampleClaim("calculated");
  claim.reference_values[2].calculator =
      statement::Calculator{"uki-pcr", {{"uki", claim.subjects[0].name}}};
  ASSERT_OK_AND_ASSIGN(const LoggedEntry entry, LogClaim(claim, *vendor_));
  std::vector<LoggedEntry> computed;
  std::vector<LoggedEntry> reported;
  for (const TestSigner& rebuilder : rebuilders_) {
    ASSERT_OK_AND_ASSIGN(LoggedEntry match,
                         LogVerdict(entry, claim, rebuilder, Verdict::kMatch));
    computed.push_back(std::move(match));
    statement::RebuildAttestation attestation =
        AttestationOf(entry, claim, rebuilder, Verdict::kMatch);
    for (statement::ReferenceValue& value :
         attestation.rebuilt->reference_values) {
      value.computed_by.reset();
      value.reported_by_recipe = true;
    }
    ASSERT_OK_AND_ASSIGN(LoggedEntry weak,
                         LogAttestation(attestation, rebuilder));
    reported.push_back(std::move(weak));
  }
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy());
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle trusted,
                       MakeBundle({{entry, computed}}));
  EXPECT_OK(Run(policy, trusted, QueryFor(claim.reference_values[2])).status());
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle recipe_only,
                       MakeBundle({{entry, reported}}));
  const absl::StatusOr<VerifiedClaim> result =
      Run(policy, recipe_only, QueryFor(claim.reference_values[2]));
  ExpectFailedCheck(result, "rebuild quorum");
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("did not compute the values the claim names a "
                        "calculator for"));
}

// ---------------------------------------------------------------------------
// Check 4: attestations

TEST_F(VerifyTest, FlippedBitInAnyAttestationProofHashFails) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  for (size_t a = 0; a < bundle.claims[0].attestations.size(); ++a) {
    const std::vector<tlog::Hash>& proof =
        bundle.claims[0].attestations[a].proof.inclusion_proof;
    ASSERT_THAT(proof, ::testing::Not(IsEmpty()));
    for (size_t i = 0; i < proof.size(); ++i) {
      SCOPED_TRACE(absl::StrCat("attestation ", a, " proof hash ", i));
      tlog::Bundle tampered = bundle;
      tampered.claims[0].attestations[a].proof.inclusion_proof[i] =
          FlipHashBit(proof[i], 17);
      ExpectFailedCheck(Run(tampered), "attestations");
    }
  }
}

TEST_F(VerifyTest, FlippedBitInAnAttestationLeafFails) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BaselineBundle());
  const std::string& leaf = bundle.claims[0].attestations[1].leaf;
  for (size_t byte : {size_t{0}, leaf.size() / 2, leaf.size() - 1}) {
    SCOPED_TRACE(absl::StrCat("byte ", byte));
    tlog::Bundle tampered = bundle;
    tampered.claims[0].attestations[1].leaf = FlipBit(leaf, byte);
    ExpectFailedCheck(Run(tampered), "attestations");
  }
}

TEST_F(VerifyTest, MatchWithDifferentRebuiltValuesFails) {
  statement::RebuildAttestation differs =
      AttestationOf(claim_entry_, claim_, rebuilders_[2], Verdict::kMatch);
  differs.rebuilt->reference_values[1].digest.hex =
      std::string(differs.rebuilt->reference_values[1].digest.hex.size(), 'e');
  ASSERT_OK_AND_ASSIGN(const LoggedEntry entry,
                       LogAttestation(differs, rebuilders_[2]));
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle bundle,
      BundleWith({match_entries_[0], match_entries_[1], entry}));
  const absl::StatusOr<VerifiedClaim> result = Run(bundle);
  ExpectFailedCheck(result, "attestations");
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("R3"));
}

TEST_F(VerifyTest, MatchWithAValueLeftOutFails) {
  statement::RebuildAttestation partial =
      AttestationOf(claim_entry_, claim_, rebuilders_[0], Verdict::kMatch);
  partial.rebuilt->reference_values.pop_back();
  ASSERT_OK_AND_ASSIGN(const LoggedEntry entry,
                       LogAttestation(partial, rebuilders_[0]));
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle bundle,
      BundleWith({entry, match_entries_[1], match_entries_[2]}));
  ExpectFailedCheck(Run(bundle), "attestations");
}

TEST_F(VerifyTest, MatchWithADifferentRebuiltSubjectFails) {
  statement::RebuildAttestation differs =
      AttestationOf(claim_entry_, claim_, rebuilders_[1], Verdict::kMatch);
  differs.rebuilt->subjects[0].digest["sha256"] = std::string(64, 'b');
  ASSERT_OK_AND_ASSIGN(const LoggedEntry entry,
                       LogAttestation(differs, rebuilders_[1]));
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle bundle,
      BundleWith({match_entries_[0], entry, match_entries_[2]}));
  ExpectFailedCheck(Run(bundle), "attestations");
}

TEST_F(VerifyTest, AttestationAboutAnotherClaimFails) {
  const statement::Claim other_claim = SampleClaim("v0.9.0");
  ASSERT_OK_AND_ASSIGN(const LoggedEntry other_entry,
                       LogClaim(other_claim, *vendor_));
  const statement::RebuildAttestation about_other =
      AttestationOf(other_entry, other_claim, rebuilders_[2], Verdict::kMatch);

  statement::RebuildAttestation wrong_index =
      AttestationOf(claim_entry_, claim_, rebuilders_[2], Verdict::kMatch);
  wrong_index.claim.index = static_cast<int64_t>(other_entry.index);

  statement::RebuildAttestation wrong_leaf_hash =
      AttestationOf(claim_entry_, claim_, rebuilders_[2], Verdict::kMatch);
  wrong_leaf_hash.claim.leaf_hash = HashHex(log_->leaf_hash(other_entry.index));

  statement::RebuildAttestation wrong_origin =
      AttestationOf(claim_entry_, claim_, rebuilders_[2], Verdict::kMatch);
  wrong_origin.claim.origin = "other.example.org/log";

  statement::RebuildAttestation wrong_subject =
      AttestationOf(claim_entry_, claim_, rebuilders_[2], Verdict::kMatch);
  wrong_subject.subjects[0].name = "another-image.raw";

  // Logged first, so that every bundle is against the same checkpoint.
  std::vector<LoggedEntry> entries;
  for (const statement::RebuildAttestation& attestation :
       {about_other, wrong_index, wrong_leaf_hash, wrong_origin,
        wrong_subject}) {
    ASSERT_OK_AND_ASSIGN(LoggedEntry entry,
                         LogAttestation(attestation, rebuilders_[2]));
    entries.push_back(std::move(entry));
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("case ", i));
    const LoggedEntry& entry = entries[i];
    ASSERT_OK_AND_ASSIGN(
        const tlog::Bundle bundle,
        BundleWith({match_entries_[0], match_entries_[1], entry}));
    const absl::StatusOr<VerifiedClaim> result = Run(bundle);
    ExpectFailedCheck(result, "attestations");
    EXPECT_THAT(std::string(result.status().message()),
                HasSubstr("is not about claim"));
  }
}

TEST_F(VerifyTest, AttestationWithAForgedKeyidFails) {
  // Signed by the outsider but naming R3's keyid.
  ASSERT_OK_AND_ASSIGN(
      const std::string payload,
      statement::SerializeRebuildAttestation(AttestationOf(
          claim_entry_, claim_, rebuilders_[2], Verdict::kMatch)));
  ASSERT_OK_AND_ASSIGN(
      crypto::DsseEnvelope envelope,
      crypto::DsseSign(statement::kPayloadType, payload, *outsider_->signer));
  envelope.signatures[0].keyid = rebuilders_[2].public_key().keyid();
  const LoggedEntry forged{log_->Append(crypto::EncodeDsseLeaf(envelope)),
                           rebuilders_[2].public_key().der()};
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle bundle,
      BundleWith({match_entries_[0], match_entries_[1], forged}));
  ExpectFailedCheck(Run(bundle), "attestations");
}

// ---------------------------------------------------------------------------
// Check 5: mismatch

TEST_F(VerifyTest, MismatchFromATrustedRebuilderFails) {
  ASSERT_OK_AND_ASSIGN(
      const LoggedEntry mismatch,
      LogVerdict(claim_entry_, claim_, rebuilders_[2], Verdict::kMismatch));
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle bundle,
      BundleWith({match_entries_[0], match_entries_[1], mismatch}));
  const absl::StatusOr<VerifiedClaim> result = Run(bundle);
  ExpectFailedCheck(result, "mismatch");
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("R3 reports MISMATCH"));
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("https://R3.example/reports/"));

  // An explicit on-mismatch reject is the same.
  PolicyOptions options;
  options.on_mismatch = "reject";
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy(options));
  ExpectFailedCheck(Run(policy, bundle, ValueQuery()), "mismatch");
}

TEST_F(VerifyTest, MismatchIsReportedBeforeAMissedRebuildQuorum) {
  ASSERT_OK_AND_ASSIGN(
      const LoggedEntry mismatch,
      LogVerdict(claim_entry_, claim_, rebuilders_[2], Verdict::kMismatch));
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       BundleWith({match_entries_[0], mismatch}));
  ExpectFailedCheck(Run(bundle), "mismatch");
}

TEST_F(VerifyTest, MismatchWithOnMismatchWarnPassesWithAWarning) {
  ASSERT_OK_AND_ASSIGN(
      const LoggedEntry mismatch,
      LogVerdict(claim_entry_, claim_, rebuilders_[2], Verdict::kMismatch));
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle bundle,
      BundleWith({match_entries_[0], match_entries_[1], mismatch}));
  PolicyOptions options;
  options.on_mismatch = "warn";
  ASSERT_OK_AND_ASSIGN(const Policy policy, MakePolicy(options));
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified,
                       Run(policy, bundle, ValueQuery()));
  EXPECT_THAT(verified.matched_rebuilders, ElementsAre("R1", "R2"));
  ASSERT_THAT(verified.warnings, SizeIs(1));
  EXPECT_THAT(verified.warnings[0], HasSubstr("R3 reports MISMATCH"));

  // Warn does not lower the rebuild quorum.
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle short_bundle,
                       BundleWith({match_entries_[0], mismatch}));
  ExpectFailedCheck(Run(policy, short_bundle, ValueQuery()), "rebuild quorum");
}

TEST_F(VerifyTest, MismatchFromAnUntrustedRebuilderIsIgnored) {
  ASSERT_OK_AND_ASSIGN(
      const LoggedEntry mismatch,
      LogVerdict(claim_entry_, claim_, *outsider_, Verdict::kMismatch));
  std::vector<LoggedEntry> attestations = match_entries_;
  attestations.push_back(mismatch);
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BundleWith(attestations));
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified, Run(bundle));
  EXPECT_THAT(verified.warnings, IsEmpty());
}

// ---------------------------------------------------------------------------
// Check 6: rebuild quorum

TEST_F(VerifyTest, RebuilderOutsideThePolicyDoesNotCount) {
  ASSERT_OK_AND_ASSIGN(
      const LoggedEntry outsider_match,
      LogVerdict(claim_entry_, claim_, *outsider_, Verdict::kMatch));
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       BundleWith({match_entries_[0], outsider_match}));
  const absl::StatusOr<VerifiedClaim> result = Run(bundle);
  ExpectFailedCheck(result, "rebuild quorum");
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("MATCH attestations from R1 do not meet quorum"));

  // With a second trusted MATCH the outsider is simply left out.
  ASSERT_OK_AND_ASSIGN(
      const tlog::Bundle enough,
      BundleWith({match_entries_[0], outsider_match, match_entries_[1]}));
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified, Run(enough));
  EXPECT_THAT(verified.matched_rebuilders, ElementsAre("R1", "R2"));
}

TEST_F(VerifyTest, NoAttestationsFailTheRebuildQuorum) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle, BundleWith({}));
  const absl::StatusOr<VerifiedClaim> result = Run(bundle);
  ExpectFailedCheck(result, "rebuild quorum");
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("no policy rebuilder"));
}

TEST_F(VerifyTest, OneRebuilderCountsOnce) {
  ASSERT_OK_AND_ASSIGN(
      const LoggedEntry again,
      LogVerdict(claim_entry_, claim_, rebuilders_[0], Verdict::kMatch));
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       BundleWith({match_entries_[0], again}));
  ExpectFailedCheck(Run(bundle), "rebuild quorum");
}

TEST_F(VerifyTest, FailedVerdictDoesNotCount) {
  ASSERT_OK_AND_ASSIGN(
      const LoggedEntry failed,
      LogVerdict(claim_entry_, claim_, rebuilders_[1], Verdict::kFailed));
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       BundleWith({match_entries_[0], failed}));
  ExpectFailedCheck(Run(bundle), "rebuild quorum");
}

TEST_F(VerifyTest, TwoOfThreeRebuildersSuffice) {
  ASSERT_OK_AND_ASSIGN(const tlog::Bundle bundle,
                       BundleWith({match_entries_[2], match_entries_[1]}));
  ASSERT_OK_AND_ASSIGN(const VerifiedClaim verified, Run(bundle));
  // In policy order, whatever the bundle's order.
  EXPECT_THAT(verified.matched_rebuilders, ElementsAre("R2", "R3"));
}

}  // namespace
}  // namespace refsum::client
