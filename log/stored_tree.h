// Checks of what a log's storage holds against its newest signed checkpoint,
// shared by the sequencer (at every start) and fsck.

#ifndef REFSUM_LOG_STORED_TREE_H_
#define REFSUM_LOG_STORED_TREE_H_

#include <string>

#include "absl/status/statusor.h"
#include "crypto/note.h"
#include "log/storage.h"
#include "tlog/checkpoint.h"
#include "tlog/compact_range.h"

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

}  // namespace refsum::log

#endif  // REFSUM_LOG_STORED_TREE_H_
