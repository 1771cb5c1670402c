#include "log/storage.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <cstdarg>
#include <cstdio>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"
#include "crypto/sha256.h"
#include "log/node_cache.h"

namespace refsum::log {
namespace {

constexpr char kCheckpointKey[] = "c";
constexpr char kWitnessedCheckpointKey[] = "w";
constexpr char kEntryPrefix = 'e';
constexpr char kLeafHashPrefix = 'h';
constexpr char kNodePrefix = 'n';
constexpr char kLookupPrefix = 'l';
constexpr char kKeyPrefix = 'k';

void AppendBigEndian64(uint64_t value, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint64_t ReadBigEndian64(absl::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

std::string EntryKey(uint64_t index) {
  std::string key(1, kEntryPrefix);
  AppendBigEndian64(index, &key);
  return key;
}

std::string LeafHashKey(const tlog::Hash& hash) {
  return std::string(1, kLeafHashPrefix) +
         std::string(crypto::DigestBytes(hash));
}

// Node keys hold the level in one byte; no tree has levels beyond 63.
absl::Status CheckLevel(uint32_t level) {
  if (level > tlog::kMaxNodeLevel) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree level ", level, " does not exist"));
  }
  return absl::OkStatus();
}

std::string NodeKey(uint32_t level, uint64_t index) {
  std::string key{kNodePrefix, static_cast<char>(level)};
  AppendBigEndian64(index, &key);
  return key;
}

std::string LookupPrefix(absl::string_view lookup_key) {
  return absl::StrCat(absl::string_view(&kLookupPrefix, 1), lookup_key);
}

std::string KeyRecordKey(absl::string_view keyid) {
  return absl::StrCat(absl::string_view(&kKeyPrefix, 1), keyid);
}

// KnownKey values: role, name and PEM separated by NUL bytes, which none of
// them can contain.
std::string EncodeKnownKey(const KnownKey& key) {
  return absl::StrCat(key.role, std::string(1, '\0'), key.name,
                      std::string(1, '\0'), key.public_key_pem);
}

absl::StatusOr<KnownKey> DecodeKnownKey(absl::string_view keyid,
                                        absl::string_view value) {
  const size_t first = value.find('\0');
  const size_t second =
      first == absl::string_view::npos ? first : value.find('\0', first + 1);
  if (second == absl::string_view::npos) {
    return absl::DataLossError(
        absl::StrCat("stored key record ", keyid, " is corrupt"));
  }
  return KnownKey{std::string(keyid), std::string(value.substr(0, first)),
                  std::string(value.substr(first + 1, second - first - 1)),
                  std::string(value.substr(second + 1))};
}

absl::Status ToStatus(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (status.IsBusy() || status.IsTimedOut() || status.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  if (status.IsInvalidArgument() || status.IsNotSupported()) {
    return absl::FailedPreconditionError(message);
  }
  return absl::UnavailableError(message);
}

// RocksDB's diagnostics, warnings and errors only, on stderr. Its default is
// a LOG file in the data directory: on a full disk that file fails too, and
// Debian's librocksdb (built with assertions) aborts at the next line logged
// after such a failure.
class StderrLogger : public rocksdb::Logger {
 public:
  StderrLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    std::vsnprintf(line, sizeof(line), format, ap);
    std::fprintf(stderr, "refsum-log: rocksdb: %s\n", line);
  }
};

class RocksDbStorage : public Storage {
 public:
  RocksDbStorage(std::unique_ptr<rocksdb::DB> db, uint32_t cached_node_level)
      : db_(std::move(db)), node_cache_(cached_node_level) {}

  // Flushes the memtables, so that the next Open has no write-ahead log to
  // replay (RocksDB does not flush at close when the WAL holds the data).
  // Nothing is lost if this fails: the WAL still holds it.
  ~RocksDbStorage() override {
    const rocksdb::Status flushed = db_->Flush(rocksdb::FlushOptions());
    if (!flushed.ok()) {
      std::fprintf(stderr, "refsum-log: flushing the database at close: %s\n",
                   flushed.ToString().c_str());
    }
  }

  absl::StatusOr<std::optional<std::string>> ReadCheckpoint() const override {
    return ReadOptional(kCheckpointKey, "reading the checkpoint");
  }

  absl::StatusOr<std::optional<std::string>> ReadWitnessedCheckpoint()
      const override {
    return ReadOptional(kWitnessedCheckpointKey,
                        "reading the witnessed checkpoint");
  }

  absl::Status WriteWitnessedCheckpoint(absl::string_view note) override {
    rocksdb::WriteBatch write;
    write.Put(kWitnessedCheckpointKey,
              rocksdb::Slice(note.data(), note.size()));
    return WriteSynced(write, "writing the witnessed checkpoint");
  }

  absl::Status VerifyChecksums() const override {
    return ToStatus(db_->VerifyChecksum(read_options_),
                    "verifying the database's checksums");
  }

  absl::StatusOr<std::vector<std::string>> ReadEntries(
      uint64_t start, uint64_t count) const override {
    std::vector<std::string> leaves;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options_));
    uint64_t expected = start;
    for (it->Seek(EntryKey(start)); it->Valid() && leaves.size() < count;
         it->Next()) {
      const rocksdb::Slice key = it->key();
      if (key.size() != 9 || key[0] != kEntryPrefix ||
          ReadBigEndian64(absl::string_view(key.data() + 1, 8)) != expected) {
        break;
      }
      leaves.emplace_back(it->value().data(), it->value().size());
      ++expected;
    }
    RETURN_IF_ERROR(ToStatus(it->status(), "reading entries"));
    return leaves;
  }

  absl::StatusOr<std::optional<uint64_t>> FindLeafHash(
      const tlog::Hash& leaf_hash) const override {
    std::string value;
    rocksdb::Status status =
        db_->Get(read_options_, LeafHashKey(leaf_hash), &value);
    if (status.IsNotFound()) return std::optional<uint64_t>();
    RETURN_IF_ERROR(ToStatus(status, "reading the leaf hash index"));
    if (value.size() != 8) {
      return absl::DataLossError("stored leaf hash index entry is corrupt");
    }
    return std::optional<uint64_t>(ReadBigEndian64(value));
  }

  absl::StatusOr<IndexPage> Lookup(absl::string_view lookup_key,
                                   std::optional<uint64_t> after,
                                   size_t limit) const override {
    const std::string prefix = LookupPrefix(lookup_key);
    std::string start = prefix;
    if (after.has_value()) {
      if (*after == UINT64_MAX) return IndexPage{};
      AppendBigEndian64(*after + 1, &start);
    }
    IndexPage page;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options_));
    for (it->Seek(start); it->Valid(); it->Next()) {
      const rocksdb::Slice key = it->key();
      if (key.size() != prefix.size() + 8 || !key.starts_with(prefix)) break;
      if (page.indices.size() == limit) {
        page.more = true;
        break;
      }
      page.indices.push_back(
          ReadBigEndian64(absl::string_view(key.data() + prefix.size(), 8)));
    }
    RETURN_IF_ERROR(ToStatus(it->status(), "reading a lookup index"));
    return page;
  }

  absl::StatusOr<std::optional<KnownKey>> ReadKey(
      absl::string_view keyid) const override {
    std::string value;
    rocksdb::Status status =
        db_->Get(read_options_, KeyRecordKey(keyid), &value);
    if (status.IsNotFound()) return std::optional<KnownKey>();
    RETURN_IF_ERROR(ToStatus(status, "reading a key record"));
    ASSIGN_OR_RETURN(KnownKey key, DecodeKnownKey(keyid, value));
    return std::optional<KnownKey>(std::move(key));
  }

  absl::StatusOr<std::string> ReadNodeRun(uint32_t level, uint64_t first,
                                          uint32_t count) const override {
    RETURN_IF_ERROR(CheckLevel(level));
    std::string hashes;
    hashes.reserve(size_t{count} * crypto::kSha256Size);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options_));
    uint64_t expected = first;
    for (it->Seek(NodeKey(level, first));
         it->Valid() && expected < first + count; it->Next(), ++expected) {
      if (it->key() != NodeKey(level, expected)) break;
      if (it->value().size() != crypto::kSha256Size) {
        return absl::DataLossError(absl::StrCat(
            "stored hash of node ", level, "/", expected, " is corrupt"));
      }
      hashes.append(it->value().data(), it->value().size());
    }
    RETURN_IF_ERROR(ToStatus(it->status(), "reading tree nodes"));
    if (expected != first + count) {
      return absl::NotFoundError(absl::StrCat(
          "tree node ", level, "/", expected, " is not stored"));
    }
    return hashes;
  }

  // Reads the upper levels from the node cache and the rest (and whatever
  // the cache does not hold yet) with one MultiGet, caching what it read.
  absl::StatusOr<std::vector<tlog::Hash>> ReadNodes(
      absl::Span<const tlog::NodeId> ids) const override {
    for (const tlog::NodeId& id : ids) RETURN_IF_ERROR(CheckLevel(id.level));
    std::vector<tlog::Hash> hashes(ids.size());
    const std::vector<size_t> misses =
        node_cache_.Lookup(ids, absl::MakeSpan(hashes));
    if (misses.empty()) return hashes;
    std::vector<std::string> keys;
    keys.reserve(misses.size());
    for (size_t i : misses) keys.push_back(NodeKey(ids[i].level, ids[i].index));
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<std::string> values(keys.size());
    std::vector<rocksdb::Status> statuses =
        db_->MultiGet(read_options_, slices, &values);
    std::vector<std::pair<tlog::NodeId, tlog::Hash>> read;
    for (size_t m = 0; m < misses.size(); ++m) {
      const tlog::NodeId& id = ids[misses[m]];
      if (statuses[m].IsNotFound()) {
        return absl::NotFoundError(absl::StrCat(
            "tree node ", tlog::NodeIdToString(id), " is not stored"));
      }
      RETURN_IF_ERROR(ToStatus(statuses[m], "reading tree nodes"));
      if (values[m].size() != crypto::kSha256Size) {
        return absl::DataLossError(absl::StrCat(
            "stored hash of node ", tlog::NodeIdToString(id), " is corrupt"));
      }
      tlog::Hash& hash = hashes[misses[m]];
      std::copy(values[m].begin(), values[m].end(), hash.begin());
      if (node_cache_.Covers(id.level)) read.emplace_back(id, hash);
    }
    node_cache_.Insert(read);
    return hashes;
  }

  absl::Status Write(const Batch& batch) override {
    rocksdb::WriteBatch write;
    for (const StoredEntry& entry : batch.entries) {
      std::string index;
      AppendBigEndian64(entry.index, &index);
      write.Put(EntryKey(entry.index), entry.leaf);
      write.Put(LeafHashKey(entry.leaf_hash), index);
      for (const std::string& lookup_key : entry.lookup_keys) {
        write.Put(LookupPrefix(lookup_key) + index, "");
      }
    }
    for (const auto& [id, hash] : batch.nodes) {
      write.Put(NodeKey(id.level, id.index),
                rocksdb::Slice(reinterpret_cast<const char*>(hash.data()),
                               hash.size()));
    }
    for (const KnownKey& key : batch.keys) {
      write.Put(KeyRecordKey(key.keyid), EncodeKnownKey(key));
    }
    write.Put(kCheckpointKey, batch.checkpoint);
    RETURN_IF_ERROR(WriteSynced(write, "writing a batch"));
    // Only nodes that are durably stored: after a failed write the same
    // positions may get other leaves.
    node_cache_.Insert(batch.nodes);
    return absl::OkStatus();
  }

 private:
  // Writes `write` with a synced WAL write. After a failed write RocksDB
  // refuses every write until it has recovered; it recovers from a full disk
  // by itself, and Resume asks it to recover from other errors (it answers
  // Busy while its own recovery runs, and the write then fails as before).
  absl::Status WriteSynced(rocksdb::WriteBatch& write, absl::string_view what)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (failed_) db_->Resume().PermitUncheckedError();
    rocksdb::WriteOptions options;
    options.sync = true;
    const rocksdb::Status written = db_->Write(options, &write);
    failed_ = !written.ok();
    return ToStatus(written, what);
  }

  absl::StatusOr<std::optional<std::string>> ReadOptional(
      const char* key, absl::string_view what) const {
    std::string value;
    rocksdb::Status status = db_->Get(read_options_, key, &value);
    if (status.IsNotFound()) return std::optional<std::string>();
    RETURN_IF_ERROR(ToStatus(status, what));
    return std::optional<std::string>(std::move(value));
  }

  const std::unique_ptr<rocksdb::DB> db_;
  const rocksdb::ReadOptions read_options_;
  // The tree's upper levels; filled by Write and by ReadNodes.
  mutable NodeCache node_cache_;
  // Serializes writes, so that a resume never races a write.
  absl::Mutex mu_;
  // Whether the last write failed.
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

std::string LookupKeyForArtifact(absl::string_view sha256_bytes) {
  return absl::StrCat("a", sha256_bytes);
}

std::string LookupKeyForReferenceValue(absl::string_view algorithm,
                                       absl::string_view digest_bytes) {
  // The algorithm fixes the digest's length, so the NUL separator keeps keys
  // of different algorithms from being prefixes of each other.
  return absl::StrCat("v", algorithm, std::string(1, '\0'), digest_bytes);
}

std::string LookupKeyForSource(absl::string_view repository,
                               absl::string_view commit) {
  // Hashed: repositories are long and variable, and a fixed-length key cannot
  // be a prefix of another.
  return absl::StrCat(
      "s", crypto::DigestBytes(crypto::Sha256({repository, "\n", commit})));
}

std::string LookupKeyForAttestationsOf(uint64_t claim_index) {
  std::string key = "t";
  AppendBigEndian64(claim_index, &key);
  return key;
}

absl::StatusOr<std::unique_ptr<Storage>> Storage::Open(
    const std::string& dir, const StorageOptions& storage_options) {
  rocksdb::Options options;
  options.create_if_missing = storage_options.create_if_missing;
  options.paranoid_checks = true;
  // One logger for the process, never destroyed: RocksDB's background
  // threads (shared by every database) may still read it while a database
  // is being closed.
  static const std::shared_ptr<rocksdb::Logger>* const logger =
      new std::shared_ptr<rocksdb::Logger>(std::make_shared<StderrLogger>());
  options.info_log = *logger;
  // Bounds what Open replays after a crash: the write-ahead log holds at
  // most the unflushed memtables (one filling, one flushing), and replaying
  // them into memory costs ~35 ms per MiB here. Recovery keeps the replayed
  // data in the memtable rather than writing a level-0 table before Open
  // returns; it is flushed later in the background like any other write.
  options.write_buffer_size = storage_options.write_buffer_bytes;
  options.max_write_buffer_number = 2;
  options.max_total_wal_size = 2 * storage_options.write_buffer_bytes;
  options.avoid_flush_during_recovery = true;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(storage_options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened = rocksdb::DB::Open(options, dir, &raw);
  const std::string what = absl::StrCat("opening the database in ", dir);
  // RocksDB reports a database held by another process (or this one) as an
  // I/O error; only its own lock messages identify that case.
  if (opened.IsIOError() && opened.getState() != nullptr &&
      (absl::StartsWith(opened.getState(), "While lock file") ||
       absl::StartsWith(opened.getState(), "lock hold by current process"))) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": it is in use by another refsum-log (", opened.ToString(),
        ")"));
  }
  RETURN_IF_ERROR(ToStatus(opened, what));
  return std::unique_ptr<Storage>(
      new RocksDbStorage(std::unique_ptr<rocksdb::DB>(raw),
                         storage_options.cached_node_level));
}

}  // namespace refsum::log
