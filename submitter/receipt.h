// Checking what the log returns to a submitter before anything is printed
// or written: the Submit response for the submitted entry, and the bundle
// of the claim once its attestations are in.
//
// Every proof is checked against the checkpoint it comes with: the entry's
// leaf hash, the RFC 6962 inclusion proof against the checkpoint's root and,
// when the caller has the log's verifier key, the checkpoint's signature by
// it. Without the key a checkpoint is only known to be well-formed, so the
// caller must say so (refsum-submit prints a note); a verifier that holds a
// policy checks the signature and the witnesses' cosignatures later anyway.
//
// All functions are thread-safe.

#ifndef REFSUM_SUBMITTER_RECEIPT_H_
#define REFSUM_SUBMITTER_RECEIPT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "crypto/note.h"
#include "proto/log.pb.h"
#include "tlog/bundle.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/tlog_proof.h"

namespace refsum::submitter {

// Reads a file holding one C2SP verifier key line (the log's log.vkey, as
// `refsum-log keygen` writes it) and returns a verifier for checkpoints
// signed by it. Returns ReadFile's errors, or InvalidArgument naming the
// path when the file does not hold exactly one Ed25519 note verifier key.
absl::StatusOr<std::unique_ptr<crypto::NoteVerifier>> ReadLogKeyFile(
    const std::string& path);

// Checks that `proof` proves that `leaf` is the entry at proof.index in the
// tree of proof.checkpoint, and when `log_key` is not null that the
// checkpoint is signed by it (its origin must then be the key's name).
// Returns the parsed checkpoint, or DataLoss naming what does not hold
// (Unauthenticated for a bad or missing log signature).
absl::StatusOr<tlog::Checkpoint> VerifyEntryProof(
    const tlog::TlogProof& proof, absl::string_view leaf,
    const crypto::NoteVerifier* log_key);

// A Submit response that verified.
struct Receipt {
  uint64_t index = 0;
  // The entry was in the log before this submission.
  bool duplicate = false;
  tlog::Checkpoint checkpoint;
  // The tlog-proof text, as the log sent it.
  std::string tlog_proof;
};

// Checks a Submit response for the entry `leaf`: its leaf hash is
// HashLeaf(leaf); its tlog-proof parses, is for the response's index and
// against the response's checkpoint, and passes VerifyEntryProof. Returns
// VerifyEntryProof's errors, or DataLoss for a response that contradicts
// itself.
absl::StatusOr<Receipt> VerifySubmitResponse(
    const refsum::v1::SubmitResponse& response, absl::string_view leaf,
    const crypto::NoteVerifier* log_key);

// Checks that two checkpoints of the same log describe one history: same
// origin, and the smaller tree is a prefix of the larger by `proof`, the
// consistency proof from the smaller size to the larger (empty for equal
// sizes, which need equal roots). Returns DataLoss naming the sizes
// otherwise: the log has shown two views of its history.
absl::Status VerifySameHistory(const tlog::Checkpoint& a,
                               const tlog::Checkpoint& b,
                               absl::Span<const tlog::Hash> proof);

// Checks a bundle fetched for the claim `claim_leaf` at `claim_index`: it
// holds exactly that claim, and every entry's proof (the claim's and each
// attestation's) passes VerifyEntryProof. Returns the bundle's checkpoint.
// Whether the attestations say MATCH is for AttestationTally to judge.
absl::StatusOr<tlog::Checkpoint> VerifyClaimBundle(
    const tlog::Bundle& bundle, uint64_t claim_index,
    absl::string_view claim_leaf, const crypto::NoteVerifier* log_key);

}  // namespace refsum::submitter

#endif  // REFSUM_SUBMITTER_RECEIPT_H_
