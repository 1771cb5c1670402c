#include "log/stored_tree.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "tlog/merkle.h"

namespace refsum::log {
namespace {

std::string HexHash(const tlog::Hash& hash) {
  return encoding::HexEncode(crypto::DigestBytes(hash));
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
  const std::vector<tlog::NodeId> border = tlog::RangeNodes(0, checkpoint.size);
  std::vector<tlog::Hash> hashes;
  if (!border.empty()) {
    absl::StatusOr<std::vector<tlog::Hash>> read = reader.ReadNodes(border);
    if (absl::IsNotFound(read.status())) {
      return absl::DataLossError(absl::StrCat(
          "the stored checkpoint of size ", checkpoint.size,
          " needs tree nodes that are not stored: ", read.status().message()));
    }
    ASSIGN_OR_RETURN(hashes, std::move(read));
  }
  ASSIGN_OR_RETURN(tlog::CompactRange range,
                   tlog::CompactRange::FromHashes(0, checkpoint.size,
                                                  std::move(hashes)));
  ASSIGN_OR_RETURN(tlog::Hash root, range.Root());
  if (root != checkpoint.root) {
    return absl::DataLossError(absl::StrCat(
        "the stored tree of size ", checkpoint.size, " has root ",
        HexHash(root), " but the stored checkpoint says ",
        HexHash(checkpoint.root)));
  }
  return range;
}

}  // namespace refsum::log
