#include "log/service.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "crypto/dsse.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "log/stored_tree.h"
#include "statement/claim.h"
#include "statement/digest.h"
#include "tlog/bundle.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"
#include "tlog/tlog_proof.h"

namespace refsum::log {
namespace {

using refsum::v1::Digest;

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

// InvalidArgument naming `field` when `value` is longer than `max_bytes`.
absl::Status CheckFieldLength(absl::string_view field, absl::string_view value,
                              size_t max_bytes) {
  if (value.size() <= max_bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " is ", value.size(), " bytes long; the log accepts at most ",
      max_bytes));
}

// Checks the string fields of a digest query.
absl::Status CheckDigestLengths(absl::string_view field, const Digest& digest,
                                size_t max_bytes) {
  RETURN_IF_ERROR(CheckFieldLength(absl::StrCat(field, ".algorithm"),
                                   digest.algorithm(), max_bytes));
  return CheckFieldLength(absl::StrCat(field, ".hex"), digest.hex(),
                          max_bytes);
}

std::string HashBytes(const tlog::Hash& hash) {
  return std::string(crypto::DigestBytes(hash));
}

absl::StatusOr<tlog::Hash> HashFromBytes(absl::string_view bytes,
                                         absl::string_view what) {
  tlog::Hash hash;
  if (bytes.size() != hash.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be 32 bytes, got ", bytes.size()));
  }
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

// Returns `requested`, or the newest size for 0; InvalidArgument beyond it.
absl::StatusOr<uint64_t> ResolveTreeSize(uint64_t requested,
                                         const SignedCheckpoint& latest) {
  if (requested == 0) return latest.checkpoint.size;
  if (requested > latest.checkpoint.size) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", requested, " is beyond the log's size ",
                     latest.checkpoint.size));
  }
  return requested;
}

absl::StatusOr<std::string> BuildTlogProof(const LogReader& reader,
                                           uint64_t index,
                                           const SignedCheckpoint& checkpoint) {
  tlog::TlogProof proof;
  proof.index = index;
  ASSIGN_OR_RETURN(proof.inclusion_proof,
                   CheckedInclusionProof(reader, index,
                                         checkpoint.checkpoint.size,
                                         checkpoint.checkpoint));
  proof.checkpoint = checkpoint.note;
  return tlog::FormatTlogProof(proof);
}

// As BuildTlogProof, for an entry the sequencer just integrated: from the
// batch's nodes in memory when it has them (a new entry, answered with its
// batch's checkpoint), checked against the signed root all the same.
absl::StatusOr<std::string> BuildSubmitProof(const LogReader& reader,
                                             const Integrated& done,
                                             const tlog::Hash& leaf_hash) {
  if (done.batch_nodes == nullptr) {
    return BuildTlogProof(reader, done.index, *done.checkpoint);
  }
  const tlog::Checkpoint& signed_tree = done.checkpoint->checkpoint;
  tlog::TlogProof proof;
  proof.index = done.index;
  ASSIGN_OR_RETURN(proof.inclusion_proof,
                   tlog::BuildInclusionProof(done.index, signed_tree.size,
                                             *done.batch_nodes));
  if (absl::Status checked =
          tlog::VerifyInclusion(done.index, signed_tree.size, leaf_hash,
                                proof.inclusion_proof, signed_tree.root);
      !checked.ok()) {
    return absl::InternalError(absl::StrCat(
        "the sequencer's inclusion proof of entry ", done.index,
        " does not match its checkpoint of size ", signed_tree.size, ": ",
        checked.message()));
  }
  proof.checkpoint = done.checkpoint->note;
  return tlog::FormatTlogProof(proof);
}

absl::StatusOr<std::string> ReadLeaf(const LogReader& reader, uint64_t index) {
  ASSIGN_OR_RETURN(std::vector<std::string> leaves,
                   reader.ReadEntries(index, 1));
  if (leaves.empty()) {
    return absl::NotFoundError(absl::StrCat("entry ", index, " is not stored"));
  }
  return std::move(leaves[0]);
}

absl::StatusOr<crypto::DsseEnvelope> DecodeSubmission(
    const refsum::v1::SubmitRequest& request) {
  switch (request.entry_case()) {
    case refsum::v1::SubmitRequest::kEnvelopeJson:
      return crypto::DecodeDsseJson(request.envelope_json());
    case refsum::v1::SubmitRequest::kLeaf:
      return crypto::DecodeDsseLeaf(request.leaf());
    default:
      return absl::InvalidArgumentError(
          "the request holds neither envelope_json nor leaf");
  }
}

absl::StatusOr<std::string> DigestBytesOf(absl::string_view algorithm,
                                          absl::string_view hex) {
  RETURN_IF_ERROR(statement::ValidateDigest(
      statement::Digest{std::string(algorithm), std::string(hex)}, ""));
  return encoding::HexDecode(hex);
}

absl::StatusOr<std::string> ReferenceValueKey(const Digest& digest) {
  ASSIGN_OR_RETURN(std::string bytes,
                   DigestBytesOf(digest.algorithm(), digest.hex()));
  return LookupKeyForReferenceValue(digest.algorithm(), bytes);
}

absl::StatusOr<std::string> ArtifactKey(absl::string_view sha256_hex) {
  ASSIGN_OR_RETURN(std::string bytes, DigestBytesOf("sha256", sha256_hex));
  return LookupKeyForArtifact(bytes);
}

absl::Status CheckFindLengths(const refsum::v1::FindRequest& request,
                              size_t max_bytes) {
  RETURN_IF_ERROR(CheckFieldLength("artifact_sha256",
                                   request.artifact_sha256(), max_bytes));
  RETURN_IF_ERROR(CheckDigestLengths("reference_value",
                                     request.reference_value(), max_bytes));
  RETURN_IF_ERROR(CheckFieldLength("source.repository",
                                   request.source().repository(), max_bytes));
  return CheckFieldLength("source.commit", request.source().commit(),
                          max_bytes);
}

absl::StatusOr<std::string> FindKey(const refsum::v1::FindRequest& request) {
  switch (request.query_case()) {
    case refsum::v1::FindRequest::kArtifactSha256:
      return ArtifactKey(request.artifact_sha256());
    case refsum::v1::FindRequest::kReferenceValue:
      return ReferenceValueKey(request.reference_value());
    case refsum::v1::FindRequest::kSource:
      if (request.source().repository().empty() ||
          request.source().commit().empty()) {
        return absl::InvalidArgumentError(
            "a source query needs a repository and a commit");
      }
      return LookupKeyForSource(request.source().repository(),
                                request.source().commit());
    default:
      return absl::InvalidArgumentError("the request holds no query");
  }
}

// Lists indices under `key` that the tree of `tree_size` contains (lookup
// records of a batch become visible just before its checkpoint does).
absl::StatusOr<IndexPage> LookupInTree(const LogReader& reader,
                                       absl::string_view key,
                                       const refsum::v1::PageRequest& page,
                                       uint32_t max_page_size,
                                       uint64_t tree_size) {
  const uint32_t limit =
      page.size() == 0 ? max_page_size : std::min(page.size(), max_page_size);
  ASSIGN_OR_RETURN(
      IndexPage result,
      reader.Lookup(key,
                    page.after_set() ? std::optional<uint64_t>(page.after())
                                     : std::nullopt,
                    limit));
  const auto outside = std::find_if(
      result.indices.begin(), result.indices.end(),
      [tree_size](uint64_t index) { return index >= tree_size; });
  if (outside != result.indices.end()) {
    result.indices.erase(outside, result.indices.end());
    result.more = false;
  }
  return result;
}

void FillPage(const IndexPage& page, refsum::v1::IndexPage* response) {
  response->mutable_indices()->Add(page.indices.begin(), page.indices.end());
  response->set_more(page.more);
}

}  // namespace

LogService::LogService(const LogReader* reader, Sequencer* sequencer,
                       const Admission* admission, ServiceOptions options)
    : reader_(reader),
      sequencer_(sequencer),
      admission_(admission),
      options_(options),
      completions_(options.completion_threads) {}

void LogService::Record(absl::string_view method,
                        const absl::Status& status) const {
  if (options_.metrics == nullptr) return;
  if (!status.ok()) options_.metrics->RecordRpcError(method, status.code());
  if (method == "Submit" && !status.ok()) {
    options_.metrics->RecordSubmission(SubmissionResult::kError);
  }
}

grpc::ServerUnaryReactor* LogService::Reply(
    grpc::CallbackServerContext* context, absl::string_view method,
    const absl::Status& status) const {
  Record(method, status);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

bool LogService::AdmitInflight() {
  const size_t limit = options_.max_inflight_submissions;
  size_t current = inflight_submissions_.load();
  do {
    if (limit != 0 && current >= limit) return false;
  } while (!inflight_submissions_.compare_exchange_weak(current, current + 1));
  return true;
}

void LogService::FinishSubmission(grpc::ServerUnaryReactor* reactor,
                                  const absl::Status& status) {
  Record("Submit", status);
  // Before Finish, so that a client that saw the answer finds the slot free.
  inflight_submissions_.fetch_sub(1);
  reactor->Finish(ToGrpc(status));
}

grpc::ServerUnaryReactor* LogService::Submit(
    grpc::CallbackServerContext* context,
    const refsum::v1::SubmitRequest* request,
    refsum::v1::SubmitResponse* response) {
  if (!AdmitInflight()) {
    return Reply(context, "Submit",
                 absl::ResourceExhaustedError(absl::StrCat(
                     "the log is answering ",
                     options_.max_inflight_submissions,
                     " submissions, its limit; retry later")));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const auto fail = [this, reactor](const absl::Status& status) {
    FinishSubmission(reactor, status);
    return reactor;
  };
  if (request->wait_for_witnesses() && options_.witnesses == nullptr) {
    return fail(absl::FailedPreconditionError(
        "this log has no witness policy, so there is no witnessed checkpoint "
        "to wait for"));
  }
  if (absl::Status status =
          CheckFieldLength("public_key_pem", request->public_key_pem(),
                           options_.max_query_field_bytes);
      !status.ok()) {
    return fail(status);
  }
  absl::StatusOr<crypto::DsseEnvelope> envelope = DecodeSubmission(*request);
  if (!envelope.ok()) return fail(envelope.status());
  const std::shared_ptr<const SignedCheckpoint> latest = sequencer_->Latest();
  absl::StatusOr<PendingEntry> entry = admission_->Admit(
      *envelope, request->public_key_pem(), latest->checkpoint.size);
  if (!entry.ok()) return fail(entry.status());
  // Admit verified the envelope's one signature. An envelope already in the
  // log costs nothing: anyone can copy a vendor's published envelope, and
  // replaying it must not use up the vendor's budget.
  if (options_.rate_limiter != nullptr) {
    absl::StatusOr<std::optional<uint64_t>> logged =
        reader_->FindLeafHash(entry->leaf_hash);
    if (!logged.ok()) return fail(logged.status());
    if (!logged->has_value() &&
        !options_.rate_limiter->TryAcquire(envelope->signatures[0].keyid)) {
      return fail(absl::ResourceExhaustedError(
          absl::StrCat("key ", envelope->signatures[0].keyid,
                       " exceeded its submission rate limit of ",
                       options_.rate_limiter->rate_per_second(),
                       " per second; retry later")));
    }
  }

  const tlog::Hash leaf_hash = entry->leaf_hash;
  // Answers with the proof against done->checkpoint, on a worker: building
  // the proof reads storage, which neither the sequencer's nor the witness
  // publisher's thread may wait for.
  const auto finish = [this, reactor, response,
                       leaf_hash](absl::StatusOr<Integrated> done) {
    completions_.Schedule([this, reactor, response, leaf_hash,
                           done = std::move(done)] {
      const absl::Status status = [&]() -> absl::Status {
        RETURN_IF_ERROR(done.status());
        ASSIGN_OR_RETURN(std::string proof,
                         BuildSubmitProof(*reader_, *done, leaf_hash));
        response->set_index(done->index);
        response->set_leaf_hash(HashBytes(leaf_hash));
        response->set_checkpoint(done->checkpoint->note);
        response->set_tlog_proof(std::move(proof));
        response->set_duplicate(done->duplicate);
        return absl::OkStatus();
      }();
      if (status.ok() && options_.metrics != nullptr) {
        options_.metrics->RecordSubmission(done->duplicate
                                               ? SubmissionResult::kDuplicate
                                               : SubmissionResult::kNew);
      }
      FinishSubmission(reactor, status);
    });
  };
  WitnessPusher* const witnesses =
      request->wait_for_witnesses() ? options_.witnesses : nullptr;
  sequencer_->Add(
      *std::move(entry),
      [finish, witnesses](absl::StatusOr<Integrated> done) {
        if (witnesses == nullptr || !done.ok()) return finish(std::move(done));
        witnesses->WhenWitnessed(
            done->index + 1,
            [finish, integrated = *std::move(done)](
                absl::StatusOr<std::shared_ptr<const SignedCheckpoint>>
                    witnessed) mutable {
              if (!witnessed.ok()) return finish(witnessed.status());
              integrated.checkpoint = *std::move(witnessed);
              // The batch's nodes prove inclusion in its own tree only.
              integrated.batch_nodes = nullptr;
              finish(std::move(integrated));
            });
      });
  return reactor;
}

grpc::ServerUnaryReactor* LogService::GetCheckpoint(
    grpc::CallbackServerContext* context,
    const refsum::v1::GetCheckpointRequest* /*request*/,
    refsum::v1::GetCheckpointResponse* response) {
  response->set_checkpoint(sequencer_->Latest()->note);
  if (options_.witnesses != nullptr) {
    if (const std::shared_ptr<const SignedCheckpoint> witnessed =
            options_.witnesses->Witnessed()) {
      response->set_witnessed_checkpoint(witnessed->note);
    }
  }
  return Reply(context, "GetCheckpoint", absl::OkStatus());
}

grpc::ServerUnaryReactor* LogService::GetEntries(
    grpc::CallbackServerContext* context,
    const refsum::v1::GetEntriesRequest* request,
    refsum::v1::GetEntriesResponse* response) {
  const uint64_t size = sequencer_->Latest()->checkpoint.size;
  if (request->start() >= size) {
    return Reply(context, "GetEntries", absl::OutOfRangeError(absl::StrCat(
                               "start ", request->start(),
                               " is not below the tree size ", size)));
  }
  const uint64_t count = std::min<uint64_t>(
      {request->count() == 0 ? options_.max_page_size : request->count(),
       options_.max_page_size, size - request->start()});
  absl::StatusOr<std::vector<std::string>> leaves =
      reader_->ReadEntries(request->start(), count);
  if (!leaves.ok()) return Reply(context, "GetEntries", leaves.status());
  for (std::string& leaf : *leaves) response->add_leaves(std::move(leaf));
  return Reply(context, "GetEntries", absl::OkStatus());
}

grpc::ServerUnaryReactor* LogService::GetInclusionProof(
    grpc::CallbackServerContext* context,
    const refsum::v1::GetInclusionProofRequest* request,
    refsum::v1::GetInclusionProofResponse* response) {
  const auto answer = [&]() -> absl::Status {
    const std::shared_ptr<const SignedCheckpoint> latest =
        sequencer_->Latest();
    ASSIGN_OR_RETURN(uint64_t size,
                     ResolveTreeSize(request->tree_size(), *latest));
    uint64_t index = request->index();
    if (request->leaf_case() ==
        refsum::v1::GetInclusionProofRequest::kLeafHash) {
      ASSIGN_OR_RETURN(tlog::Hash hash,
                       HashFromBytes(request->leaf_hash(), "leaf_hash"));
      ASSIGN_OR_RETURN(std::optional<uint64_t> found,
                       reader_->FindLeafHash(hash));
      if (!found.has_value() || *found >= size) {
        return absl::NotFoundError(absl::StrCat(
            "no leaf with that hash in the tree of size ", size));
      }
      index = *found;
    } else if (index >= size) {
      return absl::OutOfRangeError(absl::StrCat(
          "index ", index, " is not below the tree size ", size));
    }
    ASSIGN_OR_RETURN(
        std::vector<tlog::Hash> hashes,
        CheckedInclusionProof(*reader_, index, size, latest->checkpoint));
    response->set_index(index);
    response->set_tree_size(size);
    for (const tlog::Hash& hash : hashes) response->add_hashes(HashBytes(hash));
    return absl::OkStatus();
  };
  return Reply(context, "GetInclusionProof", answer());
}

grpc::ServerUnaryReactor* LogService::GetConsistencyProof(
    grpc::CallbackServerContext* context,
    const refsum::v1::GetConsistencyProofRequest* request,
    refsum::v1::GetConsistencyProofResponse* response) {
  const auto answer = [&]() -> absl::Status {
    const std::shared_ptr<const SignedCheckpoint> latest =
        sequencer_->Latest();
    ASSIGN_OR_RETURN(uint64_t new_size,
                     ResolveTreeSize(request->new_size(), *latest));
    ASSIGN_OR_RETURN(std::vector<tlog::Hash> hashes,
                     CheckedConsistencyProof(*reader_, request->old_size(),
                                             new_size, latest->checkpoint));
    response->set_old_size(request->old_size());
    response->set_new_size(new_size);
    for (const tlog::Hash& hash : hashes) response->add_hashes(HashBytes(hash));
    return absl::OkStatus();
  };
  return Reply(context, "GetConsistencyProof", answer());
}

grpc::ServerUnaryReactor* LogService::Find(
    grpc::CallbackServerContext* context,
    const refsum::v1::FindRequest* request, refsum::v1::IndexPage* response) {
  const auto answer = [&]() -> absl::Status {
    RETURN_IF_ERROR(
        CheckFindLengths(*request, options_.max_query_field_bytes));
    ASSIGN_OR_RETURN(std::string key, FindKey(*request));
    ASSIGN_OR_RETURN(IndexPage page,
                     LookupInTree(*reader_, key, request->page(),
                                  options_.max_page_size,
                                  sequencer_->Latest()->checkpoint.size));
    FillPage(page, response);
    return absl::OkStatus();
  };
  return Reply(context, "Find", answer());
}

grpc::ServerUnaryReactor* LogService::GetAttestations(
    grpc::CallbackServerContext* context,
    const refsum::v1::GetAttestationsRequest* request,
    refsum::v1::IndexPage* response) {
  absl::StatusOr<IndexPage> page = LookupInTree(
      *reader_, LookupKeyForAttestationsOf(request->claim_index()),
      request->page(), options_.max_page_size,
      sequencer_->Latest()->checkpoint.size);
  if (!page.ok()) return Reply(context, "GetAttestations", page.status());
  FillPage(*page, response);
  return Reply(context, "GetAttestations", absl::OkStatus());
}

grpc::ServerUnaryReactor* LogService::GetBundle(
    grpc::CallbackServerContext* context,
    const refsum::v1::GetBundleRequest* request,
    refsum::v1::GetBundleResponse* response) {
  const auto answer = [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckFieldLength("artifact_sha256",
                                     request->artifact_sha256(),
                                     options_.max_query_field_bytes));
    RETURN_IF_ERROR(CheckDigestLengths("reference_value",
                                       request->reference_value(),
                                       options_.max_query_field_bytes));
    ASSIGN_OR_RETURN(const std::shared_ptr<const SignedCheckpoint> checkpoint,
                     BundleCheckpoint());
    const uint64_t size = checkpoint->checkpoint.size;
    // With witnesses, the log may hold entries the served checkpoint does
    // not cover yet. Read after it, so that logged_size >= size.
    const uint64_t logged_size = options_.witnesses == nullptr
                                     ? size
                                     : sequencer_->Latest()->checkpoint.size;
    const auto not_witnessed = [size](absl::string_view what) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, " logged but not yet covered by a checkpoint that meets the "
          "log's witness policy (the witnessed tree has ", size,
          " entries); retry later"));
    };
    std::vector<uint64_t> claims;
    // Set when a page limit left out claims or attestations.
    bool truncated = false;
    if (request->query_case() == refsum::v1::GetBundleRequest::kClaimIndex) {
      const uint64_t index = request->claim_index();
      if (index >= logged_size) {
        return absl::NotFoundError(absl::StrCat(
            "entry ", index, " is not in the tree of size ", logged_size));
      }
      if (index >= size) {
        return not_witnessed(absl::StrCat("entry ", index, " is"));
      }
      claims.push_back(index);
    } else {
      std::string key;
      if (request->query_case() ==
          refsum::v1::GetBundleRequest::kReferenceValue) {
        ASSIGN_OR_RETURN(key, ReferenceValueKey(request->reference_value()));
      } else if (request->query_case() ==
                 refsum::v1::GetBundleRequest::kArtifactSha256) {
        ASSIGN_OR_RETURN(key, ArtifactKey(request->artifact_sha256()));
      } else {
        return absl::InvalidArgumentError("the request holds no query");
      }
      ASSIGN_OR_RETURN(IndexPage page,
                       LookupInTree(*reader_, key, {}, options_.max_page_size,
                                    logged_size));
      if (page.indices.empty()) {
        return absl::NotFoundError("no claim in the log matches the query");
      }
      if (page.more) truncated = true;
      // Ascending, so the witnessed ones come first.
      for (uint64_t index : page.indices) {
        if (index < size) claims.push_back(index);
      }
      if (claims.empty()) return not_witnessed("the matching claims are");
    }
    tlog::Bundle bundle;
    for (uint64_t index : claims) {
      ASSIGN_OR_RETURN(std::string leaf, ReadLeaf(*reader_, index));
      ASSIGN_OR_RETURN(crypto::DsseEnvelope envelope,
                       crypto::DecodeDsseLeaf(leaf));
      if (!statement::ParseClaim(envelope.payload).ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("entry ", index, " is not a claim"));
      }
      tlog::BundleClaim claim;
      ASSIGN_OR_RETURN(claim.claim,
                       BundleEntryFor(index, std::move(leaf), *checkpoint));
      ASSIGN_OR_RETURN(IndexPage attestations,
                       LookupInTree(*reader_, LookupKeyForAttestationsOf(index),
                                    {}, options_.max_page_size, size));
      if (attestations.more) truncated = true;
      for (uint64_t attestation_index : attestations.indices) {
        ASSIGN_OR_RETURN(std::string attestation_leaf,
                         ReadLeaf(*reader_, attestation_index));
        ASSIGN_OR_RETURN(tlog::BundleEntry attestation,
                         BundleEntryFor(attestation_index,
                                        std::move(attestation_leaf),
                                        *checkpoint));
        claim.attestations.push_back(std::move(attestation));
      }
      bundle.claims.push_back(std::move(claim));
    }
    ASSIGN_OR_RETURN(std::string json, tlog::EncodeBundle(bundle));
    response->set_bundle_json(std::move(json));
    response->set_truncated(truncated);
    return absl::OkStatus();
  };
  return Reply(context, "GetBundle", answer());
}

absl::StatusOr<std::shared_ptr<const SignedCheckpoint>>
LogService::BundleCheckpoint() const {
  if (options_.witnesses == nullptr) return sequencer_->Latest();
  std::shared_ptr<const SignedCheckpoint> witnessed =
      options_.witnesses->Witnessed();
  if (witnessed == nullptr) {
    return absl::FailedPreconditionError(
        "no checkpoint of this log has met its witness policy yet; retry "
        "later");
  }
  return witnessed;
}

absl::StatusOr<KnownKey> LogService::FindSigner(absl::string_view keyid) const {
  if (const KnownKey* configured = admission_->FindConfiguredKey(keyid)) {
    return *configured;
  }
  ASSIGN_OR_RETURN(std::optional<KnownKey> stored, reader_->ReadKey(keyid));
  if (!stored.has_value()) {
    return absl::NotFoundError(absl::StrCat("no signer with keyid ", keyid));
  }
  return *std::move(stored);
}

absl::StatusOr<tlog::BundleEntry> LogService::BundleEntryFor(
    uint64_t index, std::string leaf,
    const SignedCheckpoint& checkpoint) const {
  tlog::BundleEntry entry;
  ASSIGN_OR_RETURN(std::string proof,
                   BuildTlogProof(*reader_, index, checkpoint));
  ASSIGN_OR_RETURN(entry.proof, tlog::ParseTlogProof(proof));
  ASSIGN_OR_RETURN(crypto::DsseEnvelope envelope, crypto::DecodeDsseLeaf(leaf));
  if (envelope.signatures.size() != 1) {
    return absl::DataLossError(
        absl::StrCat("stored entry ", index, " does not have one signature"));
  }
  ASSIGN_OR_RETURN(KnownKey key, FindSigner(envelope.signatures[0].keyid));
  ASSIGN_OR_RETURN(crypto::PublicKey public_key,
                   crypto::PublicKey::FromPem(key.public_key_pem));
  entry.public_key = public_key.der();
  entry.leaf = std::move(leaf);
  return entry;
}

grpc::ServerUnaryReactor* LogService::GetKey(
    grpc::CallbackServerContext* context,
    const refsum::v1::GetKeyRequest* request,
    refsum::v1::GetKeyResponse* response) {
  const auto answer = [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckFieldLength("keyid", request->keyid(),
                                     options_.max_query_field_bytes));
    ASSIGN_OR_RETURN(KnownKey key, FindSigner(request->keyid()));
    response->set_public_key_pem(key.public_key_pem);
    response->set_role(key.role);
    response->set_name(key.name);
    return absl::OkStatus();
  };
  return Reply(context, "GetKey", answer());
}

}  // namespace refsum::log
