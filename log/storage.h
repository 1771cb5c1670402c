// The log's only store: an embedded RocksDB database, split into a reader
// side (proofs, tiles, lookups; any thread, never waiting for the sequencer)
// and a writer side (the sequencer's atomic, synced batches).
//
// Key layout, one byte of prefix per kind of record:
//   'c'                                  -> the newest signed checkpoint note
//   'w'                                  -> the newest witnessed checkpoint
//                                           note (see WriteWitnessedCheckpoint)
//   'e' index (8, big-endian)            -> leaf data
//   'h' leaf hash (32)                   -> index (8, big-endian)
//   'n' level (1) index (8, big-endian)  -> hash of perfect subtree node (32)
//   'l' lookup key   index (8)           -> empty (see LookupKey*)
//   'k' keyid (64 hex)                   -> a known signer (see KnownKey)
// Big-endian indices make RocksDB's byte order the numeric order, so runs of
// entries, tile hashes and lookup results are single forward scans.

#ifndef REFSUM_LOG_STORAGE_H_
#define REFSUM_LOG_STORAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"

namespace refsum::log {

// A signer the log admits: configured (role "vendor" or "rebuilder", with a
// name) or learned in open mode (role "open", no name).
struct KnownKey {
  std::string keyid;
  std::string role;
  std::string name;
  std::string public_key_pem;

  friend bool operator==(const KnownKey& a, const KnownKey& b) {
    return a.keyid == b.keyid && a.role == b.role && a.name == b.name &&
           a.public_key_pem == b.public_key_pem;
  }
};

// One appended entry and the lookup keys it is found under.
struct StoredEntry {
  uint64_t index = 0;
  std::string leaf;
  tlog::Hash leaf_hash = {};
  std::vector<std::string> lookup_keys;
};

// Everything one sequencer batch changes. Written atomically.
struct Batch {
  std::vector<StoredEntry> entries;
  // Every tree node completed by the batch's entries.
  std::vector<std::pair<tlog::NodeId, tlog::Hash>> nodes;
  std::vector<KnownKey> keys;
  // The signed checkpoint of the tree including the batch.
  std::string checkpoint;
};

// One page of a lookup.
struct IndexPage {
  std::vector<uint64_t> indices;
  bool more = false;
};

// Lookup keys; an entry is listed under each of its keys.
std::string LookupKeyForArtifact(absl::string_view sha256_bytes);
std::string LookupKeyForReferenceValue(absl::string_view algorithm,
                                       absl::string_view digest_bytes);
std::string LookupKeyForSource(absl::string_view repository,
                               absl::string_view commit);
std::string LookupKeyForAttestationsOf(uint64_t claim_index);

// Read access. Implementations are thread-safe; reads see every batch
// written before they started and never wait for a writer.
class LogReader : public tlog::HashReader {
 public:
  // Returns the newest checkpoint note, or nullopt for a log with no batch
  // written yet.
  virtual absl::StatusOr<std::optional<std::string>> ReadCheckpoint()
      const = 0;

  // Returns the leaves [start, start + count) that are stored, which may be
  // fewer than `count` at the end of the log (none if start is past it).
  virtual absl::StatusOr<std::vector<std::string>> ReadEntries(
      uint64_t start, uint64_t count) const = 0;

  // Returns the index of the leaf with hash `leaf_hash`, or nullopt.
  virtual absl::StatusOr<std::optional<uint64_t>> FindLeafHash(
      const tlog::Hash& leaf_hash) const = 0;

  // Returns up to `limit` indices listed under `lookup_key`, ascending, and
  // greater than `after` when it is set.
  virtual absl::StatusOr<IndexPage> Lookup(absl::string_view lookup_key,
                                           std::optional<uint64_t> after,
                                           size_t limit) const = 0;

  // Returns the signer with `keyid`, or nullopt.
  virtual absl::StatusOr<std::optional<KnownKey>> ReadKey(
      absl::string_view keyid) const = 0;

  // Returns the concatenated hashes of the stored nodes at `level` with
  // indices [first, first + count): the contents of a tile. Returns NotFound
  // if any of them is not stored.
  virtual absl::StatusOr<std::string> ReadNodeRun(uint32_t level,
                                                  uint64_t first,
                                                  uint32_t count) const = 0;
};

// Write access, for the one sequencer that owns the tree.
class LogWriter {
 public:
  virtual ~LogWriter() = default;

  // Writes `batch` atomically and durably (synced): after a crash at any
  // instant either all of it is stored or none. Returns ResourceExhausted
  // when the disk is full and Unavailable for other I/O errors; nothing of
  // the batch is stored then.
  virtual absl::Status Write(const Batch& batch) = 0;
};

struct StorageOptions {
  // RocksDB block cache, shared by all reads.
  size_t block_cache_bytes = size_t{64} << 20;
  // RocksDB memtable size. The write-ahead log replayed by Open after a
  // crash holds at most two memtables, and recovery from a full disk needs
  // about one memtable of free space.
  size_t write_buffer_bytes = size_t{8} << 20;
  // Tree nodes at this level and above are also kept in memory once written
  // or read (log/node_cache.h): about n / 2^(level - 1) hashes for n
  // entries, 1 MiB at 10^6 entries for level 6. An inclusion proof then
  // reads only its `level` lowest nodes (and the leaf) from RocksDB.
  uint32_t cached_node_level = 6;
  // Whether Open creates a missing database; a tool that only inspects one
  // (fsck) must not.
  bool create_if_missing = true;
};

class Storage : public LogReader, public LogWriter {
 public:
  // Opens the database in directory `dir`, creating it if it is missing
  // and options.create_if_missing is set, with RocksDB's paranoid checks
  // (every file opened is checked; a write error stops writes until
  // recovery). RocksDB's own diagnostics go to stderr (warnings and errors
  // only), never to a file in `dir`, so that a full disk cannot also break
  // the process's logging. Returns DataLoss if RocksDB finds the database
  // corrupt, FailedPrecondition if another process holds it or it is
  // missing and may not be created, Unavailable for I/O errors.
  //
  // After a write fails because the disk is full, RocksDB refuses writes
  // (ResourceExhausted) until it sees enough free space again (at least one
  // memtable, options.write_buffer_bytes), then recovers by itself within
  // seconds; reads keep working throughout. Write also asks RocksDB to
  // resume after any other failed write.
  //
  // Destroying the Storage flushes RocksDB's memtables, so that the next
  // Open has no write-ahead log to replay; after a crash Open replays it
  // into memory without flushing it, which takes time bounded by two
  // memtables (options.write_buffer_bytes), not by the log's size.
  static absl::StatusOr<std::unique_ptr<Storage>> Open(
      const std::string& dir, const StorageOptions& options = {});

  // Returns the note WriteWitnessedCheckpoint stored last, or nullopt if
  // there is none. Thread-safe.
  virtual absl::StatusOr<std::optional<std::string>> ReadWitnessedCheckpoint()
      const = 0;

  // Replaces the witnessed checkpoint: a checkpoint note of this log with the
  // cosignatures that made it meet the witness policy (log/witness_pusher.h).
  // Synced, so a note is never served before it would survive a crash, and
  // separate from Write because witnessing runs beside the sequencer, never
  // inside its batches. Storage does not look at the note. Errors as Write.
  // Thread-safe; concurrent calls are ordered arbitrarily, so callers that
  // need the newest note to win serialize their calls.
  virtual absl::Status WriteWitnessedCheckpoint(absl::string_view note) = 0;

  // Reads every file of the database and checks its block checksums.
  // Returns DataLoss naming the damaged file (RocksDB's message), or the
  // errors of reading. Takes time proportional to the database's size.
  // Thread-safe.
  virtual absl::Status VerifyChecksums() const = 0;
};

}  // namespace refsum::log

#endif  // REFSUM_LOG_STORAGE_H_
