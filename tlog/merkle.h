// RFC 6962 section 2.1 Merkle tree hashing, and the addressing of the perfect
// subtrees that a log stores and that proofs, compact ranges and tiles are
// made of.

#ifndef REFSUM_TLOG_MERKLE_H_
#define REFSUM_TLOG_MERKLE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "crypto/sha256.h"

namespace refsum::tlog {

using Hash = crypto::Sha256Digest;

// The highest level a node can have: a node of level 64 would span 2^64
// leaves, more than a uint64_t tree size can count.
inline constexpr uint32_t kMaxNodeLevel = 63;

// A perfect subtree: the node at `level` (0 for leaves) and `index` (counted
// from the left within its level) spans the 2^level leaves
// [index * 2^level, (index + 1) * 2^level). A node is complete in a tree of
// n leaves when all of its leaves are below n; only complete nodes have a
// fixed hash, so they are what a log stores.
struct NodeId {
  uint32_t level = 0;
  uint64_t index = 0;

  friend bool operator==(const NodeId& a, const NodeId& b) {
    return a.level == b.level && a.index == b.index;
  }
  friend bool operator!=(const NodeId& a, const NodeId& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H state, const NodeId& id) {
    return H::combine(std::move(state), id.level, id.index);
  }
};

// Returns the printable form "level/index", for messages.
std::string NodeIdToString(const NodeId& id);

// Returns the leaf hash SHA-256(0x00 || data). Thread-safe.
Hash HashLeaf(absl::string_view data);

// Returns the interior node hash SHA-256(0x01 || left || right). Thread-safe.
Hash HashChildren(const Hash& left, const Hash& right);

// Returns the root of the empty tree, SHA-256 of the empty string.
Hash EmptyRoot();

// Returns the fewest perfect subtrees that together span exactly the leaves
// [begin, end), left to right: the nodes of the compact range [begin, end).
// Sizes first grow (while `begin` is aligned to ever larger powers of two) and
// then shrink. For begin == 0 this is the tree's "right border": one node per
// set bit of `end`, largest first. An empty range (begin >= end) has none.
// Thread-safe.
std::vector<NodeId> RangeNodes(uint64_t begin, uint64_t end);

// Returns the RFC 6962 Merkle tree hash of the leaves spanned by adjacent
// perfect subtrees given left to right in strictly decreasing size, such as
// RangeNodes(0, n) (giving the root of the tree of size n) or the nodes of any
// range that starts at a multiple of a power of two larger than its length.
// RFC 6962 splits such a range into its largest perfect subtree and the rest,
// so the hash folds the subtrees from the right. Returns EmptyRoot() when
// `subtree_hashes` is empty. Thread-safe.
Hash FoldSubtrees(absl::Span<const Hash> subtree_hashes);

}  // namespace refsum::tlog

#endif  // REFSUM_TLOG_MERKLE_H_
