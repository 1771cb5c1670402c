#include "submitter/receipt.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/sha256.h"
#include "tlog/proof.h"

namespace refsum::submitter {
namespace {

// A verifier key line is well under 200 bytes.
constexpr size_t kMaxLogKeyFileBytes = 4096;

}  // namespace

absl::StatusOr<std::unique_ptr<crypto::NoteVerifier>> ReadLogKeyFile(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::string contents, ReadFile(path, kMaxLogKeyFileBytes));
  const absl::string_view line = absl::StripAsciiWhitespace(contents);
  absl::StatusOr<std::unique_ptr<crypto::NoteVerifier>> verifier =
      line.find('\n') == absl::string_view::npos
          ? crypto::NewNoteVerifierFromKey(line)
          : absl::InvalidArgumentError("more than one line");
  if (!verifier.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " does not hold a log verifier key (",
        "<name>+<hex id>+<base64 key>): ", verifier.status().message()));
  }
  return verifier;
}

absl::StatusOr<tlog::Checkpoint> VerifyEntryProof(
    const tlog::TlogProof& proof, absl::string_view leaf,
    const crypto::NoteVerifier* log_key) {
  absl::StatusOr<tlog::Checkpoint> checkpoint =
      tlog::ParseCheckpointNote(proof.checkpoint);
  if (!checkpoint.ok()) {
    return absl::DataLossError(absl::StrCat("the checkpoint does not parse: ",
                                            checkpoint.status().message()));
  }
  if (proof.index >= checkpoint->size) {
    return absl::DataLossError(absl::StrCat(
        "entry ", proof.index, " is not in the checkpoint's tree of size ",
        checkpoint->size));
  }
  const absl::Status included =
      tlog::VerifyInclusion(proof.index, checkpoint->size, tlog::HashLeaf(leaf),
                            proof.inclusion_proof, checkpoint->root);
  if (!included.ok()) {
    return absl::DataLossError(
        absl::StrCat("the inclusion proof of entry ", proof.index,
                     " does not verify: ", included.message()));
  }
  if (log_key != nullptr) {
    if (checkpoint->origin != log_key->name()) {
      return absl::UnauthenticatedError(
          absl::StrCat("the checkpoint is of log \"", checkpoint->origin,
                       "\", not of \"", log_key->name(), "\" (--log_key)"));
    }
    const crypto::NoteVerifier* const verifiers[] = {log_key};
    const absl::StatusOr<crypto::VerifiedNote> opened =
        crypto::OpenNote(proof.checkpoint, verifiers);
    if (!opened.ok()) {
      return absl::UnauthenticatedError(
          absl::StrCat("the checkpoint's signature by ", log_key->name(),
                       " does not verify: ", opened.status().message()));
    }
  }
  return checkpoint;
}

absl::StatusOr<Receipt> VerifySubmitResponse(
    const refsum::v1::SubmitResponse& response, absl::string_view leaf,
    const crypto::NoteVerifier* log_key) {
  if (response.leaf_hash() != crypto::DigestBytes(tlog::HashLeaf(leaf))) {
    return absl::DataLossError(
        "the log's leaf hash is not that of the submitted entry");
  }
  absl::StatusOr<tlog::TlogProof> proof =
      tlog::ParseTlogProof(response.tlog_proof());
  if (!proof.ok()) {
    return absl::DataLossError(absl::StrCat("the tlog-proof does not parse: ",
                                            proof.status().message()));
  }
  if (proof->index != response.index()) {
    return absl::DataLossError(absl::StrCat("the tlog-proof is for entry ",
                                            proof->index, ", the log said ",
                                            response.index()));
  }
  if (proof->checkpoint != response.checkpoint()) {
    return absl::DataLossError(
        "the tlog-proof is against another checkpoint than the response's");
  }
  ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint,
                   VerifyEntryProof(*proof, leaf, log_key));
  return Receipt{response.index(), response.duplicate(), std::move(checkpoint),
                 response.tlog_proof()};
}

absl::Status VerifySameHistory(const tlog::Checkpoint& a,
                               const tlog::Checkpoint& b,
                               absl::Span<const tlog::Hash> proof) {
  if (a.origin != b.origin) {
    return absl::DataLossError(absl::StrCat(
        "checkpoints of two logs: \"", a.origin, "\" and \"", b.origin, "\""));
  }
  const tlog::Checkpoint& older = a.size <= b.size ? a : b;
  const tlog::Checkpoint& newer = a.size <= b.size ? b : a;
  const absl::Status consistent = tlog::VerifyConsistency(
      older.size, newer.size, older.root, newer.root, proof);
  if (!consistent.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the log's checkpoints of size ", older.size, " and ", newer.size,
        " are not consistent (a split view?): ", consistent.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<tlog::Checkpoint> VerifyClaimBundle(
    const tlog::Bundle& bundle, uint64_t claim_index,
    absl::string_view claim_leaf, const crypto::NoteVerifier* log_key) {
  if (bundle.claims.size() != 1) {
    return absl::DataLossError(absl::StrCat("the bundle of one claim holds ",
                                            bundle.claims.size(), " claims"));
  }
  const tlog::BundleClaim& claim = bundle.claims[0];
  if (claim.claim.leaf != claim_leaf ||
      claim.claim.proof.index != claim_index) {
    return absl::DataLossError(
        absl::StrCat("the bundle is not of the claim at entry ", claim_index));
  }
  ASSIGN_OR_RETURN(
      tlog::Checkpoint checkpoint,
      VerifyEntryProof(claim.claim.proof, claim.claim.leaf, log_key));
  for (const tlog::BundleEntry& attestation : claim.attestations) {
    // One checkpoint text for all: its signature was checked above.
    if (attestation.proof.checkpoint != claim.claim.proof.checkpoint) {
      return absl::DataLossError(
          absl::StrCat("bundle attestation: entry ", attestation.proof.index,
                       " is proved against another checkpoint than the claim"));
    }
    const absl::StatusOr<tlog::Checkpoint> checked =
        VerifyEntryProof(attestation.proof, attestation.leaf, nullptr);
    if (!checked.ok()) {
      return absl::Status(
          checked.status().code(),
          absl::StrCat("bundle attestation: ", checked.status().message()));
    }
  }
  return checkpoint;
}

}  // namespace refsum::submitter
