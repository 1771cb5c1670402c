// A verifier's memory of each log: the newest checkpoint it has verified,
// one file per origin, so that the log cannot later show it a history that
// does not extend what it saw (a split view).

#ifndef REFSUM_CLIENT_STATE_H_
#define REFSUM_CLIENT_STATE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlog/checkpoint.h"

namespace refsum::client {

struct StoredCheckpoint {
  tlog::Checkpoint checkpoint;
  // The signed note as it was verified.
  std::string note;
};

// Thread-compatible: one writer per directory at a time (a verifier run).
class CheckpointStore {
 public:
  // Keeps state in `dir`, which Store creates if missing.
  explicit CheckpointStore(std::string dir) : dir_(std::move(dir)) {}

  // Returns the stored checkpoint of `origin`, or nullopt if none is stored.
  // Returns DataLoss if the stored file does not hold a checkpoint of that
  // origin.
  absl::StatusOr<std::optional<StoredCheckpoint>> Load(
      absl::string_view origin) const;

  // Replaces the stored checkpoint of its origin with `note`, atomically:
  // after a crash the old or the new one is stored, never a mix. The caller
  // must have verified it and its consistency with the stored one.
  absl::Status Store(const StoredCheckpoint& stored) const;

  // The file holding `origin`'s checkpoint.
  std::string PathFor(absl::string_view origin) const;

 private:
  const std::string dir_;
};

}  // namespace refsum::client

#endif  // REFSUM_CLIENT_STATE_H_
