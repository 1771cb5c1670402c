// A compact range: the hashes of the few perfect subtrees that span a run of
// leaves [begin, end). It is all a sequencer needs to keep in memory to extend
// the tree and compute its root; restarting from the stored hashes of the
// right border (RangeNodes(0, n)) takes O(log n) reads.

#ifndef REFSUM_TLOG_COMPACT_RANGE_H_
#define REFSUM_TLOG_COMPACT_RANGE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tlog/merkle.h"

namespace refsum::tlog {

// Contract: after any sequence of successful calls, nodes() equals
// RangeNodes(begin(), end()) and hashes()[i] is the RFC 6962 hash of nodes()[i]
// for the leaves that were appended. A failed call leaves the range unchanged.
//
// Not thread-safe; a CompactRange belongs to one sequencer at a time. Copyable,
// so a sequencer can try a batch on a copy and keep it only once the batch is
// durably stored.
class CompactRange {
 public:
  // Called for each node that becomes complete during an append, in the order
  // they complete: the appended node first, then each parent it completes,
  // lowest first. Every node of the tree is reported exactly once when the
  // range grows from 0 one leaf at a time, so a log can store every node
  // hash from these calls.
  using NodeCallback = std::function<void(const NodeId& id, const Hash& hash)>;

  // Creates the empty range [begin, begin).
  explicit CompactRange(uint64_t begin = 0);

  // Restores the range [begin, end) from the hashes of RangeNodes(begin, end),
  // in that order (e.g. read from storage after a restart). Returns
  // InvalidArgument if begin > end or the number of hashes is wrong. The hashes
  // are trusted: nothing here can check that they belong to the tree.
  static absl::StatusOr<CompactRange> FromHashes(uint64_t begin, uint64_t end,
                                                 std::vector<Hash> hashes);

  uint64_t begin() const { return begin_; }
  uint64_t end() const { return end_; }
  const std::vector<NodeId>& nodes() const { return nodes_; }
  const std::vector<Hash>& hashes() const { return hashes_; }

  // Appends the leaf at index end() with hash `leaf_hash` (see HashLeaf) and
  // reports the completed nodes to `on_complete` if it is non-null. Returns
  // OutOfRange if end() is already 2^64 - 1.
  absl::Status AppendLeaf(const Hash& leaf_hash,
                          const NodeCallback& on_complete = nullptr);

  // Appends the perfect subtree `id` with hash `hash`, which must start at
  // leaf end(): a sequencer extending the tree from stored subtree hashes.
  // Reports `id` itself and the parents it completes (not the nodes below
  // `id`, which the caller already has). Returns InvalidArgument if `id` does
  // not start at end() or its level exceeds kMaxNodeLevel, and OutOfRange if
  // the range would pass 2^64 - 1 leaves.
  absl::Status AppendSubtree(const NodeId& id, const Hash& hash,
                             const NodeCallback& on_complete = nullptr);

  // Returns the RFC 6962 root of the tree of size end() (EmptyRoot() when
  // empty). Returns FailedPrecondition if begin() != 0: a range that does not
  // start at leaf 0 has no tree root.
  absl::StatusOr<Hash> Root() const;

 private:
  CompactRange(uint64_t begin, uint64_t end, std::vector<NodeId> nodes,
               std::vector<Hash> hashes);

  // Replaces the last two nodes by their parent while they are siblings,
  // reporting each parent.
  void MergeCompletedParents(const NodeCallback& on_complete);

  uint64_t begin_;
  uint64_t end_;
  std::vector<NodeId> nodes_;
  std::vector<Hash> hashes_;
};

}  // namespace refsum::tlog

#endif  // REFSUM_TLOG_COMPACT_RANGE_H_
