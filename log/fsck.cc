#include "log/fsck.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "log/stored_tree.h"
#include "tlog/merkle.h"

namespace refsum::log {
namespace {

// Entries and nodes are read in runs of this many.
constexpr uint64_t kChunk = 4096;

tlog::Hash HashAt(absl::string_view run, uint64_t i) {
  tlog::Hash hash;
  std::copy_n(run.data() + i * hash.size(), hash.size(), hash.begin());
  return hash;
}

std::string NodeName(uint32_t level, uint64_t index) {
  return absl::StrCat("node ", level, "/", index);
}

// Reads the stored nodes [first, first + count) of `level`, as DataLoss if
// any is missing.
absl::StatusOr<std::string> ReadRun(const LogReader& reader, uint32_t level,
                                    uint64_t first, uint64_t count) {
  absl::StatusOr<std::string> run =
      reader.ReadNodeRun(level, first, static_cast<uint32_t>(count));
  if (absl::IsNotFound(run.status())) {
    return absl::DataLossError(run.status().message());
  }
  return run;
}

// Step 3: entries, level-0 nodes and the leaf-hash index.
absl::Status CheckEntries(const LogReader& reader, uint64_t size) {
  for (uint64_t first = 0; first < size; first += kChunk) {
    const uint64_t count = std::min(kChunk, size - first);
    ASSIGN_OR_RETURN(const std::vector<std::string> leaves,
                     reader.ReadEntries(first, count));
    if (leaves.size() != count) {
      return absl::DataLossError(
          absl::StrCat("entry ", first + leaves.size(),
                       " is missing; the checkpoint has ", size, " entries"));
    }
    ASSIGN_OR_RETURN(const std::string stored, ReadRun(reader, 0, first, count));
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t index = first + i;
      const tlog::Hash leaf_hash = tlog::HashLeaf(leaves[i]);
      if (HashAt(stored, i) != leaf_hash) {
        return absl::DataLossError(absl::StrCat(
            "entry ", index, ": the stored leaf hash (", NodeName(0, index),
            ") is not the hash of the stored entry"));
      }
      ASSIGN_OR_RETURN(const std::optional<uint64_t> indexed,
                       reader.FindLeafHash(leaf_hash));
      if (indexed != index) {
        return absl::DataLossError(absl::StrCat(
            "entry ", index, ": the leaf-hash index ",
            indexed.has_value() ? absl::StrCat("says it is at ", *indexed)
                                : std::string("does not list it")));
      }
    }
  }
  ASSIGN_OR_RETURN(const std::vector<std::string> beyond,
                   reader.ReadEntries(size, 1));
  if (!beyond.empty()) {
    return absl::DataLossError(absl::StrCat(
        "entry ", size, " is stored beyond the checkpoint of size ", size));
  }
  return absl::OkStatus();
}

// Step 4: every node above level 0 against its children. Returns the number
// of nodes checked.
absl::StatusOr<uint64_t> CheckInteriorNodes(const LogReader& reader,
                                            uint64_t size) {
  uint64_t checked = 0;
  for (uint32_t level = 1; level <= tlog::kMaxNodeLevel; ++level) {
    const uint64_t nodes = size >> level;
    if (nodes == 0) break;
    for (uint64_t first = 0; first < nodes; first += kChunk) {
      const uint64_t count = std::min(kChunk, nodes - first);
      ASSIGN_OR_RETURN(const std::string parents,
                       ReadRun(reader, level, first, count));
      ASSIGN_OR_RETURN(const std::string children,
                       ReadRun(reader, level - 1, 2 * first, 2 * count));
      for (uint64_t i = 0; i < count; ++i) {
        if (HashAt(parents, i) != tlog::HashChildren(HashAt(children, 2 * i),
                                                     HashAt(children, 2 * i + 1))) {
          const uint64_t index = first + i;
          return absl::DataLossError(absl::StrCat(
              NodeName(level, index), " (entries ", index << level, " to ",
              ((index + 1) << level) - 1,
              "): the stored hash is not the hash of its children ",
              NodeName(level - 1, 2 * index), " and ",
              NodeName(level - 1, 2 * index + 1)));
        }
      }
      checked += count;
    }
  }
  return checked;
}

}  // namespace

absl::StatusOr<FsckReport> Fsck(const Storage& storage,
                                const std::string& origin,
                                const crypto::NoteVerifier& verifier) {
  if (absl::Status checksums = storage.VerifyChecksums(); !checksums.ok()) {
    return absl::Status(checksums.code(),
                        absl::StrCat("RocksDB files: ", checksums.message()));
  }
  ASSIGN_OR_RETURN(const std::optional<std::string> note,
                   storage.ReadCheckpoint());
  if (!note.has_value()) {
    return absl::FailedPreconditionError(
        "the data directory holds no checkpoint: it is not a log's");
  }
  FsckReport report;
  ASSIGN_OR_RETURN(report.checkpoint,
                   OpenStoredCheckpoint(*note, origin, verifier));
  const uint64_t size = report.checkpoint.size;
  RETURN_IF_ERROR(CheckEntries(storage, size));
  report.entries = size;
  ASSIGN_OR_RETURN(const uint64_t interior, CheckInteriorNodes(storage, size));
  report.nodes = size + interior;
  // Every node is now the hash of what lies below it, so this recomputed
  // root covers every entry.
  RETURN_IF_ERROR(ReadStoredRange(storage, report.checkpoint).status());
  return report;
}

absl::StatusOr<FsckReport> FsckDataDir(const std::string& data_dir,
                                       const std::string& origin,
                                       const std::string& key_path) {
  ASSIGN_OR_RETURN(const crypto::PrivateKey key,
                   crypto::ReadPrivateKeyFile(key_path));
  ASSIGN_OR_RETURN(const std::unique_ptr<crypto::NoteVerifier> verifier,
                   crypto::NewEd25519NoteVerifier(origin, key.public_key()));
  StorageOptions options;
  options.create_if_missing = false;
  ASSIGN_OR_RETURN(const std::unique_ptr<Storage> storage,
                   Storage::Open(data_dir, options));
  return Fsck(*storage, origin, *verifier);
}

std::string FormatFsckReport(const FsckReport& report) {
  return absl::StrCat(
      "OK: ", report.entries, " entries and ", report.nodes,
      " tree nodes match the checkpoint of ", report.checkpoint.origin,
      " of size ", report.checkpoint.size, " with root ",
      encoding::HexEncode(crypto::DigestBytes(report.checkpoint.root)));
}

}  // namespace refsum::log
