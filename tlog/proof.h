// RFC 6962 inclusion and consistency proofs: which stored nodes a proof needs,
// building proofs from stored hashes, and verifying them with the algorithms
// of RFC 9162 sections 2.1.3.2 and 2.1.4.2.
//
// A log stores the hash of every complete perfect subtree (NodeId). A proof
// hash is either one of those or, at the right edge of the tree, the hash of a
// subtree that is not perfect yet; the latter is folded from the perfect
// subtrees it consists of, so building a proof reads O(log n) stored hashes
// and never needs the tree in memory.

#ifndef REFSUM_TLOG_PROOF_H_
#define REFSUM_TLOG_PROOF_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tlog/merkle.h"

namespace refsum::tlog {

// No proof in a tree of at most 2^64 - 1 leaves has more hashes than this.
inline constexpr size_t kMaxProofHashes = 64;

// Read access to a log's stored node hashes.
class HashReader {
 public:
  virtual ~HashReader() = default;

  // Returns the hashes of `ids`, in the same order. The proof functions below
  // only ask for nodes that are complete in the tree size being proved, and
  // ask once per proof, so an implementation can batch the reads. Returns
  // NotFound for a node that is not stored, or the storage's own error. The
  // proof functions call it from the calling thread only; an implementation
  // shared between threads must be thread-safe itself.
  virtual absl::StatusOr<std::vector<Hash>> ReadNodes(
      absl::Span<const NodeId> ids) const = 0;
};

// The stored nodes a proof is built from.
struct ProofPlan {
  // Every node to read, in the order the proof uses them.
  std::vector<NodeId> nodes;
  // How many consecutive entries of `nodes` make up each proof hash, in proof
  // order: 1 for a perfect subtree, more for the one subtree at the right edge
  // of the tree that is not perfect (its hash is FoldSubtrees of them). Sums
  // to nodes.size().
  std::vector<size_t> nodes_per_hash;
};

// Returns the plan of the inclusion proof of leaf `index` in the tree of
// `size` leaves (RFC 6962 PATH, the leaf's sibling first). Returns
// InvalidArgument if index >= size. Thread-safe.
absl::StatusOr<ProofPlan> PlanInclusionProof(uint64_t index, uint64_t size);

// Returns the plan of the consistency proof between the trees of `old_size`
// and `new_size` leaves (RFC 6962 PROOF). It is empty when old_size is 0 or
// equals new_size: nothing needs proving. Returns InvalidArgument if
// old_size > new_size. Thread-safe.
absl::StatusOr<ProofPlan> PlanConsistencyProof(uint64_t old_size,
                                               uint64_t new_size);

// Returns the proof hashes of `plan`, given the hashes of plan.nodes in order.
// Returns InvalidArgument if the number of hashes or plan.nodes_per_hash does
// not match plan.nodes. Thread-safe.
absl::StatusOr<std::vector<Hash>> AssembleProof(
    const ProofPlan& plan, absl::Span<const Hash> node_hashes);

// Plans, reads (one ReadNodes call) and assembles the inclusion proof of leaf
// `index` in the tree of `size` leaves. Returns the planning errors above, the
// reader's error, or Internal if the reader returns the wrong number of
// hashes.
absl::StatusOr<std::vector<Hash>> BuildInclusionProof(uint64_t index,
                                                      uint64_t size,
                                                      const HashReader& reader);

// As BuildInclusionProof, for the consistency proof between the trees of
// `old_size` and `new_size` leaves.
absl::StatusOr<std::vector<Hash>> BuildConsistencyProof(
    uint64_t old_size, uint64_t new_size, const HashReader& reader);

// Returns the root that `proof` gives for the leaf hash `leaf_hash` at
// `index` in a tree of `size` leaves, computed as RFC 9162 section 2.1.3.2
// does. Returns InvalidArgument if index >= size or the proof has the wrong
// number of hashes for (index, size). Thread-safe.
absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size,
                                            const Hash& leaf_hash,
                                            absl::Span<const Hash> proof);

// Returns OK if `proof` proves that `leaf_hash` is the leaf at `index` in the
// tree of `size` leaves with root `root` (RFC 9162 section 2.1.3.2), else
// InvalidArgument naming what failed. Thread-safe.
absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root);

// Returns the new root that `proof` gives for the tree of `new_size` leaves,
// after checking that it reproduces `old_root` for the tree of `old_size`
// leaves (RFC 9162 section 2.1.4.2, which computes both). When the sizes are
// equal the proof must be empty and the result is `old_root`. Returns
// InvalidArgument if old_size is 0 (an empty proof from the empty tree says
// nothing about the new root), if old_size > new_size, if the proof has the
// wrong number of hashes, or if it does not reproduce `old_root`.
// Thread-safe.
absl::StatusOr<Hash> RootFromConsistencyProof(uint64_t old_size,
                                              uint64_t new_size,
                                              const Hash& old_root,
                                              absl::Span<const Hash> proof);

// Returns OK if `proof` proves that the tree of `new_size` leaves with root
// `new_root` extends the tree of `old_size` leaves with root `old_root`, else
// InvalidArgument naming what failed. Beyond RFC 9162, which only covers
// 0 < old_size < new_size: equal sizes need an empty proof and equal roots,
// and old_size 0 needs an empty proof and old_root == EmptyRoot(). Thread-safe.
absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const Hash& old_root, const Hash& new_root,
                               absl::Span<const Hash> proof);

}  // namespace refsum::tlog

#endif  // REFSUM_TLOG_PROOF_H_
