#include "log/admission.h"

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "log/sequencer.h"
#include "log/storage.h"
#include "log/testing.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "statement/test_util.h"
#include "tlog/merkle.h"

namespace refsum::log {
namespace {

using ::refsum::log::testing::HashHex;
using ::refsum::log::testing::NewTempDir;
using ::refsum::log::testing::NewTestSigner;
using ::refsum::log::testing::SampleAttestation;
using ::refsum::log::testing::SampleClaim;
using ::refsum::log::testing::SeededHex;
using ::refsum::log::testing::SignAttestation;
using ::refsum::log::testing::SignClaim;
using ::refsum::log::testing::SignPayload;
using ::refsum::log::testing::TestLog;
using ::refsum::log::testing::TestSigner;
using ::refsum::log::testing::WriteTestFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;
using ::testing::StartsWith;

constexpr absl::string_view kOrigin = "log.refsum.example/admission-test";

std::string Bytes(absl::string_view hex) {
  absl::StatusOr<std::string> bytes = encoding::HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.value_or("");
}

class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(log_, TestLog::Create(kOrigin));
    ASSERT_OK_AND_ASSIGN(
        vendor_, NewTestSigner(crypto::KeyType::kEd25519, kRoleVendor, "acme"));
    ASSERT_OK_AND_ASSIGN(
        ecdsa_vendor_,
        NewTestSigner(crypto::KeyType::kEcdsaP256, kRoleVendor, "initech"));
    ASSERT_OK_AND_ASSIGN(
        rebuilder_,
        NewTestSigner(crypto::KeyType::kEd25519, kRoleRebuilder, "witness-a"));
    ASSERT_OK_AND_ASSIGN(ecdsa_rebuilder_,
                         NewTestSigner(crypto::KeyType::kEcdsaP256,
                                       kRoleRebuilder, "witness-b"));
    ASSERT_OK_AND_ASSIGN(
        stranger_, NewTestSigner(crypto::KeyType::kEd25519, kRoleOpen, ""));
    ASSERT_OK_AND_ASSIGN(
        ecdsa_stranger_,
        NewTestSigner(crypto::KeyType::kEcdsaP256, kRoleOpen, ""));
  }

  // An admission over the test log admitting the four configured signers,
  // and in open mode any key sent with a submission.
  std::unique_ptr<Admission> MakeAdmission(bool open) {
    AdmissionOptions options;
    options.origin = std::string(kOrigin);
    options.keys = {vendor_.key, ecdsa_vendor_.key, rebuilder_.key,
                    ecdsa_rebuilder_.key};
    options.open = open;
    absl::StatusOr<std::unique_ptr<Admission>> admission =
        Admission::Create(std::move(options), &log_->storage());
    EXPECT_TRUE(admission.ok()) << admission.status();
    return admission.ok() ? *std::move(admission) : nullptr;
  }

  // Admits `envelope` against the test log's current tree.
  absl::StatusOr<PendingEntry> Admit(const Admission& admission,
                                     const crypto::DsseEnvelope& envelope,
                                     absl::string_view public_key_pem = "") {
    return admission.Admit(envelope, public_key_pem, log_->size());
  }

  // Admits `envelope` and appends it to the test log; returns its index and
  // leaf hash.
  absl::StatusOr<Integrated> AdmitAndAppend(
      const Admission& admission, const crypto::DsseEnvelope& envelope,
      absl::string_view public_key_pem = "") {
    absl::StatusOr<PendingEntry> entry =
        Admit(admission, envelope, public_key_pem);
    if (!entry.ok()) return entry.status();
    return log_->Append(*std::move(entry));
  }

  std::unique_ptr<TestLog> log_;
  TestSigner vendor_;
  TestSigner ecdsa_vendor_;
  TestSigner rebuilder_;
  TestSigner ecdsa_rebuilder_;
  // Keys no configuration lists.
  TestSigner stranger_;
  TestSigner ecdsa_stranger_;
};

TEST_F(AdmissionTest, CreateRejectsConfiguredKeyThatDoesNotParse) {
  AdmissionOptions options;
  options.origin = std::string(kOrigin);
  options.keys = {KnownKey{"", std::string(kRoleVendor), "broken",
                           "-----BEGIN PUBLIC KEY-----\nAAAA\n"
                           "-----END PUBLIC KEY-----\n"}};
  absl::StatusOr<std::unique_ptr<Admission>> admission =
      Admission::Create(std::move(options), &log_->storage());
  ASSERT_FALSE(admission.ok());
  EXPECT_EQ(admission.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(admission.status().message(), HasSubstr("public key"));
}

TEST_F(AdmissionTest, FindConfiguredKeyReturnsConfiguredSignersOnly) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  const KnownKey* vendor = admission->FindConfiguredKey(vendor_.key.keyid);
  ASSERT_NE(vendor, nullptr);
  EXPECT_EQ(*vendor, vendor_.key);
  const KnownKey* rebuilder =
      admission->FindConfiguredKey(ecdsa_rebuilder_.key.keyid);
  ASSERT_NE(rebuilder, nullptr);
  EXPECT_EQ(*rebuilder, ecdsa_rebuilder_.key);
  EXPECT_EQ(admission->FindConfiguredKey(stranger_.key.keyid), nullptr);
  EXPECT_EQ(admission->FindConfiguredKey(""), nullptr);
}

TEST_F(AdmissionTest, CreateDerivesKeyidFromConfiguredPem) {
  AdmissionOptions options;
  options.origin = std::string(kOrigin);
  KnownKey key = vendor_.key;
  key.keyid = "";  // ReadKeysFile sets it, but the PEM is what counts.
  key.public_key_pem = absl::StrCat("\n", key.public_key_pem, "\n");
  options.keys = {key};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Admission> admission,
                       Admission::Create(std::move(options), &log_->storage()));
  const KnownKey* found = admission->FindConfiguredKey(vendor_.key.keyid);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, vendor_.key);
}

TEST_F(AdmissionTest, AdmitsClaimsFromConfiguredVendors) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  for (const TestSigner* vendor : {&vendor_, &ecdsa_vendor_}) {
    SCOPED_TRACE(vendor->key.name);
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         SignClaim(SampleClaim(vendor->key.name), *vendor));
    ASSERT_OK_AND_ASSIGN(PendingEntry entry, Admit(*admission, envelope));
    EXPECT_EQ(entry.leaf, crypto::EncodeDsseLeaf(envelope));
    // RFC 6962 leaf hash, computed here without tlog::HashLeaf.
    EXPECT_EQ(entry.leaf_hash,
              crypto::Sha256({absl::string_view("\0", 1), entry.leaf}));
    EXPECT_EQ(entry.new_key, std::nullopt);
  }
}

TEST_F(AdmissionTest, ClaimLookupKeysAreArtifactsReferenceValuesAndSource) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  statement::Claim claim = SampleClaim("lookup");
  statement::Subject second_subject = claim.subjects[0];
  second_subject.name = "os-image-lookup.qcow2";
  second_subject.digest = {{"sha256", SeededHex("second artifact", 64)},
                           {"sha512", SeededHex("second artifact", 128)}};
  claim.subjects.push_back(second_subject);
  statement::ReferenceValue rtmr;
  rtmr.platform = "intel-tdx";
  rtmr.kind = "rtmr";
  rtmr.index = 0;
  rtmr.digest = {"sha384", SeededHex("rtmr", 96)};
  claim.reference_values.push_back(rtmr);
  // The same digest again: listed once.
  rtmr.index = 1;
  claim.reference_values.push_back(rtmr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(claim, vendor_));

  ASSERT_OK_AND_ASSIGN(PendingEntry entry, Admit(*admission, envelope));

  EXPECT_THAT(
      entry.lookup_keys,
      ElementsAre(
          LookupKeyForArtifact(Bytes(claim.subjects[0].digest.at("sha256"))),
          LookupKeyForArtifact(Bytes(SeededHex("second artifact", 64))),
          LookupKeyForReferenceValue(
              "sha384", Bytes(claim.reference_values[0].digest.hex)),
          LookupKeyForReferenceValue(
              "sha256", Bytes(claim.reference_values[1].digest.hex)),
          LookupKeyForReferenceValue("sha384", Bytes(SeededHex("rtmr", 96))),
          LookupKeyForSource("https://github.com/example/os-image",
                             claim.source.commit)));
}

TEST_F(AdmissionTest, RejectsUnknownKeyInConfiguredModeEvenWhenSent) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("stranger"), stranger_));

  for (absl::string_view pem :
       {absl::string_view(""),
        absl::string_view(stranger_.key.public_key_pem)}) {
    absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope, pem);
    ASSERT_FALSE(entry.ok());
    EXPECT_EQ(entry.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(entry.status().message(), AllOf(HasSubstr(stranger_.key.keyid),
                                                HasSubstr("not admitted")));
  }
}

TEST_F(AdmissionTest, RejectsClaimSignedByRebuilder) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("by rebuilder"), rebuilder_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr(rebuilder_.key.keyid), HasSubstr("witness-a"),
                    HasSubstr("may not submit claims")));
}

TEST_F(AdmissionTest, RejectsBadSignatures) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  for (const TestSigner* vendor : {&vendor_, &ecdsa_vendor_}) {
    SCOPED_TRACE(vendor->key.name);
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope signed_envelope,
                         SignClaim(SampleClaim("signed"), *vendor));
    std::vector<crypto::DsseEnvelope> forgeries;
    // A flipped signature byte.
    forgeries.push_back(signed_envelope);
    forgeries.back().signatures[0].sig[10] ^= 0x01;
    // A payload changed after signing.
    ASSERT_OK_AND_ASSIGN(std::string other_payload,
                         statement::SerializeClaim(SampleClaim("other")));
    forgeries.push_back(signed_envelope);
    forgeries.back().payload = other_payload;
    // A stranger's signature under the vendor's keyid.
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope by_stranger,
                         SignClaim(SampleClaim("signed"), stranger_));
    by_stranger.signatures[0].keyid = vendor->key.keyid;
    forgeries.push_back(by_stranger);

    for (const crypto::DsseEnvelope& forgery : forgeries) {
      absl::StatusOr<PendingEntry> entry = Admit(*admission, forgery);
      ASSERT_FALSE(entry.ok());
      EXPECT_EQ(entry.status().code(), absl::StatusCode::kPermissionDenied);
      EXPECT_THAT(
          entry.status().message(),
          AllOf(HasSubstr("does not verify"), HasSubstr(vendor->key.keyid)));
    }
  }
}

TEST_F(AdmissionTest, RejectsEnvelopeWithoutSignatures) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("unsigned"), vendor_));
  envelope.signatures.clear();

  absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr("0 signatures"), HasSubstr("exactly one")));
}

TEST_F(AdmissionTest, RejectsEnvelopeWithTwoSignatures) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  const statement::Claim claim = SampleClaim("twice signed");
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(claim, vendor_));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope second,
                       SignClaim(claim, ecdsa_vendor_));
  envelope.signatures.push_back(second.signatures[0]);

  absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr("2 signatures"), HasSubstr("exactly one")));
}

TEST_F(AdmissionTest, RejectsSignatureWithoutKeyid) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("no keyid"), vendor_));
  envelope.signatures[0].keyid.clear();

  absl::StatusOr<PendingEntry> entry =
      Admit(*admission, envelope, vendor_.key.public_key_pem);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(), HasSubstr("no keyid"));
}

TEST_F(AdmissionTest, RejectsOtherPayloadType) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string payload,
                       statement::SerializeClaim(SampleClaim("type")));
  ASSERT_OK_AND_ASSIGN(
      crypto::DsseEnvelope envelope,
      SignPayload("application/vnd.in-toto.statement+json", payload, vendor_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr("payloadType"),
                    HasSubstr("application/vnd.in-toto.statement+json")));
}

TEST_F(AdmissionTest, RejectsPayloadThatIsNotJson) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(
      crypto::DsseEnvelope envelope,
      SignPayload(statement::kPayloadType, "{\"_type\": ", vendor_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(), HasSubstr("JSON"));
}

TEST_F(AdmissionTest, RejectsUnknownPredicateType) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string claim,
                       statement::SerializeClaim(SampleClaim("predicate")));
  ASSERT_OK_AND_ASSIGN(
      std::string payload,
      statement::EditJson(claim, "predicateType",
                          "\"https://slsa.dev/provenance/v1\""));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignPayload(statement::kPayloadType, payload, vendor_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr("predicateType"),
                    HasSubstr("https://slsa.dev/provenance/v1")));
}

TEST_F(AdmissionTest, RejectsPayloadWithoutPredicateType) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string claim,
                       statement::SerializeClaim(SampleClaim("predicate")));
  ASSERT_OK_AND_ASSIGN(
      std::string payload,
      statement::EditJson(claim, "predicateType", std::nullopt));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignPayload(statement::kPayloadType, payload, vendor_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(), HasSubstr("predicateType"));
}

TEST_F(AdmissionTest, RejectsClaimWithUnknownField) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string claim,
                       statement::SerializeClaim(SampleClaim("strict")));
  ASSERT_OK_AND_ASSIGN(
      std::string payload,
      statement::EditJson(claim, "predicate.source.branch", "\"main\""));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignPayload(statement::kPayloadType, payload, vendor_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      entry.status().message(),
      AllOf(HasSubstr("predicate.source.branch"), HasSubstr("unknown field")));
}

TEST_F(AdmissionTest, RejectsClaimFailingValidation) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string claim,
                       statement::SerializeClaim(SampleClaim("strict")));
  ASSERT_OK_AND_ASSIGN(std::string payload,
                       statement::EditJson(claim, "predicate.source.commit",
                                           "\"not-a-commit\""));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignPayload(statement::kPayloadType, payload, vendor_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(), HasSubstr("predicate.source.commit"));
}

// A claim whose value names an unknown calculator, an unknown role or an
// input that is not one of its subjects is refused, naming the field
// (issue 13).
TEST_F(AdmissionTest, RejectsClaimWithABadCalculator) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  statement::Claim claim = SampleClaim("calculated");
  const std::string subject = claim.subjects[0].name;
  const struct {
    statement::Calculator calculator;
    std::string field;
  } cases[] = {
      {{"pcr-guesser", {{"uki", subject}}},
       "predicate.referenceValues[1].calculator.name: unknown calculator"},
      {{"uki-pcr", {{"firmware", subject}}},
       "predicate.referenceValues[1].calculator.inputs.firmware: unknown role"},
      {{"uki-pcr", {{"uki", "not-a-subject.efi"}}},
       "predicate.referenceValues[1].calculator.inputs.uki: names no subject"},
  };
  for (const auto& test : cases) {
    ASSERT_OK_AND_ASSIGN(std::string good,
                         statement::SerializeClaim(claim));
    // Serialize refuses the bad claim itself, so the field goes in by hand.
    ASSERT_OK_AND_ASSIGN(
        std::string payload,
        statement::EditJson(
            good, "predicate.referenceValues.1.calculator",
            absl::StrCat("{\"name\":\"", test.calculator.name,
                         "\",\"inputs\":{\"",
                         test.calculator.inputs.begin()->first, "\":\"",
                         test.calculator.inputs.begin()->second, "\"}}")));
    ASSERT_OK_AND_ASSIGN(
        crypto::DsseEnvelope envelope,
        SignPayload(statement::kPayloadType, payload, vendor_));
    absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);
    ASSERT_FALSE(entry.ok()) << test.field;
    EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(entry.status().message(), HasSubstr(test.field));
  }
}

// Signs a payload of `payload_size` bytes that is not JSON (only the leaf
// size matters here) with `signer`.
absl::StatusOr<crypto::DsseEnvelope> SignFiller(size_t payload_size,
                                                const TestSigner& signer) {
  return SignPayload(statement::kPayloadType, std::string(payload_size, 'x'),
                     signer);
}

// Returns the payload size that makes `signer`'s leaf exactly `leaf_size`
// bytes (Ed25519 signatures have a fixed size).
absl::StatusOr<size_t> PayloadSizeForLeaf(size_t leaf_size,
                                          const TestSigner& signer) {
  size_t payload_size = leaf_size;
  for (int attempt = 0; attempt < 8; ++attempt) {
    absl::StatusOr<crypto::DsseEnvelope> envelope =
        SignFiller(payload_size, signer);
    if (!envelope.ok()) return envelope.status();
    const size_t size = crypto::EncodeDsseLeaf(*envelope).size();
    if (size == leaf_size) return payload_size;
    payload_size = payload_size + leaf_size - size;
  }
  return absl::InternalError("no payload size gives that leaf size");
}

TEST_F(AdmissionTest, RejectsLeafOverLimitButNotAtLimit) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/false);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(size_t payload_size, PayloadSizeForLeaf(65535, vendor_));

  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope at_limit,
                       SignFiller(payload_size, vendor_));
  ASSERT_EQ(crypto::EncodeDsseLeaf(at_limit).size(), 65535u);
  absl::StatusOr<PendingEntry> entry = Admit(*admission, at_limit);
  // Passes the size check; fails later because the payload is not JSON.
  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr("JSON"), Not(HasSubstr("limit"))));

  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope over_limit,
                       SignFiller(payload_size + 1, vendor_));
  ASSERT_EQ(crypto::EncodeDsseLeaf(over_limit).size(), 65536u);
  entry = Admit(*admission, over_limit);
  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr("65536 bytes"), HasSubstr("65535")));
}

TEST_F(AdmissionTest, OpenModeAdmitsSentKeyAndReturnsItAsNewKey) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  for (const TestSigner* signer : {&stranger_, &ecdsa_stranger_}) {
    SCOPED_TRACE(signer->key.keyid);
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         SignClaim(SampleClaim(signer->key.keyid), *signer));
    // Whitespace around the PEM block is allowed; the stored PEM is canonical.
    ASSERT_OK_AND_ASSIGN(
        PendingEntry entry,
        Admit(*admission, envelope,
              absl::StrCat("\n", signer->key.public_key_pem, "\n\n")));
    EXPECT_THAT(entry.new_key,
                Optional(KnownKey{signer->key.keyid, std::string(kRoleOpen), "",
                                  signer->key.public_key_pem}));
    EXPECT_EQ(entry.leaf, crypto::EncodeDsseLeaf(envelope));
  }
}

TEST_F(AdmissionTest, OpenModeKeyMaySubmitClaimsAndAttestations) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  const statement::Claim claim = SampleClaim("open");
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope claim_envelope,
                       SignClaim(claim, stranger_));
  ASSERT_OK_AND_ASSIGN(
      Integrated logged,
      AdmitAndAppend(*admission, claim_envelope, stranger_.key.public_key_pem));
  ASSERT_OK_AND_ASSIGN(
      crypto::DsseEnvelope attestation_envelope,
      SignAttestation(SampleAttestation(claim, kOrigin, logged.index,
                                        tlog::HashLeaf(crypto::EncodeDsseLeaf(
                                            claim_envelope))),
                      ecdsa_stranger_));

  ASSERT_OK_AND_ASSIGN(PendingEntry entry,
                       Admit(*admission, attestation_envelope,
                             ecdsa_stranger_.key.public_key_pem));
  EXPECT_THAT(entry.lookup_keys,
              ElementsAre(LookupKeyForAttestationsOf(logged.index)));
}

TEST_F(AdmissionTest, OpenModeKeepsRolesOfConfiguredKeys) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(
      crypto::DsseEnvelope envelope,
      SignClaim(SampleClaim("rebuilder claim"), ecdsa_rebuilder_));

  absl::StatusOr<PendingEntry> entry =
      Admit(*admission, envelope, ecdsa_rebuilder_.key.public_key_pem);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(entry.status().message(), HasSubstr("may not submit claims"));
}

TEST_F(AdmissionTest, OpenModeDoesNotReturnConfiguredKeyAsNewKey) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("vendor in open"), vendor_));

  ASSERT_OK_AND_ASSIGN(PendingEntry entry,
                       Admit(*admission, envelope, vendor_.key.public_key_pem));

  EXPECT_EQ(entry.new_key, std::nullopt);
}

TEST_F(AdmissionTest, OpenModeRejectsSentKeyWithOtherKeyid) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("mismatch"), stranger_));

  absl::StatusOr<PendingEntry> entry =
      Admit(*admission, envelope, ecdsa_stranger_.key.public_key_pem);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr(stranger_.key.keyid),
                    HasSubstr(ecdsa_stranger_.key.keyid)));
}

TEST_F(AdmissionTest, OpenModeRejectsMissingKey) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("keyless"), stranger_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      entry.status().message(),
      AllOf(HasSubstr(stranger_.key.keyid), HasSubstr("send its public key")));
}

TEST_F(AdmissionTest, OpenModeRejectsSentKeyThatDoesNotParse) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("garbage key"), stranger_));

  absl::StatusOr<PendingEntry> entry =
      Admit(*admission, envelope, "not a PEM block");

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(), HasSubstr("public key"));
}

TEST_F(AdmissionTest, OpenModeFindsStoredKeyWithoutItBeingSent) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope first,
                       SignClaim(SampleClaim("first"), ecdsa_stranger_));
  ASSERT_OK_AND_ASSIGN(
      Integrated logged,
      AdmitAndAppend(*admission, first, ecdsa_stranger_.key.public_key_pem));
  ASSERT_FALSE(logged.duplicate);
  ASSERT_OK_AND_ASSIGN(std::optional<KnownKey> stored,
                       log_->storage().ReadKey(ecdsa_stranger_.key.keyid));
  ASSERT_THAT(stored, Optional(KnownKey{ecdsa_stranger_.key.keyid,
                                        std::string(kRoleOpen), "",
                                        ecdsa_stranger_.key.public_key_pem}));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope second,
                       SignClaim(SampleClaim("second"), ecdsa_stranger_));

  // By the admission that saw the key, and by a new one (a restarted log).
  std::unique_ptr<Admission> restarted = MakeAdmission(/*open=*/true);
  ASSERT_NE(restarted, nullptr);
  for (const Admission* current : {admission.get(), restarted.get()}) {
    ASSERT_OK_AND_ASSIGN(PendingEntry entry, Admit(*current, second));
    EXPECT_EQ(entry.new_key, std::nullopt);
    // Asked again, now from the admission's memory of the stored key.
    ASSERT_OK_AND_ASSIGN(entry, Admit(*current, second));
    EXPECT_EQ(entry.new_key, std::nullopt);
  }
}

TEST_F(AdmissionTest, OpenModeNeedsKeyAgainUntilItIsStored) {
  std::unique_ptr<Admission> admission = MakeAdmission(/*open=*/true);
  ASSERT_NE(admission, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope first,
                       SignClaim(SampleClaim("first"), stranger_));
  ASSERT_OK_AND_ASSIGN(PendingEntry admitted,
                       Admit(*admission, first, stranger_.key.public_key_pem));
  ASSERT_TRUE(admitted.new_key.has_value());
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope second,
                       SignClaim(SampleClaim("second"), stranger_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission, second);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(), HasSubstr("send its public key"));
}

TEST_F(AdmissionTest, ConfiguredModeIgnoresKeysStoredInOpenMode) {
  std::unique_ptr<Admission> open = MakeAdmission(/*open=*/true);
  ASSERT_NE(open, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope first,
                       SignClaim(SampleClaim("first"), stranger_));
  ASSERT_OK_AND_ASSIGN(
      Integrated logged,
      AdmitAndAppend(*open, first, stranger_.key.public_key_pem));
  std::unique_ptr<Admission> configured = MakeAdmission(/*open=*/false);
  ASSERT_NE(configured, nullptr);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope second,
                       SignClaim(SampleClaim("second"), stranger_));

  absl::StatusOr<PendingEntry> entry = Admit(*configured, second);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(entry.status().message(), HasSubstr("not admitted"));
}

// A log holding one claim by the Ed25519 vendor at index 0.
class AttestationAdmissionTest : public AdmissionTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AdmissionTest::SetUp());
    admission_ = MakeAdmission(/*open=*/false);
    ASSERT_NE(admission_, nullptr);
    claim_ = SampleClaim("attested");
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         SignClaim(claim_, vendor_));
    claim_leaf_hash_ = tlog::HashLeaf(crypto::EncodeDsseLeaf(envelope));
    ASSERT_OK_AND_ASSIGN(Integrated logged,
                         AdmitAndAppend(*admission_, envelope));
    ASSERT_EQ(logged.index, 0u);
  }

  statement::RebuildAttestation Attestation() const {
    return SampleAttestation(claim_, kOrigin, 0, claim_leaf_hash_);
  }

  std::unique_ptr<Admission> admission_;
  statement::Claim claim_;
  tlog::Hash claim_leaf_hash_ = {};
};

TEST_F(AttestationAdmissionTest, AdmitsAttestationsFromConfiguredRebuilders) {
  for (const TestSigner* rebuilder : {&rebuilder_, &ecdsa_rebuilder_}) {
    SCOPED_TRACE(rebuilder->key.name);
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         SignAttestation(Attestation(), *rebuilder));

    ASSERT_OK_AND_ASSIGN(PendingEntry entry, Admit(*admission_, envelope));

    EXPECT_EQ(entry.leaf, crypto::EncodeDsseLeaf(envelope));
    EXPECT_EQ(entry.leaf_hash, tlog::HashLeaf(entry.leaf));
    EXPECT_THAT(entry.lookup_keys, ElementsAre(LookupKeyForAttestationsOf(0)));
    EXPECT_EQ(entry.new_key, std::nullopt);
  }
}

TEST_F(AttestationAdmissionTest, RejectsAttestationSignedByVendor) {
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignAttestation(Attestation(), ecdsa_vendor_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission_, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr(ecdsa_vendor_.key.keyid), HasSubstr("initech"),
                    HasSubstr("may not submit rebuild attestations")));
}

TEST_F(AttestationAdmissionTest, RejectsAttestationForOtherLog) {
  statement::RebuildAttestation attestation = Attestation();
  attestation.claim.origin = "other.example/log";
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignAttestation(attestation, rebuilder_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission_, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      entry.status().message(),
      AllOf(HasSubstr("predicate.claim.origin"), HasSubstr("other.example/log"),
            HasSubstr(std::string(kOrigin))));
}

TEST_F(AttestationAdmissionTest, RejectsClaimIndexBeyondTree) {
  statement::RebuildAttestation attestation = Attestation();
  attestation.claim.index = 1;
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignAttestation(attestation, rebuilder_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission_, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      entry.status().message(),
      AllOf(HasSubstr("predicate.claim.index"), HasSubstr("not in the log")));
}

TEST_F(AttestationAdmissionTest, JudgesClaimIndexByGivenTreeSize) {
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignAttestation(Attestation(), rebuilder_));

  // Entry 0 is stored, but not in a tree of size 0.
  absl::StatusOr<PendingEntry> entry =
      admission_->Admit(envelope, "", /*tree_size=*/0);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(entry.status().message(), HasSubstr("tree size 0"));
}

TEST_F(AttestationAdmissionTest, RejectsWrongLeafHash) {
  statement::RebuildAttestation attestation = Attestation();
  attestation.claim.leaf_hash = HashHex(tlog::HashLeaf("another leaf"));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignAttestation(attestation, rebuilder_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission_, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr("predicate.claim.leafHash"),
                    HasSubstr(HashHex(claim_leaf_hash_))));
}

TEST_F(AttestationAdmissionTest, RejectsIndexOfAnAttestation) {
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope first,
                       SignAttestation(Attestation(), rebuilder_));
  ASSERT_OK_AND_ASSIGN(Integrated logged, AdmitAndAppend(*admission_, first));
  ASSERT_EQ(logged.index, 1u);
  // An attestation of the attestation at index 1, with its true leaf hash.
  const statement::RebuildAttestation attestation = SampleAttestation(
      claim_, kOrigin, 1, tlog::HashLeaf(crypto::EncodeDsseLeaf(first)));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignAttestation(attestation, ecdsa_rebuilder_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission_, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr("entry 1"), HasSubstr("not a claim")));
}

TEST_F(AttestationAdmissionTest, RejectsSubjectDifferingFromClaim) {
  statement::RebuildAttestation attestation = Attestation();
  attestation.subjects[0].digest["sha256"] = SeededHex("other artifact", 64);
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignAttestation(attestation, rebuilder_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission_, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(), HasSubstr("subject"));
}

TEST_F(AttestationAdmissionTest, RejectsAttestationWithUnknownField) {
  ASSERT_OK_AND_ASSIGN(std::string payload,
                       statement::SerializeRebuildAttestation(Attestation()));
  ASSERT_OK_AND_ASSIGN(payload,
                       statement::EditJson(payload, "predicate.score", "10"));
  ASSERT_OK_AND_ASSIGN(
      crypto::DsseEnvelope envelope,
      SignPayload(statement::kPayloadType, payload, rebuilder_));

  absl::StatusOr<PendingEntry> entry = Admit(*admission_, envelope);

  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(entry.status().message(),
              AllOf(HasSubstr("predicate.score"), HasSubstr("unknown field")));
}

// ReadKeysFile.

class ReadKeysFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, NewTempDir("keys"));
    ASSERT_EQ(mkdir((dir_ + "/sub").c_str(), 0755), 0);
    ASSERT_OK_AND_ASSIGN(
        acme_, NewTestSigner(crypto::KeyType::kEd25519, kRoleVendor, "acme"));
    ASSERT_OK_AND_ASSIGN(witness_, NewTestSigner(crypto::KeyType::kEcdsaP256,
                                                 kRoleRebuilder, "witness-a"));
    ASSERT_OK_AND_ASSIGN(initech_, NewTestSigner(crypto::KeyType::kEcdsaP256,
                                                 kRoleVendor, "initech"));
    ASSERT_OK(WriteTestFile(dir_ + "/acme.pem", acme_.key.public_key_pem));
    // Surrounding whitespace is allowed in a PEM file.
    ASSERT_OK(
        WriteTestFile(dir_ + "/sub/witness.pem",
                      absl::StrCat("\n", witness_.key.public_key_pem, "\n")));
    ASSERT_OK(
        WriteTestFile(dir_ + "/initech.pem", initech_.key.public_key_pem));
  }

  // Writes a keys file with `contents` and returns its path.
  std::string KeysFile(absl::string_view contents) {
    const std::string path = dir_ + "/keys.txt";
    EXPECT_OK(WriteTestFile(path, contents));
    return path;
  }

  std::string dir_;
  TestSigner acme_;
  TestSigner witness_;
  TestSigner initech_;
};

TEST_F(ReadKeysFileTest, ReadsSignersWithCommentsAndRelativePaths) {
  const std::string path =
      KeysFile(absl::StrCat("# Signers admitted by this log.\n"
                            "vendor acme acme.pem\n"
                            "\n"
                            "   # an indented comment\n"
                            "rebuilder\twitness-a\tsub/witness.pem\r\n"
                            "  vendor   initech   ",
                            dir_, "/initech.pem  \n"));

  ASSERT_OK_AND_ASSIGN(std::vector<KnownKey> keys, ReadKeysFile(path));

  EXPECT_THAT(keys, ElementsAre(acme_.key, witness_.key, initech_.key));
}

TEST_F(ReadKeysFileTest, ReadsEmptyFile) {
  ASSERT_OK_AND_ASSIGN(std::vector<KnownKey> keys,
                       ReadKeysFile(KeysFile("# nobody yet\n\n")));
  EXPECT_THAT(keys, IsEmpty());
}

TEST_F(ReadKeysFileTest, FailsForMissingFile) {
  const std::string path = dir_ + "/absent.txt";

  absl::StatusOr<std::vector<KnownKey>> keys = ReadKeysFile(path);

  ASSERT_FALSE(keys.ok());
  EXPECT_THAT(keys.status().message(), HasSubstr(path));
}

struct BadLine {
  std::string description;
  std::string line;
  // Expected in the message besides "<file>:3: ".
  std::string problem;
};

void PrintTo(const BadLine& bad, std::ostream* os) { *os << bad.description; }

class ReadKeysFileBadLineTest : public ReadKeysFileTest,
                                public ::testing::WithParamInterface<BadLine> {
};

TEST_P(ReadKeysFileBadLineTest, RejectsNamingFileAndLine) {
  const std::string path = KeysFile(
      absl::StrCat("# signers\nvendor acme acme.pem\n", GetParam().line, "\n"));

  absl::StatusOr<std::vector<KnownKey>> keys = ReadKeysFile(path);

  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(keys.status().message()),
              AllOf(StartsWith(absl::StrCat(path, ":3: ")),
                    HasSubstr(GetParam().problem)));
}

INSTANTIATE_TEST_SUITE_P(
    BadLines, ReadKeysFileBadLineTest,
    ::testing::Values(
        BadLine{"TwoFields", "vendor initech", "vendor NAME PEMFILE"},
        BadLine{"FourFields", "vendor initech initech.pem extra",
                "vendor NAME PEMFILE"},
        BadLine{"TrailingComment", "vendor initech initech.pem # comment",
                "vendor NAME PEMFILE"},
        BadLine{"UnknownRole", "auditor initech initech.pem",
                "vendor NAME PEMFILE"},
        BadLine{"RoleInCapitals", "Vendor initech initech.pem",
                "vendor NAME PEMFILE"},
        BadLine{"OpenRole", "open initech initech.pem", "vendor NAME PEMFILE"},
        BadLine{"MissingPemFile", "vendor ghost ghost.pem", "ghost.pem"},
        BadLine{"PemIsNotAKey", "vendor self keys.txt", "keys.txt"},
        BadLine{"DuplicateName", "rebuilder acme sub/witness.pem", "acme"},
        BadLine{"DuplicateKey", "rebuilder acme-again acme.pem", "acme-again"}),
    [](const ::testing::TestParamInfo<BadLine>& info) {
      return info.param.description;
    });

TEST_F(ReadKeysFileTest, RejectsPrivateKeyFile) {
  ASSERT_OK_AND_ASSIGN(crypto::PrivateKey key,
                       crypto::PrivateKey::Generate(crypto::KeyType::kEd25519));
  ASSERT_OK_AND_ASSIGN(std::string private_pem, key.ToPem());
  ASSERT_OK(WriteTestFile(dir_ + "/private.pem", private_pem));
  const std::string path = KeysFile("vendor leaky private.pem\n");

  absl::StatusOr<std::vector<KnownKey>> keys = ReadKeysFile(path);

  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(keys.status().message()),
      AllOf(StartsWith(absl::StrCat(path, ":1: ")), HasSubstr("private.pem")));
}

}  // namespace
}  // namespace refsum::log
