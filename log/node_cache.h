// An in-memory copy of the upper levels of the log's tree, so that proofs
// read only their few lowest nodes from RocksDB.

#ifndef REFSUM_LOG_NODE_CACHE_H_
#define REFSUM_LOG_NODE_CACHE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "tlog/merkle.h"

namespace refsum::log {

// Hashes of tree nodes at levels >= min_level, filled as they are written or
// read. A complete node's hash never changes, so a cached hash is as good as
// the stored one; the cache holds only hashes given to Insert, and nothing
// else decides whether a node exists. A tree of n leaves has about
// n / 2^(min_level - 1) such nodes, 32 bytes each (and a bit).
//
// Thread-safe: lookups share a reader lock, inserts take it exclusively.
class NodeCache {
 public:
  explicit NodeCache(uint32_t min_level) : min_level_(min_level) {}

  NodeCache(const NodeCache&) = delete;
  NodeCache& operator=(const NodeCache&) = delete;

  // Whether nodes at `level` are kept.
  bool Covers(uint32_t level) const { return level >= min_level_; }

  // Sets hashes[i] for every ids[i] in the cache and returns the positions i
  // of the others, ascending. `hashes` must be as long as `ids`.
  std::vector<size_t> Lookup(absl::Span<const tlog::NodeId> ids,
                             absl::Span<tlog::Hash> hashes) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Keeps the hashes of the nodes the cache covers and ignores the others.
  // The caller guarantees that each is the hash of a complete node of the
  // tree (durably stored, or read from storage).
  void Insert(absl::Span<const std::pair<tlog::NodeId, tlog::Hash>> nodes)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Level {
    std::vector<tlog::Hash> hashes;
    std::vector<bool> known;
  };

  const uint32_t min_level_;
  mutable absl::Mutex mu_;
  // levels_[level - min_level_], indexed by the node's index.
  std::vector<Level> levels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refsum::log

#endif  // REFSUM_LOG_NODE_CACHE_H_
