// fsck: a full check of a log's storage, for an operator who suspects
// damage (`refsum-log fsck`) or wants to check a backup before restoring it.
//
// The log itself checks at every start only what is cheap (O(log n)): the
// newest checkpoint's signature and the root of the tree's right border
// (log/stored_tree.h). Fsck reads everything instead, in time linear in the
// size of the log and in memory bounded by a chunk:
//   1. every RocksDB file, against its block checksums;
//   2. the newest stored checkpoint, against the log's key and origin;
//   3. every entry below the checkpoint's size: its leaf hash (RFC 6962) is
//      the stored level-0 node at its index, and the leaf-hash index maps
//      that hash back to its index; nothing is stored at or past the size;
//   4. every stored node of the tree, level by level: it is the hash of its
//      two stored children;
//   5. the root recomputed from the right border, against the checkpoint.
// The lookup indexes and learned keys are not checked beyond (1).

#ifndef REFSUM_LOG_FSCK_H_
#define REFSUM_LOG_FSCK_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "crypto/note.h"
#include "log/storage.h"
#include "tlog/checkpoint.h"

namespace refsum::log {

// What a successful Fsck checked.
struct FsckReport {
  // The newest stored checkpoint, which the whole tree matches.
  tlog::Checkpoint checkpoint;
  // Entries and tree nodes (all levels, leaves included) checked.
  uint64_t entries = 0;
  uint64_t nodes = 0;
};

// Checks `storage` (which nothing may write meanwhile: run it on a stopped
// log) as above, against the log `origin` with checkpoint key `verifier`.
// Returns the report, or the first problem found, in the order above:
// DataLoss naming the damaged file, entry index or node (level/index) and
// what is wrong with it; FailedPrecondition if the storage holds no
// checkpoint, or one this key did not sign or of another origin; and
// storage errors.
absl::StatusOr<FsckReport> Fsck(const Storage& storage,
                                const std::string& origin,
                                const crypto::NoteVerifier& verifier);

// `refsum-log fsck`: opens the database in `data_dir` (never creating it;
// opening replays and flushes RocksDB's write-ahead log as a start of the
// log would, and changes no record) and runs Fsck with the public half of the log key in `key_path` (PEM, as
// `refsum-log serve --key` takes it). Returns Fsck's result, or the errors
// of reading the key and of opening the database (FailedPrecondition if it
// is missing or a running log holds it).
absl::StatusOr<FsckReport> FsckDataDir(const std::string& data_dir,
                                       const std::string& origin,
                                       const std::string& key_path);

// The line `refsum-log fsck` prints for `report`.
std::string FormatFsckReport(const FsckReport& report);

}  // namespace refsum::log

#endif  // REFSUM_LOG_FSCK_H_
