#include "client/state.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "tlog/proof.h"

namespace refsum::client {
namespace {

std::string HashHex(const tlog::Hash& hash) {
  return encoding::HexEncode(crypto::DigestBytes(hash));
}

}  // namespace

std::string CheckpointStore::PathFor(absl::string_view origin) const {
  // Origins are URLs with slashes; a digest gives every origin a safe name.
  return absl::StrCat(dir_, "/checkpoint-", crypto::Sha256Hex(origin));
}

absl::StatusOr<std::optional<StoredCheckpoint>> CheckpointStore::Load(
    absl::string_view origin) const {
  const std::string path = PathFor(origin);
  absl::StatusOr<std::string> note = ReadFile(path, 1 << 20);
  if (absl::IsNotFound(note.status())) {
    return std::optional<StoredCheckpoint>();
  }
  RETURN_IF_ERROR(note.status());
  absl::StatusOr<tlog::Checkpoint> checkpoint = tlog::ParseCheckpointNote(*note);
  if (!checkpoint.ok() || checkpoint->origin != origin) {
    return absl::DataLossError(absl::StrCat(
        "stored state ", path, " does not hold a checkpoint of ", origin));
  }
  return std::optional<StoredCheckpoint>(
      StoredCheckpoint{*std::move(checkpoint), *std::move(note)});
}

absl::Status CheckpointStore::Store(const StoredCheckpoint& stored) const {
  RETURN_IF_ERROR(MakeDirectories(dir_, 0700));
  return WriteFileAtomically(PathFor(stored.checkpoint.origin), stored.note,
                             0644);
}

absl::Status AdvanceCheckpoint(const CheckpointStore& store,
                               const tlog::Checkpoint& current,
                               const std::string& note,
                               const ConsistencyProver& prover) {
  ASSIGN_OR_RETURN(std::optional<StoredCheckpoint> stored,
                   store.Load(current.origin));
  if (stored.has_value()) {
    const tlog::Checkpoint& old = stored->checkpoint;
    if (current.size < old.size) {
      return absl::FailedPreconditionError(absl::StrCat(
          "possible split view: the checkpoint has size ", current.size,
          ", older than the size ", old.size, " already verified for ",
          current.origin));
    }
    if (current.size == old.size && current.root != old.root) {
      return absl::FailedPreconditionError(absl::StrCat(
          "possible split view: the checkpoint of size ", current.size,
          " has root ", HashHex(current.root),
          " but the one verified before has root ", HashHex(old.root)));
    }
    if (current.size == old.size) return absl::OkStatus();
    if (!prover) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the checkpoint (size ", current.size,
          ") is newer than the one verified before (size ", old.size,
          ") and offline there is no consistency proof; verify online"));
    }
    ASSIGN_OR_RETURN(std::vector<tlog::Hash> proof,
                     prover(old.size, current.size));
    absl::Status consistent = tlog::VerifyConsistency(
        old.size, current.size, old.root, current.root, proof);
    if (!consistent.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "possible split view: the checkpoint of size ", current.size,
          " is not consistent with the one of size ", old.size,
          " verified before: ", consistent.message()));
    }
  }
  return store.Store(StoredCheckpoint{current, note});
}

}  // namespace refsum::client
