// Test support: the Certificate Transparency reference test vectors, an
// RFC 6962 section 2.1 reference implementation written as the RFC states it
// (recursively, over all leaves), and an in-memory store of every perfect
// subtree to build proofs from.

#ifndef REFSUM_TLOG_MERKLE_TESTING_H_
#define REFSUM_TLOG_MERKLE_TESTING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"

namespace refsum::tlog::testing {

// RFC 6962's split point k for n > 1 leaves: the largest power of two
// smaller than n.
uint64_t SplitPoint(uint64_t n);

// Decodes 64 lowercase hex digits. Aborts on anything else: it is only for
// vectors written into tests.
Hash HashFromHex(absl::string_view hex);

// The eight leaf inputs of google/certificate-transparency's merkle_tree_test
// (also transparency-dev/merkle testonly.LeafInputs).
std::vector<std::string> CtLeafInputs();

// The roots of the trees of the first n CT leaves, for n = 0 to 8.
std::vector<Hash> CtRoots();

// The hash of perfect subtree `id` of the CT tree of eight leaves.
Hash CtNodeHash(const NodeId& id);

struct CtInclusionVector {
  uint64_t index;
  uint64_t size;
  std::vector<Hash> proof;
};

// The published inclusion proofs over the CT leaves, with 0-based indices.
std::vector<CtInclusionVector> CtInclusionVectors();

struct CtConsistencyVector {
  uint64_t old_size;
  uint64_t new_size;
  std::vector<Hash> proof;
};

// The published consistency proofs over the CT leaves.
std::vector<CtConsistencyVector> CtConsistencyVectors();

// Returns the leaf hashes of `count` distinct leaves.
std::vector<Hash> MakeLeafHashes(uint64_t count);

// RFC 6962 MTH over leaves given by their leaf hashes.
Hash ReferenceRoot(absl::Span<const Hash> leaf_hashes);

// RFC 6962 PATH(index, D[n]) for the n = leaf_hashes.size() leaves.
std::vector<Hash> ReferenceInclusionProof(uint64_t index,
                                          absl::Span<const Hash> leaf_hashes);

// RFC 6962 PROOF(old_size, D[n]) for the n = leaf_hashes.size() leaves.
std::vector<Hash> ReferenceConsistencyProof(uint64_t old_size,
                                            absl::Span<const Hash> leaf_hashes);

// Every perfect subtree of a tree, computed level by level from its leaves,
// as a log would have stored them.
class NodeStore : public HashReader {
 public:
  explicit NodeStore(absl::Span<const Hash> leaf_hashes);

  const absl::flat_hash_map<NodeId, Hash>& nodes() const { return nodes_; }
  // How many times ReadNodes was called.
  int read_calls() const { return read_calls_; }

  // Returns NotFound for a node the tree does not have complete.
  absl::StatusOr<std::vector<Hash>> ReadNodes(
      absl::Span<const NodeId> ids) const override;

 private:
  absl::flat_hash_map<NodeId, Hash> nodes_;
  mutable int read_calls_ = 0;
};

}  // namespace refsum::tlog::testing

#endif  // REFSUM_TLOG_MERKLE_TESTING_H_
