#include "tlog/compact_range.h"

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace refsum::tlog {

CompactRange::CompactRange(uint64_t begin) : begin_(begin), end_(begin) {}

CompactRange::CompactRange(uint64_t begin, uint64_t end,
                           std::vector<NodeId> nodes, std::vector<Hash> hashes)
    : begin_(begin),
      end_(end),
      nodes_(std::move(nodes)),
      hashes_(std::move(hashes)) {}

absl::StatusOr<CompactRange> CompactRange::FromHashes(
    uint64_t begin, uint64_t end, std::vector<Hash> hashes) {
  if (begin > end) {
    return absl::InvalidArgumentError(
        absl::StrCat("compact range begin ", begin, " is after its end ", end));
  }
  std::vector<NodeId> nodes = RangeNodes(begin, end);
  if (hashes.size() != nodes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("compact range [", begin, ", ", end, ") has ",
                     nodes.size(), " nodes, got ", hashes.size(), " hashes"));
  }
  return CompactRange(begin, end, std::move(nodes), std::move(hashes));
}

absl::Status CompactRange::AppendLeaf(const Hash& leaf_hash,
                                      const NodeCallback& on_complete) {
  return AppendSubtree(NodeId{0, end_}, leaf_hash, on_complete);
}

absl::Status CompactRange::AppendSubtree(const NodeId& id, const Hash& hash,
                                         const NodeCallback& on_complete) {
  if (id.level > kMaxNodeLevel) {
    return absl::InvalidArgumentError(
        absl::StrCat("node level ", id.level, " exceeds ", kMaxNodeLevel));
  }
  const uint64_t size = uint64_t{1} << id.level;
  // Comparing the index with end_ >> level, unlike shifting the index up,
  // cannot overflow.
  if (id.index != end_ >> id.level || end_ % size != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", NodeIdToString(id), " does not start at leaf ",
                     end_, ", the end of the compact range"));
  }
  if (size > std::numeric_limits<uint64_t>::max() - end_) {
    return absl::OutOfRangeError(
        absl::StrCat("appending node ", NodeIdToString(id), " at leaf ", end_,
                     " would exceed 2^64 - 1 leaves"));
  }
  end_ += size;
  nodes_.push_back(id);
  hashes_.push_back(hash);
  if (on_complete) on_complete(id, hash);
  MergeCompletedParents(on_complete);
  return absl::OkStatus();
}

void CompactRange::MergeCompletedParents(const NodeCallback& on_complete) {
  // The nodes are adjacent, so a right child (odd index) is the sibling of the
  // node before it exactly when both have the same level.
  while (nodes_.size() >= 2) {
    const NodeId& right = nodes_.back();
    const NodeId& left = nodes_[nodes_.size() - 2];
    if (right.index % 2 == 0 || left.level != right.level) return;
    const NodeId parent{right.level + 1, right.index / 2};
    const Hash parent_hash =
        HashChildren(hashes_[hashes_.size() - 2], hashes_.back());
    nodes_.resize(nodes_.size() - 2);
    hashes_.resize(hashes_.size() - 2);
    nodes_.push_back(parent);
    hashes_.push_back(parent_hash);
    if (on_complete) on_complete(parent, parent_hash);
  }
}

absl::StatusOr<Hash> CompactRange::Root() const {
  if (begin_ != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "compact range starts at leaf ", begin_, ", not 0; it has no root"));
  }
  return FoldSubtrees(hashes_);
}

}  // namespace refsum::tlog
