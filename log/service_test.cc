#include "log/service.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/note.h"
#include "crypto/sha256.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "log/admission.h"
#include "log/storage.h"
#include "log/testing.h"
#include "proto/log.grpc.pb.h"
#include "statement/attestation.h"
#include "statement/claim.h"
#include "statement/in_toto.h"
#include "statement/test_util.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"
#include "tlog/tlog_proof.h"

namespace refsum::log {
namespace {

using ::refsum::log::testing::HashHex;
using ::refsum::log::testing::kTimeout;
using ::refsum::log::testing::NewTestSigner;
using ::refsum::log::testing::SampleAttestation;
using ::refsum::log::testing::SampleClaim;
using ::refsum::log::testing::SeededHex;
using ::refsum::log::testing::SignAttestation;
using ::refsum::log::testing::SignClaim;
using ::refsum::log::testing::SignPayload;
using ::refsum::log::testing::TestLog;
using ::refsum::log::testing::TestSigner;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr absl::string_view kOrigin = "log.refsum.example/service-test";
// Small, so that paging shows with a handful of entries.
constexpr uint32_t kMaxPageSize = 4;

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// The RFC 6962 leaf hash SHA-256(0x00 || leaf), computed here rather than
// with the code under test.
tlog::Hash Rfc6962LeafHash(absl::string_view leaf) {
  return crypto::Sha256({absl::string_view("\0", 1), leaf});
}

std::string HashBytes(const tlog::Hash& hash) {
  return std::string(crypto::DigestBytes(hash));
}

std::vector<tlog::Hash> HashesFromBytes(
    const google::protobuf::RepeatedPtrField<std::string>& bytes) {
  std::vector<tlog::Hash> hashes;
  for (const std::string& value : bytes) {
    tlog::Hash hash = {};
    EXPECT_EQ(value.size(), hash.size());
    std::copy_n(value.begin(), std::min(value.size(), hash.size()),
                hash.begin());
    hashes.push_back(hash);
  }
  return hashes;
}

std::vector<uint64_t> Indices(const refsum::v1::IndexPage& page) {
  return std::vector<uint64_t>(page.indices().begin(), page.indices().end());
}

refsum::v1::Digest ProtoDigest(const statement::Digest& digest) {
  refsum::v1::Digest proto;
  proto.set_algorithm(digest.algorithm);
  proto.set_hex(digest.hex);
  return proto;
}

// An entry the test logged through the service.
struct Logged {
  uint64_t index = 0;
  std::string leaf;
  refsum::v1::SubmitResponse response;
};

// A LogService over a real log (RocksDB, sequencer, Ed25519 log key) on an
// in-process gRPC server on a free loopback port, called through a real stub.
class LogServiceTest : public ::testing::Test {
 protected:
  // Whether the log admits keys sent with submissions.
  virtual bool OpenMode() const { return false; }
  // The sequencer's options.
  virtual SequencerOptions LogSequencerOptions() const { return {}; }
  // Adjusts the service's options.
  virtual void ConfigureService(ServiceOptions& /*options*/) {}

  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(log_, TestLog::Create(kOrigin, LogSequencerOptions()));
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
        stranger_, NewTestSigner(crypto::KeyType::kEcdsaP256, kRoleOpen, ""));

    AdmissionOptions admission_options;
    admission_options.origin = std::string(kOrigin);
    admission_options.keys = {vendor_.key, ecdsa_vendor_.key, rebuilder_.key,
                              ecdsa_rebuilder_.key};
    admission_options.open = OpenMode();
    ASSERT_OK_AND_ASSIGN(
        admission_,
        Admission::Create(std::move(admission_options), &log_->storage()));
    ServiceOptions service_options;
    service_options.max_page_size = kMaxPageSize;
    ConfigureService(service_options);
    service_ =
        std::make_unique<LogService>(&log_->storage(), &log_->sequencer(),
                                     admission_.get(), service_options);

    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    stub_ = refsum::v1::Log::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now() +
                        absl::ToChronoSeconds(kTimeout));
    }
  }

  // A client context whose deadline only bounds a hung call.
  static void SetDeadline(grpc::ClientContext* context) {
    context->set_deadline(std::chrono::system_clock::now() +
                          absl::ToChronoSeconds(kTimeout));
  }

  grpc::Status Submit(const refsum::v1::SubmitRequest& request,
                      refsum::v1::SubmitResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return stub_->Submit(&context, request, response);
  }
  grpc::Status GetCheckpoint(refsum::v1::GetCheckpointResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return stub_->GetCheckpoint(&context, refsum::v1::GetCheckpointRequest(),
                                response);
  }
  grpc::Status GetEntries(uint64_t start, uint32_t count,
                          refsum::v1::GetEntriesResponse* response) {
    refsum::v1::GetEntriesRequest request;
    request.set_start(start);
    request.set_count(count);
    grpc::ClientContext context;
    SetDeadline(&context);
    return stub_->GetEntries(&context, request, response);
  }
  grpc::Status GetInclusionProof(
      const refsum::v1::GetInclusionProofRequest& request,
      refsum::v1::GetInclusionProofResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return stub_->GetInclusionProof(&context, request, response);
  }
  grpc::Status GetConsistencyProof(
      uint64_t old_size, uint64_t new_size,
      refsum::v1::GetConsistencyProofResponse* response) {
    refsum::v1::GetConsistencyProofRequest request;
    request.set_old_size(old_size);
    request.set_new_size(new_size);
    grpc::ClientContext context;
    SetDeadline(&context);
    return stub_->GetConsistencyProof(&context, request, response);
  }
  grpc::Status Find(const refsum::v1::FindRequest& request,
                    refsum::v1::IndexPage* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return stub_->Find(&context, request, response);
  }
  grpc::Status GetAttestations(
      const refsum::v1::GetAttestationsRequest& request,
      refsum::v1::IndexPage* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return stub_->GetAttestations(&context, request, response);
  }
  grpc::Status GetBundle(const refsum::v1::GetBundleRequest& request,
                         refsum::v1::GetBundleResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return stub_->GetBundle(&context, request, response);
  }
  grpc::Status GetKey(absl::string_view keyid,
                      refsum::v1::GetKeyResponse* response) {
    refsum::v1::GetKeyRequest request;
    request.set_keyid(std::string(keyid));
    grpc::ClientContext context;
    SetDeadline(&context);
    return stub_->GetKey(&context, request, response);
  }

  // Submits `envelope` as JSON.
  absl::StatusOr<Logged> SubmitEnvelope(const crypto::DsseEnvelope& envelope,
                                        absl::string_view public_key_pem = "") {
    refsum::v1::SubmitRequest request;
    request.set_envelope_json(crypto::EncodeDsseJson(envelope));
    request.set_public_key_pem(std::string(public_key_pem));
    Logged logged;
    RETURN_IF_ERROR(FromGrpc(Submit(request, &logged.response)));
    logged.index = logged.response.index();
    logged.leaf = crypto::EncodeDsseLeaf(envelope);
    return logged;
  }

  absl::StatusOr<Logged> SubmitClaim(const statement::Claim& claim,
                                     const TestSigner& signer) {
    ASSIGN_OR_RETURN(crypto::DsseEnvelope envelope, SignClaim(claim, signer));
    return SubmitEnvelope(envelope);
  }

  // Submits a MATCH attestation of `claim`, logged as `claim_entry`.
  absl::StatusOr<Logged> SubmitAttestation(const statement::Claim& claim,
                                           const Logged& claim_entry,
                                           const TestSigner& signer) {
    ASSIGN_OR_RETURN(
        crypto::DsseEnvelope envelope,
        SignAttestation(SampleAttestation(claim, kOrigin, claim_entry.index,
                                          tlog::HashLeaf(claim_entry.leaf)),
                        signer));
    return SubmitEnvelope(envelope);
  }

  // Opens `note` with the log's key and returns its checkpoint.
  absl::StatusOr<tlog::Checkpoint> OpenCheckpoint(absl::string_view note) {
    const crypto::NoteVerifier* verifiers[] = {&log_->verifier()};
    ASSIGN_OR_RETURN(crypto::VerifiedNote verified,
                     crypto::OpenNote(note, verifiers));
    ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint,
                     tlog::ParseCheckpointBody(verified.text));
    if (checkpoint.origin != kOrigin) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint of ", checkpoint.origin));
    }
    return checkpoint;
  }

  // Checks that `proof` proves `leaf` at `index` against a checkpoint the
  // log signed; returns that checkpoint.
  absl::StatusOr<tlog::Checkpoint> VerifyProof(const tlog::TlogProof& proof,
                                               uint64_t index,
                                               absl::string_view leaf) {
    if (proof.index != index) {
      return absl::InvalidArgumentError(
          absl::StrCat("proof of index ", proof.index, ", not ", index));
    }
    ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint,
                     OpenCheckpoint(proof.checkpoint));
    RETURN_IF_ERROR(
        tlog::VerifyInclusion(index, checkpoint.size, Rfc6962LeafHash(leaf),
                              proof.inclusion_proof, checkpoint.root));
    return checkpoint;
  }

  // Checks everything a SubmitResponse promises for `leaf`: the leaf hash, a
  // checkpoint signed by the log, and a tlog-proof against that checkpoint.
  ::testing::AssertionResult VerifiesSubmission(
      const refsum::v1::SubmitResponse& response, absl::string_view leaf) {
    if (response.leaf_hash() != HashBytes(Rfc6962LeafHash(leaf))) {
      return ::testing::AssertionFailure() << "wrong leaf hash";
    }
    absl::StatusOr<tlog::Checkpoint> checkpoint =
        OpenCheckpoint(response.checkpoint());
    if (!checkpoint.ok()) {
      return ::testing::AssertionFailure()
             << "checkpoint: " << checkpoint.status();
    }
    absl::StatusOr<tlog::TlogProof> proof =
        tlog::ParseTlogProof(response.tlog_proof());
    if (!proof.ok()) {
      return ::testing::AssertionFailure() << "tlog-proof: " << proof.status();
    }
    if (proof->checkpoint != response.checkpoint()) {
      return ::testing::AssertionFailure()
             << "the tlog-proof is against another checkpoint";
    }
    absl::StatusOr<tlog::Checkpoint> proved =
        VerifyProof(*proof, response.index(), leaf);
    if (!proved.ok()) {
      return ::testing::AssertionFailure()
             << "inclusion proof: " << proved.status();
    }
    return ::testing::AssertionSuccess();
  }

  // Decodes a bundle and verifies each proof in it against its checkpoint,
  // which must be the same for all and signed by the log.
  ::testing::AssertionResult VerifiesBundle(absl::string_view json,
                                            tlog::Bundle* bundle) {
    absl::StatusOr<tlog::Bundle> decoded = tlog::DecodeBundle(json);
    if (!decoded.ok()) {
      return ::testing::AssertionFailure() << decoded.status();
    }
    std::optional<std::string> checkpoint;
    const auto verify = [&](const tlog::BundleEntry& entry) -> absl::Status {
      if (checkpoint.has_value() && *checkpoint != entry.proof.checkpoint) {
        return absl::InvalidArgumentError("proofs against two checkpoints");
      }
      checkpoint = entry.proof.checkpoint;
      return VerifyProof(entry.proof, entry.proof.index, entry.leaf).status();
    };
    for (const tlog::BundleClaim& claim : decoded->claims) {
      if (absl::Status status = verify(claim.claim); !status.ok()) {
        return ::testing::AssertionFailure()
               << "claim " << claim.claim.proof.index << ": " << status;
      }
      for (const tlog::BundleEntry& attestation : claim.attestations) {
        if (absl::Status status = verify(attestation); !status.ok()) {
          return ::testing::AssertionFailure()
                 << "attestation " << attestation.proof.index << ": " << status;
        }
      }
    }
    *bundle = *std::move(decoded);
    return ::testing::AssertionSuccess();
  }

  // The newest checkpoint, verified.
  absl::StatusOr<tlog::Checkpoint> LatestCheckpoint() {
    refsum::v1::GetCheckpointResponse response;
    RETURN_IF_ERROR(FromGrpc(GetCheckpoint(&response)));
    return OpenCheckpoint(response.checkpoint());
  }

  std::unique_ptr<TestLog> log_;
  TestSigner vendor_;
  TestSigner ecdsa_vendor_;
  TestSigner rebuilder_;
  TestSigner ecdsa_rebuilder_;
  // A key no configuration lists.
  TestSigner stranger_;
  std::unique_ptr<Admission> admission_;
  std::unique_ptr<LogService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<refsum::v1::Log::Stub> stub_;
};

class OpenLogServiceTest : public LogServiceTest {
 protected:
  bool OpenMode() const override { return true; }
};

// Submit.

TEST_F(LogServiceTest, SubmitEnvelopeJsonReturnsVerifiableProof) {
  for (uint64_t expected_index : {0, 1}) {
    ASSERT_OK_AND_ASSIGN(
        crypto::DsseEnvelope envelope,
        SignClaim(SampleClaim(absl::StrCat("claim ", expected_index)),
                  vendor_));
    refsum::v1::SubmitRequest request;
    request.set_envelope_json(crypto::EncodeDsseJson(envelope));
    refsum::v1::SubmitResponse response;

    const grpc::Status status = Submit(request, &response);

    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.index(), expected_index);
    EXPECT_FALSE(response.duplicate());
    EXPECT_TRUE(VerifiesSubmission(response, crypto::EncodeDsseLeaf(envelope)));
  }
}

TEST_F(LogServiceTest, SubmitLeafReturnsVerifiableProof) {
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("leaf"), ecdsa_vendor_));
  const std::string leaf = crypto::EncodeDsseLeaf(envelope);
  refsum::v1::SubmitRequest request;
  request.set_leaf(leaf);
  refsum::v1::SubmitResponse response;

  const grpc::Status status = Submit(request, &response);

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.index(), 0u);
  EXPECT_FALSE(response.duplicate());
  EXPECT_TRUE(VerifiesSubmission(response, leaf));
  refsum::v1::GetEntriesResponse entries;
  ASSERT_TRUE(GetEntries(0, 1, &entries).ok());
  EXPECT_THAT(entries.leaves(), ElementsAre(leaf));
}

TEST_F(LogServiceTest, ResubmissionReturnsExistingIndexAsDuplicate) {
  ASSERT_OK_AND_ASSIGN(Logged other,
                       SubmitClaim(SampleClaim("other"), vendor_));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("twice"), vendor_));
  ASSERT_OK_AND_ASSIGN(Logged first, SubmitEnvelope(envelope));
  ASSERT_EQ(first.index, 1u);
  ASSERT_FALSE(first.response.duplicate());

  // Again as JSON, then as the leaf.
  ASSERT_OK_AND_ASSIGN(Logged again, SubmitEnvelope(envelope));
  refsum::v1::SubmitRequest leaf_request;
  leaf_request.set_leaf(first.leaf);
  refsum::v1::SubmitResponse as_leaf;
  const grpc::Status status = Submit(leaf_request, &as_leaf);
  ASSERT_TRUE(status.ok()) << status.error_message();

  for (const refsum::v1::SubmitResponse* response :
       {&again.response, &as_leaf}) {
    EXPECT_EQ(response->index(), 1u);
    EXPECT_TRUE(response->duplicate());
    EXPECT_EQ(response->leaf_hash(), first.response.leaf_hash());
    EXPECT_TRUE(VerifiesSubmission(*response, first.leaf));
  }
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint latest, LatestCheckpoint());
  EXPECT_EQ(latest.size, 2u);
}

TEST_F(LogServiceTest, ConcurrentSubmissionsGetDistinctIndices) {
  constexpr int kThreads = 8;
  constexpr int kClaimsPerThread = 5;
  // Every thread also submits this one, which the log must hold once.
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope shared,
                       SignClaim(SampleClaim("shared"), vendor_));
  std::vector<std::vector<crypto::DsseEnvelope>> envelopes(kThreads);
  for (int thread = 0; thread < kThreads; ++thread) {
    for (int i = 0; i < kClaimsPerThread; ++i) {
      ASSERT_OK_AND_ASSIGN(
          crypto::DsseEnvelope envelope,
          SignClaim(SampleClaim(absl::StrCat("thread ", thread, " claim ", i)),
                    i % 2 == 0 ? vendor_ : ecdsa_vendor_));
      envelopes[thread].push_back(std::move(envelope));
    }
    envelopes[thread].insert(envelopes[thread].begin() + thread % 3, shared);
  }
  std::vector<std::vector<absl::StatusOr<Logged>>> results(kThreads);

  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([this, thread, &envelopes, &results] {
      for (const crypto::DsseEnvelope& envelope : envelopes[thread]) {
        results[thread].push_back(SubmitEnvelope(envelope));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::set<uint64_t> new_indices;
  std::set<uint64_t> shared_indices;
  int shared_new = 0;
  const std::string shared_leaf = crypto::EncodeDsseLeaf(shared);
  for (const std::vector<absl::StatusOr<Logged>>& thread_results : results) {
    for (const absl::StatusOr<Logged>& logged : thread_results) {
      ASSERT_TRUE(logged.ok()) << logged.status();
      EXPECT_TRUE(VerifiesSubmission(logged->response, logged->leaf));
      if (logged->leaf == shared_leaf) {
        shared_indices.insert(logged->index);
        if (!logged->response.duplicate()) ++shared_new;
      } else {
        EXPECT_FALSE(logged->response.duplicate());
        EXPECT_TRUE(new_indices.insert(logged->index).second)
            << "index " << logged->index << " given twice";
      }
    }
  }
  EXPECT_THAT(shared_indices, SizeIs(1));
  EXPECT_EQ(shared_new, 1);
  new_indices.insert(shared_indices.begin(), shared_indices.end());
  constexpr uint64_t kEntries = kThreads * kClaimsPerThread + 1;
  EXPECT_THAT(new_indices, SizeIs(kEntries));
  EXPECT_EQ(*new_indices.rbegin(), kEntries - 1);
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint latest, LatestCheckpoint());
  EXPECT_EQ(latest.size, kEntries);
}

struct BadSubmission {
  std::string description;
  refsum::v1::SubmitRequest request;
  grpc::StatusCode code;
  std::string problem;  // expected in the message
};

TEST_F(LogServiceTest, RejectedSubmissionsMapToStatusCodesAndAddNothing) {
  const statement::Claim claim = SampleClaim("logged");
  ASSERT_OK_AND_ASSIGN(Logged claim_entry, SubmitClaim(claim, vendor_));
  ASSERT_OK_AND_ASSIGN(Logged attestation_entry,
                       SubmitAttestation(claim, claim_entry, rebuilder_));
  ASSERT_EQ(attestation_entry.index, 1u);

  std::vector<BadSubmission> cases;
  const auto add_envelope =
      [&cases](std::string description, const crypto::DsseEnvelope& envelope,
               grpc::StatusCode code, std::string problem) {
        BadSubmission bad{std::move(description), {}, code, std::move(problem)};
        bad.request.set_envelope_json(crypto::EncodeDsseJson(envelope));
        cases.push_back(std::move(bad));
      };
  const auto add_attestation =
      [&](std::string description,
          const statement::RebuildAttestation& attestation,
          grpc::StatusCode code, std::string problem) {
        absl::StatusOr<crypto::DsseEnvelope> envelope =
            SignAttestation(attestation, rebuilder_);
        ASSERT_TRUE(envelope.ok()) << envelope.status();
        add_envelope(std::move(description), *envelope, code,
                     std::move(problem));
      };
  const statement::RebuildAttestation attestation = SampleAttestation(
      claim, kOrigin, claim_entry.index, tlog::HashLeaf(claim_entry.leaf));

  cases.push_back({"EmptyRequest",
                   {},
                   grpc::StatusCode::INVALID_ARGUMENT,
                   "neither envelope_json nor leaf"});
  {
    BadSubmission bad{
        "EnvelopeNotJson", {}, grpc::StatusCode::INVALID_ARGUMENT, "JSON"};
    bad.request.set_envelope_json("{\"payload\": ");
    cases.push_back(std::move(bad));
  }
  {
    BadSubmission bad{
        "LeafNotAnEnvelope", {}, grpc::StatusCode::INVALID_ARGUMENT, "leaf"};
    bad.request.set_leaf(claim_entry.leaf + "trailing");
    cases.push_back(std::move(bad));
  }
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope by_stranger,
                       SignClaim(SampleClaim("stranger"), stranger_));
  add_envelope("UnknownKey", by_stranger, grpc::StatusCode::PERMISSION_DENIED,
               "not admitted");
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope forged,
                       SignClaim(SampleClaim("forged"), vendor_));
  forged.signatures[0].sig[0] ^= 0x80;
  add_envelope("BadSignature", forged, grpc::StatusCode::PERMISSION_DENIED,
               "does not verify");
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope claim_by_rebuilder,
                       SignClaim(SampleClaim("rebuilt"), ecdsa_rebuilder_));
  add_envelope("ClaimByRebuilder", claim_by_rebuilder,
               grpc::StatusCode::PERMISSION_DENIED, "may not submit claims");
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope attestation_by_vendor,
                       SignAttestation(attestation, vendor_));
  add_envelope("AttestationByVendor", attestation_by_vendor,
               grpc::StatusCode::PERMISSION_DENIED,
               "may not submit rebuild attestations");
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope twice_signed,
                       SignClaim(SampleClaim("twice signed"), vendor_));
  twice_signed.signatures.push_back(twice_signed.signatures[0]);
  add_envelope("TwoSignatures", twice_signed,
               grpc::StatusCode::INVALID_ARGUMENT, "exactly one");
  ASSERT_OK_AND_ASSIGN(std::string claim_payload,
                       statement::SerializeClaim(SampleClaim("payload")));
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope wrong_type,
                       SignPayload("application/json", claim_payload, vendor_));
  add_envelope("WrongPayloadType", wrong_type,
               grpc::StatusCode::INVALID_ARGUMENT, "payloadType");
  ASSERT_OK_AND_ASSIGN(
      std::string unknown_field,
      statement::EditJson(claim_payload, "predicate.notes", "\"x\""));
  ASSERT_OK_AND_ASSIGN(
      crypto::DsseEnvelope lax_claim,
      SignPayload(statement::kPayloadType, unknown_field, vendor_));
  add_envelope("ClaimWithUnknownField", lax_claim,
               grpc::StatusCode::INVALID_ARGUMENT, "unknown field");
  ASSERT_OK_AND_ASSIGN(
      crypto::DsseEnvelope too_large,
      SignPayload(statement::kPayloadType, std::string(70000, ' '), vendor_));
  add_envelope("LeafTooLarge", too_large, grpc::StatusCode::INVALID_ARGUMENT,
               "65535");

  statement::RebuildAttestation other_origin = attestation;
  other_origin.claim.origin = "other.example/log";
  add_attestation("AttestationForOtherLog", other_origin,
                  grpc::StatusCode::INVALID_ARGUMENT, "origin");
  statement::RebuildAttestation beyond_tree = attestation;
  beyond_tree.claim.index = 2;
  add_attestation("AttestationBeyondTree", beyond_tree,
                  grpc::StatusCode::FAILED_PRECONDITION, "not in the log");
  statement::RebuildAttestation wrong_hash = attestation;
  wrong_hash.claim.leaf_hash = HashHex(tlog::HashLeaf("not the claim"));
  add_attestation("AttestationWithWrongLeafHash", wrong_hash,
                  grpc::StatusCode::FAILED_PRECONDITION, "leafHash");
  statement::RebuildAttestation of_attestation = attestation;
  of_attestation.claim.index = 1;
  of_attestation.claim.leaf_hash =
      HashHex(tlog::HashLeaf(attestation_entry.leaf));
  add_attestation("AttestationOfAttestation", of_attestation,
                  grpc::StatusCode::FAILED_PRECONDITION, "not a claim");
  statement::RebuildAttestation other_subject = attestation;
  other_subject.subjects[0].name = "another-image.raw";
  add_attestation("AttestationWithOtherSubject", other_subject,
                  grpc::StatusCode::INVALID_ARGUMENT, "subject");

  refsum::v1::GetCheckpointResponse before;
  ASSERT_TRUE(GetCheckpoint(&before).ok());
  for (const BadSubmission& bad : cases) {
    SCOPED_TRACE(bad.description);
    refsum::v1::SubmitResponse response;

    const grpc::Status status = Submit(bad.request, &response);

    EXPECT_EQ(status.error_code(), bad.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(bad.problem));
  }
  refsum::v1::GetCheckpointResponse after;
  ASSERT_TRUE(GetCheckpoint(&after).ok());
  EXPECT_EQ(after.checkpoint(), before.checkpoint());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> stored,
                       log_->storage().ReadEntries(0, 100));
  EXPECT_THAT(stored, ElementsAre(claim_entry.leaf, attestation_entry.leaf));
}

// GetCheckpoint.

TEST_F(LogServiceTest, GetCheckpointReturnsNewestSignedCheckpoint) {
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint empty, LatestCheckpoint());
  EXPECT_EQ(empty.size, 0u);
  EXPECT_EQ(empty.root, tlog::EmptyRoot());

  ASSERT_OK_AND_ASSIGN(Logged first, SubmitClaim(SampleClaim("a"), vendor_));
  ASSERT_OK_AND_ASSIGN(Logged second, SubmitClaim(SampleClaim("b"), vendor_));

  refsum::v1::GetCheckpointResponse response;
  ASSERT_TRUE(GetCheckpoint(&response).ok());
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint latest,
                       OpenCheckpoint(response.checkpoint()));
  EXPECT_EQ(latest.size, 2u);
  EXPECT_EQ(latest.root, tlog::HashChildren(Rfc6962LeafHash(first.leaf),
                                            Rfc6962LeafHash(second.leaf)));
}

TEST_F(LogServiceTest, WithoutAWitnessPolicyNothingIsWitnessed) {
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("a"), vendor_));
  refsum::v1::SubmitRequest request;
  request.set_envelope_json(crypto::EncodeDsseJson(envelope));
  request.set_wait_for_witnesses(true);
  refsum::v1::SubmitResponse response;
  const grpc::Status status = Submit(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("no witness policy"));
  // Refused before it was logged.
  EXPECT_EQ(log_->size(), 0u);

  refsum::v1::GetCheckpointResponse checkpoints;
  ASSERT_TRUE(GetCheckpoint(&checkpoints).ok());
  EXPECT_THAT(checkpoints.witnessed_checkpoint(), IsEmpty());
}

// GetEntries.

class LogServiceWithEntriesTest : public LogServiceTest {
 protected:
  static constexpr int kEntries = 6;

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(LogServiceTest::SetUp());
    for (int i = 0; i < kEntries; ++i) {
      ASSERT_OK_AND_ASSIGN(
          Logged logged,
          SubmitClaim(SampleClaim(absl::StrCat("entry ", i)), vendor_));
      ASSERT_EQ(logged.index, static_cast<uint64_t>(i));
      ASSERT_TRUE(VerifiesSubmission(logged.response, logged.leaf));
      entries_.push_back(std::move(logged));
    }
  }

  std::vector<std::string> Leaves(size_t begin, size_t end) const {
    std::vector<std::string> leaves;
    for (size_t i = begin; i < end; ++i) leaves.push_back(entries_[i].leaf);
    return leaves;
  }

  std::vector<Logged> entries_;
};

TEST_F(LogServiceWithEntriesTest, GetEntriesReturnsBoundedPages) {
  struct Page {
    uint64_t start;
    uint32_t count;
    size_t end;
  };
  for (const Page& page :
       {Page{0, 0, kMaxPageSize}, Page{0, 2, 2}, Page{1, 100, 1 + kMaxPageSize},
        Page{3, 3, 6}, Page{4, 0, kEntries}, Page{5, 1, kEntries}}) {
    SCOPED_TRACE(absl::StrCat("start ", page.start, " count ", page.count));
    refsum::v1::GetEntriesResponse response;

    const grpc::Status status = GetEntries(page.start, page.count, &response);

    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_THAT(response.leaves(),
                ElementsAreArray(Leaves(page.start, page.end)));
  }
}

TEST_F(LogServiceWithEntriesTest, GetEntriesFromTreeSizeOnIsOutOfRange) {
  for (uint64_t start :
       {uint64_t{kEntries}, uint64_t{kEntries + 1}, uint64_t{UINT64_MAX}}) {
    refsum::v1::GetEntriesResponse response;

    const grpc::Status status = GetEntries(start, 1, &response);

    EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
    EXPECT_THAT(status.error_message(),
                HasSubstr(absl::StrCat("start ", start)));
  }
}

TEST_F(LogServiceTest, GetEntriesOfEmptyLogIsOutOfRange) {
  refsum::v1::GetEntriesResponse response;

  const grpc::Status status = GetEntries(0, 0, &response);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(status.error_message(), HasSubstr("tree size 0"));
}

// GetInclusionProof.

TEST_F(LogServiceWithEntriesTest, GetInclusionProofByIndexVerifies) {
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint latest, LatestCheckpoint());
  ASSERT_EQ(latest.size, uint64_t{kEntries});
  for (uint64_t index = 0; index < kEntries; ++index) {
    SCOPED_TRACE(absl::StrCat("index ", index));
    // Against the newest tree (tree_size 0) and against the checkpoint the
    // entry's Submit returned.
    ASSERT_OK_AND_ASSIGN(tlog::Checkpoint at_submission,
                         OpenCheckpoint(entries_[index].response.checkpoint()));
    for (const tlog::Checkpoint* checkpoint : {&latest, &at_submission}) {
      refsum::v1::GetInclusionProofRequest request;
      request.set_index(index);
      request.set_tree_size(checkpoint == &latest ? 0 : checkpoint->size);
      refsum::v1::GetInclusionProofResponse response;

      const grpc::Status status = GetInclusionProof(request, &response);

      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(response.index(), index);
      EXPECT_EQ(response.tree_size(), checkpoint->size);
      EXPECT_OK(tlog::VerifyInclusion(
          index, checkpoint->size, Rfc6962LeafHash(entries_[index].leaf),
          HashesFromBytes(response.hashes()), checkpoint->root));
    }
  }
}

TEST_F(LogServiceWithEntriesTest, GetInclusionProofByLeafHashVerifies) {
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint latest, LatestCheckpoint());
  for (uint64_t index = 0; index < kEntries; ++index) {
    SCOPED_TRACE(absl::StrCat("index ", index));
    refsum::v1::GetInclusionProofRequest request;
    request.set_leaf_hash(entries_[index].response.leaf_hash());
    refsum::v1::GetInclusionProofResponse response;

    const grpc::Status status = GetInclusionProof(request, &response);

    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.index(), index);
    EXPECT_EQ(response.tree_size(), latest.size);
    EXPECT_OK(tlog::VerifyInclusion(
        index, latest.size, Rfc6962LeafHash(entries_[index].leaf),
        HashesFromBytes(response.hashes()), latest.root));
  }
}

TEST_F(LogServiceWithEntriesTest, GetInclusionProofErrors) {
  struct Case {
    std::string description;
    refsum::v1::GetInclusionProofRequest request;
    grpc::StatusCode code;
    std::string problem;
  };
  std::vector<Case> cases(5);
  cases[0].description = "TreeSizeBeyondLog";
  cases[0].request.set_index(0);
  cases[0].request.set_tree_size(kEntries + 1);
  cases[0].code = grpc::StatusCode::INVALID_ARGUMENT;
  cases[0].problem = "beyond";
  cases[1].description = "IndexBeyondTreeSize";
  cases[1].request.set_index(3);
  cases[1].request.set_tree_size(3);
  cases[1].code = grpc::StatusCode::OUT_OF_RANGE;
  cases[1].problem = "3";
  cases[2].description = "UnknownLeafHash";
  cases[2].request.set_leaf_hash(HashBytes(tlog::HashLeaf("unknown")));
  cases[2].code = grpc::StatusCode::NOT_FOUND;
  cases[2].problem = "no leaf";
  cases[3].description = "LeafHashBeyondTreeSize";
  cases[3].request.set_leaf_hash(entries_[4].response.leaf_hash());
  cases[3].request.set_tree_size(4);
  cases[3].code = grpc::StatusCode::NOT_FOUND;
  cases[3].problem = "size 4";
  cases[4].description = "ShortLeafHash";
  cases[4].request.set_leaf_hash(std::string(31, 'x'));
  cases[4].code = grpc::StatusCode::INVALID_ARGUMENT;
  cases[4].problem = "32 bytes";
  for (const Case& bad : cases) {
    SCOPED_TRACE(bad.description);
    refsum::v1::GetInclusionProofResponse response;

    const grpc::Status status = GetInclusionProof(bad.request, &response);

    EXPECT_EQ(status.error_code(), bad.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(bad.problem));
  }
}

// GetConsistencyProof.

TEST_F(LogServiceWithEntriesTest, GetConsistencyProofBetweenCheckpoints) {
  std::vector<tlog::Checkpoint> checkpoints;
  for (const Logged& entry : entries_) {
    ASSERT_OK_AND_ASSIGN(tlog::Checkpoint checkpoint,
                         OpenCheckpoint(entry.response.checkpoint()));
    checkpoints.push_back(checkpoint);
  }
  for (const tlog::Checkpoint& old_checkpoint : checkpoints) {
    for (const tlog::Checkpoint& new_checkpoint : checkpoints) {
      if (old_checkpoint.size > new_checkpoint.size) continue;
      SCOPED_TRACE(
          absl::StrCat(old_checkpoint.size, " -> ", new_checkpoint.size));
      refsum::v1::GetConsistencyProofResponse response;

      const grpc::Status status = GetConsistencyProof(
          old_checkpoint.size, new_checkpoint.size, &response);

      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(response.old_size(), old_checkpoint.size);
      EXPECT_EQ(response.new_size(), new_checkpoint.size);
      EXPECT_OK(tlog::VerifyConsistency(
          old_checkpoint.size, new_checkpoint.size, old_checkpoint.root,
          new_checkpoint.root, HashesFromBytes(response.hashes())));
    }
  }
}

TEST_F(LogServiceWithEntriesTest, GetConsistencyProofToNewestAndFromEmpty) {
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint latest, LatestCheckpoint());
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint third,
                       OpenCheckpoint(entries_[2].response.checkpoint()));
  refsum::v1::GetConsistencyProofResponse to_newest;
  ASSERT_TRUE(GetConsistencyProof(third.size, 0, &to_newest).ok());
  EXPECT_EQ(to_newest.new_size(), latest.size);
  EXPECT_OK(tlog::VerifyConsistency(third.size, latest.size, third.root,
                                    latest.root,
                                    HashesFromBytes(to_newest.hashes())));

  refsum::v1::GetConsistencyProofResponse from_empty;
  ASSERT_TRUE(GetConsistencyProof(0, 0, &from_empty).ok());
  EXPECT_THAT(from_empty.hashes(), IsEmpty());
  EXPECT_OK(tlog::VerifyConsistency(0, latest.size, tlog::EmptyRoot(),
                                    latest.root, {}));
}

TEST_F(LogServiceWithEntriesTest, GetConsistencyProofErrors) {
  refsum::v1::GetConsistencyProofResponse response;
  grpc::Status status = GetConsistencyProof(4, 3, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("4"));

  status = GetConsistencyProof(1, kEntries + 1, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("beyond"));
}

// Find and GetAttestations.

TEST_F(LogServiceTest, FindByArtifactReferenceValueAndSource) {
  statement::Claim first = SampleClaim("first");
  // Same artifact, new reference values (a second measurement of it).
  statement::Claim remeasured = SampleClaim("remeasured");
  remeasured.subjects = first.subjects;
  remeasured.source = first.source;
  const statement::Claim unrelated = SampleClaim("unrelated");
  ASSERT_OK_AND_ASSIGN(Logged first_entry, SubmitClaim(first, vendor_));
  ASSERT_OK_AND_ASSIGN(Logged unrelated_entry,
                       SubmitClaim(unrelated, ecdsa_vendor_));
  ASSERT_OK_AND_ASSIGN(Logged remeasured_entry,
                       SubmitClaim(remeasured, vendor_));
  // An attestation carries the claim's subject but is not a claim.
  ASSERT_OK_AND_ASSIGN(Logged attestation_entry,
                       SubmitAttestation(first, first_entry, rebuilder_));
  ASSERT_EQ(attestation_entry.index, 3u);

  refsum::v1::FindRequest by_artifact;
  by_artifact.set_artifact_sha256(first.subjects[0].digest.at("sha256"));
  refsum::v1::FindRequest by_value;
  *by_value.mutable_reference_value() =
      ProtoDigest(remeasured.reference_values[0].digest);
  ASSERT_EQ(by_value.reference_value().algorithm(), "sha384");
  refsum::v1::FindRequest by_pcr;
  *by_pcr.mutable_reference_value() =
      ProtoDigest(unrelated.reference_values[1].digest);
  ASSERT_EQ(by_pcr.reference_value().algorithm(), "sha256");
  refsum::v1::FindRequest by_source;
  by_source.mutable_source()->set_repository(first.source.repository);
  by_source.mutable_source()->set_commit(first.source.commit);
  refsum::v1::FindRequest by_other_commit;
  by_other_commit.mutable_source()->set_repository(first.source.repository);
  by_other_commit.mutable_source()->set_commit(unrelated.source.commit);
  refsum::v1::FindRequest unknown_artifact;
  unknown_artifact.set_artifact_sha256(SeededHex("never logged", 64));

  struct Query {
    std::string description;
    const refsum::v1::FindRequest* request;
    std::vector<uint64_t> indices;
  };
  for (const Query& query : std::vector<Query>{
           {"Artifact",
            &by_artifact,
            {first_entry.index, remeasured_entry.index}},
           {"Sha384ReferenceValue", &by_value, {remeasured_entry.index}},
           {"Sha256ReferenceValue", &by_pcr, {unrelated_entry.index}},
           {"Source", &by_source, {first_entry.index, remeasured_entry.index}},
           {"SourceWithOtherCommit", &by_other_commit, {unrelated_entry.index}},
           {"UnknownArtifact", &unknown_artifact, {}}}) {
    SCOPED_TRACE(query.description);
    refsum::v1::IndexPage page;

    const grpc::Status status = Find(*query.request, &page);

    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(Indices(page), query.indices);
    EXPECT_FALSE(page.more());
  }
}

TEST_F(LogServiceTest, FindPagesThroughMatches) {
  constexpr int kClaims = 6;
  const statement::Digest shared =
      SampleClaim("shared").reference_values[0].digest;
  std::vector<uint64_t> indices;
  for (int i = 0; i < kClaims; ++i) {
    statement::Claim claim = SampleClaim(absl::StrCat("build ", i));
    claim.reference_values[0].digest = shared;
    ASSERT_OK_AND_ASSIGN(Logged logged, SubmitClaim(claim, vendor_));
    indices.push_back(logged.index);
    // Entries that do not match in between.
    ASSERT_OK_AND_ASSIGN(
        Logged other,
        SubmitClaim(SampleClaim(absl::StrCat("other ", i)), ecdsa_vendor_));
  }
  refsum::v1::FindRequest request;
  *request.mutable_reference_value() = ProtoDigest(shared);

  struct PageCase {
    std::optional<uint64_t> after;
    uint32_t size;
    std::vector<uint64_t> indices;
    bool more;
  };
  const std::vector<PageCase> pages = {
      // The server's page size.
      {std::nullopt, 0, {indices[0], indices[1], indices[2], indices[3]}, true},
      // Capped at the server's page size.
      {std::nullopt,
       100,
       {indices[0], indices[1], indices[2], indices[3]},
       true},
      {std::nullopt, 2, {indices[0], indices[1]}, true},
      {indices[1], 2, {indices[2], indices[3]}, true},
      {indices[3], 0, {indices[4], indices[5]}, false},
      {indices[3], 2, {indices[4], indices[5]}, false},
      // After an index that does not match.
      {indices[0] + 1, 1, {indices[1]}, true},
      {indices[5], 0, {}, false},
      // after = 0 counts only when after_set is.
      {0, 0, {indices[1], indices[2], indices[3], indices[4]}, true},
  };
  ASSERT_EQ(indices[0], 0u);
  for (const PageCase& page_case : pages) {
    SCOPED_TRACE(absl::StrCat(
        "after ",
        page_case.after.has_value() ? absl::StrCat(*page_case.after) : "unset",
        " size ", page_case.size));
    refsum::v1::FindRequest paged = request;
    if (page_case.after.has_value()) {
      paged.mutable_page()->set_after(*page_case.after);
      paged.mutable_page()->set_after_set(true);
    }
    paged.mutable_page()->set_size(page_case.size);
    refsum::v1::IndexPage page;

    const grpc::Status status = Find(paged, &page);

    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(Indices(page), page_case.indices);
    EXPECT_EQ(page.more(), page_case.more);
  }
}

TEST_F(LogServiceTest, FindRejectsMalformedQueries) {
  std::vector<std::pair<std::string, refsum::v1::FindRequest>> cases;
  const auto add = [&cases](std::string description) {
    cases.emplace_back(std::move(description), refsum::v1::FindRequest());
    return &cases.back().second;
  };
  add("NoQuery");
  add("UppercaseArtifact")
      ->set_artifact_sha256(absl::AsciiStrToUpper(SeededHex("a", 64)));
  add("ShortArtifact")->set_artifact_sha256(SeededHex("a", 62));
  add("ArtifactNotHex")->set_artifact_sha256(std::string(64, 'g'));
  refsum::v1::Digest* md5 = add("UnknownAlgorithm")->mutable_reference_value();
  md5->set_algorithm("md5");
  md5->set_hex(SeededHex("a", 32));
  refsum::v1::Digest* short_sha384 =
      add("Sha384OfSha256Length")->mutable_reference_value();
  short_sha384->set_algorithm("sha384");
  short_sha384->set_hex(SeededHex("a", 64));
  refsum::v1::Digest* uppercase =
      add("UppercaseSha384")->mutable_reference_value();
  uppercase->set_algorithm("sha384");
  uppercase->set_hex(absl::AsciiStrToUpper(SeededHex("a", 96)));
  add("SourceWithoutCommit")
      ->mutable_source()
      ->set_repository("https://github.com/example/os-image");
  add("SourceWithoutRepository")
      ->mutable_source()
      ->set_commit(SeededHex("c", 40));

  for (const auto& [description, request] : cases) {
    SCOPED_TRACE(description);
    refsum::v1::IndexPage page;

    const grpc::Status status = Find(request, &page);

    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(page.indices(), IsEmpty());
  }
}

TEST_F(LogServiceTest, GetAttestationsListsAttestationsOfClaim) {
  const statement::Claim attested = SampleClaim("attested");
  ASSERT_OK_AND_ASSIGN(Logged claim_entry, SubmitClaim(attested, vendor_));
  ASSERT_OK_AND_ASSIGN(Logged lonely,
                       SubmitClaim(SampleClaim("lonely"), vendor_));
  ASSERT_OK_AND_ASSIGN(Logged first,
                       SubmitAttestation(attested, claim_entry, rebuilder_));
  ASSERT_OK_AND_ASSIGN(Logged second, SubmitAttestation(attested, claim_entry,
                                                        ecdsa_rebuilder_));

  refsum::v1::GetAttestationsRequest request;
  request.set_claim_index(claim_entry.index);
  refsum::v1::IndexPage page;
  ASSERT_TRUE(GetAttestations(request, &page).ok());
  EXPECT_THAT(Indices(page), ElementsAre(first.index, second.index));
  EXPECT_FALSE(page.more());

  request.mutable_page()->set_size(1);
  ASSERT_TRUE(GetAttestations(request, &page).ok());
  EXPECT_THAT(Indices(page), ElementsAre(first.index));
  EXPECT_TRUE(page.more());

  request.mutable_page()->set_after(first.index);
  request.mutable_page()->set_after_set(true);
  page.Clear();
  ASSERT_TRUE(GetAttestations(request, &page).ok());
  EXPECT_THAT(Indices(page), ElementsAre(second.index));
  EXPECT_FALSE(page.more());

  refsum::v1::GetAttestationsRequest of_lonely;
  of_lonely.set_claim_index(lonely.index);
  page.Clear();
  ASSERT_TRUE(GetAttestations(of_lonely, &page).ok());
  EXPECT_THAT(page.indices(), IsEmpty());
  EXPECT_FALSE(page.more());
}

// GetBundle.

class LogServiceBundleTest : public LogServiceTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(LogServiceTest::SetUp());
    attested_ = SampleClaim("attested");
    sibling_ = SampleClaim("sibling");
    // The sibling shares the attested claim's SEV-SNP value.
    sibling_.reference_values[0] = attested_.reference_values[0];
    ASSERT_OK_AND_ASSIGN(attested_entry_, SubmitClaim(attested_, vendor_));
    ASSERT_OK_AND_ASSIGN(
        first_attestation_,
        SubmitAttestation(attested_, attested_entry_, rebuilder_));
    ASSERT_OK_AND_ASSIGN(sibling_entry_, SubmitClaim(sibling_, ecdsa_vendor_));
    ASSERT_OK_AND_ASSIGN(
        second_attestation_,
        SubmitAttestation(attested_, attested_entry_, ecdsa_rebuilder_));
  }

  // Checks that `claim` is `entry`'s leaf with `attestations`' leaves.
  static void ExpectClaim(const tlog::BundleClaim& claim, const Logged& entry,
                          const std::vector<const Logged*>& attestations) {
    EXPECT_EQ(claim.claim.leaf, entry.leaf);
    EXPECT_EQ(claim.claim.proof.index, entry.index);
    ASSERT_EQ(claim.attestations.size(), attestations.size());
    for (size_t i = 0; i < attestations.size(); ++i) {
      EXPECT_EQ(claim.attestations[i].leaf, attestations[i]->leaf);
      EXPECT_EQ(claim.attestations[i].proof.index, attestations[i]->index);
    }
  }

  statement::Claim attested_;
  statement::Claim sibling_;
  Logged attested_entry_;
  Logged first_attestation_;
  Logged sibling_entry_;
  Logged second_attestation_;
};

TEST_F(LogServiceBundleTest, GetBundleByClaimIndex) {
  refsum::v1::GetBundleRequest request;
  request.set_claim_index(attested_entry_.index);
  refsum::v1::GetBundleResponse response;

  const grpc::Status status = GetBundle(request, &response);

  ASSERT_TRUE(status.ok()) << status.error_message();
  tlog::Bundle bundle;
  ASSERT_TRUE(VerifiesBundle(response.bundle_json(), &bundle));
  ASSERT_THAT(bundle.claims, SizeIs(1));
  ExpectClaim(bundle.claims[0], attested_entry_,
              {&first_attestation_, &second_attestation_});
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint latest, LatestCheckpoint());
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint bundled,
                       OpenCheckpoint(bundle.claims[0].claim.proof.checkpoint));
  EXPECT_EQ(bundled, latest);
}

TEST_F(LogServiceBundleTest, GetBundleByReferenceValue) {
  refsum::v1::GetBundleRequest request;
  *request.mutable_reference_value() =
      ProtoDigest(attested_.reference_values[0].digest);
  refsum::v1::GetBundleResponse response;

  const grpc::Status status = GetBundle(request, &response);

  ASSERT_TRUE(status.ok()) << status.error_message();
  tlog::Bundle bundle;
  ASSERT_TRUE(VerifiesBundle(response.bundle_json(), &bundle));
  ASSERT_THAT(bundle.claims, SizeIs(2));
  ExpectClaim(bundle.claims[0], attested_entry_,
              {&first_attestation_, &second_attestation_});
  ExpectClaim(bundle.claims[1], sibling_entry_, {});
}

TEST_F(LogServiceBundleTest, GetBundleByArtifact) {
  refsum::v1::GetBundleRequest request;
  request.set_artifact_sha256(sibling_.subjects[0].digest.at("sha256"));
  refsum::v1::GetBundleResponse response;

  const grpc::Status status = GetBundle(request, &response);

  ASSERT_TRUE(status.ok()) << status.error_message();
  tlog::Bundle bundle;
  ASSERT_TRUE(VerifiesBundle(response.bundle_json(), &bundle));
  ASSERT_THAT(bundle.claims, SizeIs(1));
  ExpectClaim(bundle.claims[0], sibling_entry_, {});
}

TEST_F(LogServiceBundleTest, GetBundleErrors) {
  struct Case {
    std::string description;
    refsum::v1::GetBundleRequest request;
    grpc::StatusCode code;
    std::string problem;
  };
  std::vector<Case> cases(6);
  cases[0].description = "IndexOfAttestation";
  cases[0].request.set_claim_index(first_attestation_.index);
  cases[0].code = grpc::StatusCode::INVALID_ARGUMENT;
  cases[0].problem = "not a claim";
  cases[1].description = "IndexBeyondTree";
  cases[1].request.set_claim_index(4);
  cases[1].code = grpc::StatusCode::NOT_FOUND;
  cases[1].problem = "entry 4";
  cases[2].description = "UnknownReferenceValue";
  cases[2].request.mutable_reference_value()->set_algorithm("sha384");
  cases[2].request.mutable_reference_value()->set_hex(
      SeededHex("never logged", 96));
  cases[2].code = grpc::StatusCode::NOT_FOUND;
  cases[2].problem = "no claim";
  cases[3].description = "UnknownArtifact";
  cases[3].request.set_artifact_sha256(SeededHex("never logged", 64));
  cases[3].code = grpc::StatusCode::NOT_FOUND;
  cases[3].problem = "no claim";
  cases[4].description = "NoQuery";
  cases[4].code = grpc::StatusCode::INVALID_ARGUMENT;
  cases[4].problem = "no query";
  cases[5].description = "MalformedDigest";
  cases[5].request.mutable_reference_value()->set_algorithm("sha384");
  cases[5].request.mutable_reference_value()->set_hex("abc");
  cases[5].code = grpc::StatusCode::INVALID_ARGUMENT;
  cases[5].problem = "sha384";
  for (const Case& bad : cases) {
    SCOPED_TRACE(bad.description);
    refsum::v1::GetBundleResponse response;

    const grpc::Status status = GetBundle(bad.request, &response);

    EXPECT_EQ(status.error_code(), bad.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(bad.problem));
    EXPECT_THAT(response.bundle_json(), IsEmpty());
  }
}

// GetKey.

TEST_F(LogServiceTest, GetKeyReturnsConfiguredSigners) {
  for (const TestSigner* signer : {&vendor_, &ecdsa_rebuilder_}) {
    SCOPED_TRACE(signer->key.name);
    refsum::v1::GetKeyResponse response;

    const grpc::Status status = GetKey(signer->key.keyid, &response);

    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.public_key_pem(), signer->key.public_key_pem);
    EXPECT_EQ(response.role(), signer->key.role);
    EXPECT_EQ(response.name(), signer->key.name);
  }
}

TEST_F(LogServiceTest, GetKeyOfUnknownKeyidIsNotFound) {
  for (const std::string& keyid : {stranger_.key.keyid, std::string()}) {
    refsum::v1::GetKeyResponse response;

    const grpc::Status status = GetKey(keyid, &response);

    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(status.error_message(), HasSubstr("no signer"));
  }
}

// Open mode.

TEST_F(OpenLogServiceTest, SubmitWithKeyThenWithoutAndGetKey) {
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope first,
                       SignClaim(SampleClaim("first"), stranger_));
  ASSERT_OK_AND_ASSIGN(Logged first_entry,
                       SubmitEnvelope(first, stranger_.key.public_key_pem));
  EXPECT_TRUE(VerifiesSubmission(first_entry.response, first_entry.leaf));

  refsum::v1::GetKeyResponse key;
  const grpc::Status status = GetKey(stranger_.key.keyid, &key);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(key.public_key_pem(), stranger_.key.public_key_pem);
  EXPECT_EQ(key.role(), kRoleOpen);
  EXPECT_EQ(key.name(), "");

  // The log now knows the key.
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope second,
                       SignClaim(SampleClaim("second"), stranger_));
  ASSERT_OK_AND_ASSIGN(Logged second_entry, SubmitEnvelope(second));
  EXPECT_EQ(second_entry.index, 1u);
  EXPECT_TRUE(VerifiesSubmission(second_entry.response, second_entry.leaf));
}

TEST_F(OpenLogServiceTest, SubmitWithoutUnknownKeyIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("keyless"), stranger_));

  absl::StatusOr<Logged> logged = SubmitEnvelope(envelope);

  ASSERT_FALSE(logged.ok());
  EXPECT_EQ(logged.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(logged.status().message(), HasSubstr("send its public key"));
}

TEST_F(OpenLogServiceTest, RejectedSubmissionLeavesNoKeyBehind) {
  ASSERT_OK_AND_ASSIGN(std::string payload,
                       statement::SerializeClaim(SampleClaim("rejected")));
  ASSERT_OK_AND_ASSIGN(payload,
                       statement::EditJson(payload, "predicate.extra", "1"));
  ASSERT_OK_AND_ASSIGN(
      crypto::DsseEnvelope envelope,
      SignPayload(statement::kPayloadType, payload, stranger_));

  absl::StatusOr<Logged> logged =
      SubmitEnvelope(envelope, stranger_.key.public_key_pem);

  ASSERT_FALSE(logged.ok());
  EXPECT_EQ(logged.status().code(), absl::StatusCode::kInvalidArgument);
  refsum::v1::GetKeyResponse key;
  EXPECT_EQ(GetKey(stranger_.key.keyid, &key).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint latest, LatestCheckpoint());
  EXPECT_EQ(latest.size, 0u);
}

TEST_F(OpenLogServiceTest, SubmitWithMismatchedKeyIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("mismatch"), stranger_));

  absl::StatusOr<Logged> logged =
      SubmitEnvelope(envelope, vendor_.key.public_key_pem);

  ASSERT_FALSE(logged.ok());
  EXPECT_EQ(logged.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(logged.status().message(), HasSubstr(stranger_.key.keyid));
}

// Limits.

TEST_F(LogServiceWithEntriesTest, GetInclusionProofOfIndexBeyondNewestSize) {
  refsum::v1::GetInclusionProofRequest request;
  request.set_index(kEntries);
  refsum::v1::GetInclusionProofResponse response;

  const grpc::Status status = GetInclusionProof(request, &response);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(status.error_message(),
              HasSubstr(absl::StrCat("not below the tree size ", kEntries)));
}

TEST_F(LogServiceTest, OverlongQueryFieldsAreInvalidArgumentNamingTheField) {
  const std::string overlong(5000, 'a');
  refsum::v1::FindRequest find;
  find.mutable_source()->set_repository(overlong);
  find.mutable_source()->set_commit("abc");
  refsum::v1::IndexPage page;
  grpc::Status status = Find(find, &page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("source.repository is 5000"));

  refsum::v1::GetBundleRequest bundle;
  bundle.mutable_reference_value()->set_algorithm("sha256");
  bundle.mutable_reference_value()->set_hex(overlong);
  refsum::v1::GetBundleResponse bundle_response;
  status = GetBundle(bundle, &bundle_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("reference_value.hex"));

  refsum::v1::GetKeyResponse key;
  status = GetKey(overlong, &key);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("keyid"));

  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                       SignClaim(SampleClaim("long key"), vendor_));
  refsum::v1::SubmitRequest submit;
  submit.set_envelope_json(crypto::EncodeDsseJson(envelope));
  submit.set_public_key_pem(overlong);
  refsum::v1::SubmitResponse submitted;
  status = Submit(submit, &submitted);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("public_key_pem"));
  EXPECT_EQ(log_->size(), 0u);
}

TEST_F(LogServiceTest, GetBundleSaysWhenThePageLimitLeftAttestationsOut) {
  ASSERT_OK_AND_ASSIGN(Logged claim, SubmitClaim(SampleClaim("popular"),
                                                 vendor_));
  refsum::v1::GetBundleRequest request;
  request.set_claim_index(claim.index);
  refsum::v1::GetBundleResponse response;
  // kMaxPageSize attestations fit; one more does not.
  for (uint32_t i = 0; i <= kMaxPageSize; ++i) {
    ASSERT_TRUE(GetBundle(request, &response).ok());
    EXPECT_FALSE(response.truncated()) << i;
    statement::RebuildAttestation attestation = SampleAttestation(
        SampleClaim("popular"), kOrigin, claim.index,
        tlog::HashLeaf(claim.leaf));
    attestation.rebuilt_at = absl::StrCat("2026-11-27T12:00:0", i, "Z");
    ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope envelope,
                         SignAttestation(attestation, rebuilder_));
    ASSERT_OK_AND_ASSIGN(Logged logged, SubmitEnvelope(envelope));
    EXPECT_FALSE(logged.response.duplicate());
  }
  ASSERT_TRUE(GetBundle(request, &response).ok());
  EXPECT_TRUE(response.truncated());
  tlog::Bundle bundle;
  ASSERT_TRUE(VerifiesBundle(response.bundle_json(), &bundle));
  ASSERT_THAT(bundle.claims, SizeIs(1));
  EXPECT_THAT(bundle.claims[0].attestations, SizeIs(kMaxPageSize));
}

// A log whose sequencer holds a batch until it has two entries, and that
// answers one submission at a time.
class LogServiceInflightTest : public LogServiceTest {
 protected:
  SequencerOptions LogSequencerOptions() const override {
    SequencerOptions options;
    options.max_batch_entries = 2;
    options.max_batch_delay = absl::Hours(1);
    return options;
  }
  void ConfigureService(ServiceOptions& options) override {
    options.max_inflight_submissions = 1;
  }
};

TEST_F(LogServiceInflightTest, SubmissionsBeyondTheBoundAreRefusedAtOnce) {
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope held,
                       SignClaim(SampleClaim("held"), vendor_));
  refsum::v1::SubmitRequest held_request;
  held_request.set_envelope_json(crypto::EncodeDsseJson(held));
  refsum::v1::SubmitResponse held_response;
  grpc::ClientContext held_context;
  SetDeadline(&held_context);
  absl::Mutex mu;
  std::optional<grpc::Status> held_status;
  stub_->async()->Submit(&held_context, &held_request, &held_response,
                         [&](grpc::Status status) {
                           absl::MutexLock lock(&mu);
                           held_status = std::move(status);
                         });
  // Hang guard only: the submission waits in the sequencer's batch.
  const absl::Time give_up = absl::Now() + kTimeout;
  while (service_->InflightSubmissions() == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(service_->InflightSubmissions(), 1u);

  const absl::StatusOr<Logged> refused =
      SubmitClaim(SampleClaim("refused"), ecdsa_vendor_);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("1 submissions, its limit"));

  // A second entry straight into the sequencer completes the batch.
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope direct,
                       SignClaim(SampleClaim("direct"), ecdsa_vendor_));
  ASSERT_OK_AND_ASSIGN(PendingEntry entry,
                       admission_->Admit(direct, "", log_->size()));
  ASSERT_OK(log_->Append(std::move(entry)).status());
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(
        absl::Condition(
            +[](std::optional<grpc::Status>* status) {
              return status->has_value();
            },
            &held_status),
        kTimeout));
    ASSERT_TRUE(held_status->ok()) << held_status->error_message();
  }
  EXPECT_TRUE(
      VerifiesSubmission(held_response, crypto::EncodeDsseLeaf(held)));
  EXPECT_EQ(service_->InflightSubmissions(), 0u);
  // With the slot free again, the refused claim is taken (and waits for a
  // batch partner like the first).
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope partner,
                       SignClaim(SampleClaim("partner"), vendor_));
  ASSERT_OK_AND_ASSIGN(PendingEntry partner_entry,
                       admission_->Admit(partner, "", log_->size()));
  std::thread append([&] { (void)log_->Append(std::move(partner_entry)); });
  const absl::StatusOr<Logged> retried =
      SubmitClaim(SampleClaim("refused"), ecdsa_vendor_);
  append.join();
  EXPECT_TRUE(retried.ok()) << retried.status();
}

class LogServiceRateLimitTest : public LogServiceTest {
 protected:
  void ConfigureService(ServiceOptions& options) override {
    // One submission per key, then one every 1000 s.
    absl::StatusOr<std::unique_ptr<KeyedRateLimiter>> limiter =
        KeyedRateLimiter::Create(0.001, 1);
    ASSERT_TRUE(limiter.ok()) << limiter.status();
    limiter_ = *std::move(limiter);
    options.rate_limiter = limiter_.get();
  }

  std::unique_ptr<KeyedRateLimiter> limiter_;
};

TEST_F(LogServiceRateLimitTest, AKeyBeyondItsRateIsRefusedByKeyid) {
  // An envelope that does not verify spends nothing of the key's budget.
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope forged,
                       SignClaim(SampleClaim("forged"), vendor_));
  forged.payload += " ";
  EXPECT_EQ(SubmitEnvelope(forged).status().code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_OK(SubmitClaim(SampleClaim("first"), vendor_).status());

  const absl::StatusOr<Logged> second =
      SubmitClaim(SampleClaim("second"), vendor_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat("key ", vendor_.key.keyid)));
  EXPECT_OK(SubmitClaim(SampleClaim("other key"), ecdsa_vendor_).status());
  EXPECT_EQ(log_->size(), 2u);
}

TEST_F(LogServiceRateLimitTest, ReplayingALoggedEnvelopeSpendsNoBudget) {
  ASSERT_OK_AND_ASSIGN(crypto::DsseEnvelope published,
                       SignClaim(SampleClaim("published"), vendor_));
  ASSERT_OK(SubmitEnvelope(published).status());
  // Anyone can copy the published envelope from the log and send it again.
  // Beyond the budget of one, each replay is still answered as a duplicate.
  for (int i = 0; i < 3; ++i) {
    const absl::StatusOr<Logged> replayed = SubmitEnvelope(published);
    ASSERT_OK(replayed.status());
    EXPECT_TRUE(replayed->response.duplicate());
  }
  EXPECT_EQ(log_->size(), 1u);
}

}  // namespace
}  // namespace refsum::log
