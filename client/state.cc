#include "client/state.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/sha256.h"

namespace refsum::client {

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

}  // namespace refsum::client
