#include "log/stored_tree.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/status_macros.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"

namespace refsum::log {
namespace {

std::string HexHash(const tlog::Hash& hash) {
  return encoding::HexEncode(crypto::DigestBytes(hash));
}

// Restores the compact range of the stored tree of `size` leaves from its
// right border. Returns NotFound if a border node is not stored.
absl::StatusOr<tlog::CompactRange> StoredRange(const LogReader& reader,
                                               uint64_t size) {
  const std::vector<tlog::NodeId> border = tlog::RangeNodes(0, size);
  std::vector<tlog::Hash> hashes;
  if (!border.empty()) {
    ASSIGN_OR_RETURN(hashes, reader.ReadNodes(border));
  }
  return tlog::CompactRange::FromHashes(0, size, std::move(hashes));
}

// Returns the root of the tree of `size` leaves: `signed_tree`'s, or one
// computed from stored nodes and proved consistent with `signed_tree`'s.
// Returns InvalidArgument if `size` is beyond `signed_tree`.
absl::Status CheckSize(uint64_t size, const tlog::Checkpoint& signed_tree) {
  if (size > signed_tree.size) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", size, " is beyond the checkpoint of size ",
                     signed_tree.size));
  }
  return absl::OkStatus();
}

// Returns the root of the stored tree of `old_size` leaves (0 < old_size <=
// new_size), after checking that `proof` proves it consistent with the
// tree of `new_size` leaves and root `new_root`; DataLoss if it does not.
absl::StatusOr<tlog::Hash> StoredRootConsistentWith(
    const LogReader& reader, uint64_t old_size, uint64_t new_size,
    const tlog::Hash& new_root, absl::Span<const tlog::Hash> proof) {
  ASSIGN_OR_RETURN(const tlog::CompactRange range,
                   StoredRange(reader, old_size));
  ASSIGN_OR_RETURN(const tlog::Hash root, range.Root());
  if (!tlog::VerifyConsistency(old_size, new_size, root, new_root, proof)
           .ok()) {
    return absl::DataLossError(absl::StrCat(
        "the stored tree nodes of size ", old_size,
        " are not consistent with the tree of size ", new_size,
        "; run refsum-log fsck"));
  }
  return root;
}

// Returns the root of the tree of `size` leaves: `signed_tree`'s, or one
// computed from stored nodes and proved consistent with `signed_tree`'s.
absl::StatusOr<tlog::Hash> CheckedRoot(const LogReader& reader, uint64_t size,
                                       const tlog::Checkpoint& signed_tree) {
  RETURN_IF_ERROR(CheckSize(size, signed_tree));
  if (size == signed_tree.size) return signed_tree.root;
  if (size == 0) return tlog::EmptyRoot();
  ASSIGN_OR_RETURN(
      const std::vector<tlog::Hash> proof,
      tlog::BuildConsistencyProof(size, signed_tree.size, reader));
  return StoredRootConsistentWith(reader, size, signed_tree.size,
                                  signed_tree.root, proof);
}

}  // namespace

absl::StatusOr<tlog::Checkpoint> OpenStoredCheckpoint(
    const std::string& note, const std::string& origin,
    const crypto::NoteVerifier& verifier) {
  const crypto::NoteVerifier* verifiers[] = {&verifier};
  absl::StatusOr<crypto::VerifiedNote> opened =
      crypto::OpenNote(note, verifiers);
  if (!opened.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the stored checkpoint is not signed by this log's key for origin ",
        origin, ": ", opened.status().message()));
  }
  ASSIGN_OR_RETURN(tlog::Checkpoint checkpoint,
                   tlog::ParseCheckpointBody(opened->text));
  if (checkpoint.origin != origin) {
    return absl::FailedPreconditionError(
        absl::StrCat("the data directory holds the log \"", checkpoint.origin,
                     "\", not \"", origin, "\""));
  }
  return checkpoint;
}

absl::StatusOr<tlog::CompactRange> ReadStoredRange(
    const LogReader& reader, const tlog::Checkpoint& checkpoint) {
  absl::StatusOr<tlog::CompactRange> range =
      StoredRange(reader, checkpoint.size);
  if (absl::IsNotFound(range.status())) {
    return absl::DataLossError(absl::StrCat(
        "the stored checkpoint of size ", checkpoint.size,
        " needs tree nodes that are not stored: ", range.status().message()));
  }
  RETURN_IF_ERROR(range.status());
  ASSIGN_OR_RETURN(tlog::Hash root, range->Root());
  if (root != checkpoint.root) {
    return absl::DataLossError(absl::StrCat(
        "the stored tree of size ", checkpoint.size, " has root ",
        HexHash(root), " but the stored checkpoint says ",
        HexHash(checkpoint.root)));
  }
  return range;
}

absl::StatusOr<std::vector<tlog::Hash>> CheckedInclusionProof(
    const LogReader& reader, uint64_t index, uint64_t size,
    const tlog::Checkpoint& signed_tree) {
  RETURN_IF_ERROR(CheckSize(size, signed_tree));
  // The proof's nodes and the leaf's hash, which checks it, in one read.
  ASSIGN_OR_RETURN(tlog::ProofPlan plan, tlog::PlanInclusionProof(index, size));
  plan.nodes.push_back(tlog::NodeId{0, index});
  ASSIGN_OR_RETURN(const std::vector<tlog::Hash> hashes,
                   reader.ReadNodes(plan.nodes));
  if (hashes.size() != plan.nodes.size()) {
    return absl::InternalError(
        absl::StrCat("asked for ", plan.nodes.size(), " tree nodes, got ",
                     hashes.size()));
  }
  plan.nodes.pop_back();
  const tlog::Hash& leaf_hash = hashes.back();
  ASSIGN_OR_RETURN(
      std::vector<tlog::Hash> proof,
      tlog::AssembleProof(plan, absl::MakeConstSpan(hashes).first(
                                    plan.nodes.size())));
  ASSIGN_OR_RETURN(const tlog::Hash root,
                   CheckedRoot(reader, size, signed_tree));
  if (!tlog::VerifyInclusion(index, size, leaf_hash, proof, root).ok()) {
    return absl::DataLossError(absl::StrCat(
        "the stored tree nodes give a wrong inclusion proof of entry ", index,
        " in the tree of size ", size, "; run refsum-log fsck"));
  }
  return proof;
}

absl::StatusOr<std::vector<tlog::Hash>> CheckedConsistencyProof(
    const LogReader& reader, uint64_t old_size, uint64_t new_size,
    const tlog::Checkpoint& signed_tree) {
  RETURN_IF_ERROR(CheckSize(new_size, signed_tree));
  ASSIGN_OR_RETURN(std::vector<tlog::Hash> proof,
                   tlog::BuildConsistencyProof(old_size, new_size, reader));
  // The empty proof from the empty tree uses nothing stored.
  if (old_size == 0) return proof;
  ASSIGN_OR_RETURN(const tlog::Hash new_root,
                   CheckedRoot(reader, new_size, signed_tree));
  RETURN_IF_ERROR(
      StoredRootConsistentWith(reader, old_size, new_size, new_root, proof)
          .status());
  return proof;
}

}  // namespace refsum::log
