// A verifier's memory of each log: the newest checkpoint it has verified,
// one file per origin, so that the log cannot later show it a history that
// does not extend what it saw (a split view).

#ifndef REFSUM_CLIENT_STATE_H_
#define REFSUM_CLIENT_STATE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"

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

// Supplies the consistency proof between two tree sizes of a log (online:
// the log's GetConsistencyProof). Null when verifying offline: a checkpoint
// larger than the stored one then cannot be checked and fails.
using ConsistencyProver =
    std::function<absl::StatusOr<std::vector<tlog::Hash>>(uint64_t old_size,
                                                          uint64_t new_size)>;

// Advances `store`'s checkpoint of current.origin to `current` (whose signed
// `note` the caller verified) when it provably extends the stored one: a
// smaller size (a rollback), the same size with another root (a fork) or a
// larger size whose consistency proof from `prover` does not verify are
// refused with FailedPrecondition "possible split view: ..." and leave the
// store unchanged. The same checkpoint again is OK. Returns the prover's
// and the store's errors too.
absl::Status AdvanceCheckpoint(const CheckpointStore& store,
                               const tlog::Checkpoint& current,
                               const std::string& note,
                               const ConsistencyProver& prover);

}  // namespace refsum::client

#endif  // REFSUM_CLIENT_STATE_H_
