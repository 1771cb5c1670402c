// Checks of what a log's storage holds against its signed checkpoints:
// at every start (the sequencer), in fsck, and on every proof served.

#ifndef REFSUM_LOG_STORED_TREE_H_
#define REFSUM_LOG_STORED_TREE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/note.h"
#include "log/storage.h"
#include "tlog/checkpoint.h"
#include "tlog/compact_range.h"
#include "tlog/merkle.h"

namespace refsum::log {

// Opens the stored checkpoint `note` with the log's `verifier` and parses
// it. Returns FailedPrecondition if `verifier` did not sign it or it is the
// checkpoint of another origin than `origin`, and InvalidArgument if the
// signed body is not a checkpoint.
absl::StatusOr<tlog::Checkpoint> OpenStoredCheckpoint(
    const std::string& note, const std::string& origin,
    const crypto::NoteVerifier& verifier);

// Rebuilds the compact range of the stored tree of `checkpoint`'s size from
// its right border (RangeNodes(0, size): at most 64 stored node hashes, one
// MultiGet, so O(log size)) and checks that its root is the checkpoint's.
// Returns DataLoss naming the sizes and roots if the root differs or a
// border node is not stored, and storage errors (DataLoss for a damaged
// file). Nodes off the border are not read: fsck (log/fsck.h) checks them.
absl::StatusOr<tlog::CompactRange> ReadStoredRange(
    const LogReader& reader, const tlog::Checkpoint& checkpoint);

// Proofs built from stored node hashes (tlog::BuildInclusionProof and
// tlog::BuildConsistencyProof) and checked before they are served, so that a
// node damaged in a way RocksDB's checksums cannot see (a bad write, a bad
// copy) makes the log answer DataLoss instead of serving a wrong proof.
// `signed_tree` is a checkpoint the log signed, at least as large as the
// trees of the proof: the proof is checked against its root, and the root of
// a smaller tree is first proved consistent with it from stored nodes.
// Each costs two or three times the reads of the proof alone.
//
// Returns the proof, the errors of building it (InvalidArgument for sizes
// out of order or beyond `signed_tree`, storage errors), or DataLoss naming
// the tree whose stored nodes do not match the signed root.
absl::StatusOr<std::vector<tlog::Hash>> CheckedInclusionProof(
    const LogReader& reader, uint64_t index, uint64_t size,
    const tlog::Checkpoint& signed_tree);
absl::StatusOr<std::vector<tlog::Hash>> CheckedConsistencyProof(
    const LogReader& reader, uint64_t old_size, uint64_t new_size,
    const tlog::Checkpoint& signed_tree);

}  // namespace refsum::log

#endif  // REFSUM_LOG_STORED_TREE_H_
