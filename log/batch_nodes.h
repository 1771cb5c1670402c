// The tree nodes the inclusion proofs of one sequencer batch need, kept in
// memory so that Submit answers without reading back what it just wrote.

#ifndef REFSUM_LOG_BATCH_NODES_H_
#define REFSUM_LOG_BATCH_NODES_H_

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tlog/compact_range.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"

namespace refsum::log {

// The right border of the tree before a batch and every node the batch's
// leaves completed. Together they hold every node of the inclusion proof of
// each leaf the batch appended, in the tree of the batch's new size: a left
// sibling lies either inside the batch or is a border node of the old tree
// (its parent reaches past the old size), and a right sibling, or the nodes
// folded into the one at the tree's right edge, lie inside the batch.
//
// Immutable after construction, so thread-safe.
class BatchNodes : public tlog::HashReader {
 public:
  // `before` is the range [0, old size); `completed` the nodes the batch
  // completed (as tlog::CompactRange::AppendLeaf reports them).
  BatchNodes(const tlog::CompactRange& before,
             absl::Span<const std::pair<tlog::NodeId, tlog::Hash>> completed);

  // Returns NotFound for a node that is neither on the old border nor
  // completed by the batch.
  absl::StatusOr<std::vector<tlog::Hash>> ReadNodes(
      absl::Span<const tlog::NodeId> ids) const override;

 private:
  absl::flat_hash_map<tlog::NodeId, tlog::Hash> nodes_;
};

}  // namespace refsum::log

#endif  // REFSUM_LOG_BATCH_NODES_H_
