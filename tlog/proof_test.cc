#include "tlog/proof.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"

namespace refsum::tlog {
namespace {

using ::refsum::tlog::testing::CtConsistencyVector;
using ::refsum::tlog::testing::CtConsistencyVectors;
using ::refsum::tlog::testing::CtInclusionVector;
using ::refsum::tlog::testing::CtInclusionVectors;
using ::refsum::tlog::testing::CtLeafInputs;
using ::refsum::tlog::testing::CtRoots;
using ::refsum::tlog::testing::MakeLeafHashes;
using ::refsum::tlog::testing::NodeStore;
using ::refsum::tlog::testing::ReferenceConsistencyProof;
using ::refsum::tlog::testing::ReferenceInclusionProof;
using ::refsum::tlog::testing::ReferenceRoot;
using ::refsum::tlog::testing::SplitPoint;

// Every tree size, index and size pair up to this is checked exhaustively.
constexpr uint64_t kMaxExhaustiveSize = 130;

Hash FlipBit(Hash hash, size_t bit) {
  hash[bit / 8 % hash.size()] ^= static_cast<uint8_t>(1 << (bit % 8));
  return hash;
}

bool Contains(const absl::Status& status, absl::string_view text) {
  return absl::StrContains(status.message(), text);
}

// Whether each hash of PATH(index, D[size]) is a left sibling, lowest first:
// everything about the tree that an inclusion proof's verification depends on.
// Two (index, size) pairs with the same shape verify the same proofs.
std::vector<bool> InclusionShape(uint64_t index, uint64_t size) {
  if (size == 1) return {};
  const uint64_t k = SplitPoint(size);
  std::vector<bool> shape = index < k ? InclusionShape(index, k)
                                      : InclusionShape(index - k, size - k);
  shape.push_back(index >= k);
  return shape;
}

// The steps of SUBPROOF(old_size, D[new_size], true) that make up a
// consistency proof's verification: where it starts (the old root or a proof
// hash) and which side each later hash joins on.
std::string ConsistencyShape(uint64_t old_size, uint64_t new_size,
                             bool whole_old_tree = true) {
  if (old_size == new_size) return whole_old_tree ? "o" : "s";
  const uint64_t k = SplitPoint(new_size);
  if (old_size <= k) {
    return ConsistencyShape(old_size, k, whole_old_tree) + "r";
  }
  return ConsistencyShape(old_size - k, new_size - k, false) + "l";
}

// The sizes and indices around `value` that tampering tries.
std::vector<uint64_t> Neighbours(uint64_t value) {
  std::vector<uint64_t> neighbours;
  for (const uint64_t candidate :
       {value - 1, value + 1, value ^ 1, value ^ 2, value * 2, value / 2}) {
    if (candidate != value && candidate <= 2 * kMaxExhaustiveSize) {
      neighbours.push_back(candidate);
    }
  }
  return neighbours;
}

void ExpectTamperedInclusionFails(uint64_t index, uint64_t size,
                                  const Hash& leaf_hash,
                                  const std::vector<Hash>& proof,
                                  const Hash& root) {
  SCOPED_TRACE(::testing::Message() << "leaf " << index << " of " << size);
  for (size_t i = 0; i < proof.size(); ++i) {
    std::vector<Hash> tampered = proof;
    tampered[i] = FlipBit(tampered[i], i * 37 + index);
    EXPECT_FALSE(VerifyInclusion(index, size, leaf_hash, tampered, root).ok())
        << "flipped hash " << i;
  }
  EXPECT_FALSE(
      VerifyInclusion(index, size, FlipBit(leaf_hash, index), proof, root)
          .ok());
  EXPECT_FALSE(
      VerifyInclusion(index, size, leaf_hash, proof, FlipBit(root, size)).ok());
  std::vector<Hash> longer = proof;
  longer.push_back(root);
  EXPECT_FALSE(VerifyInclusion(index, size, leaf_hash, longer, root).ok());
  if (!proof.empty()) {
    const absl::Span<const Hash> shorter =
        absl::MakeConstSpan(proof).subspan(0, proof.size() - 1);
    EXPECT_FALSE(VerifyInclusion(index, size, leaf_hash, shorter, root).ok());
  }
  // Another index or size verifies only where the tree looks the same from
  // the leaf, e.g. leaf 0 of 3 and of 4: RFC 9162 proofs do not commit to the
  // size, the signed root does.
  const std::vector<bool> shape = InclusionShape(index, size);
  for (const uint64_t other_index : Neighbours(index)) {
    const bool same =
        other_index < size && InclusionShape(other_index, size) == shape;
    EXPECT_EQ(VerifyInclusion(other_index, size, leaf_hash, proof, root).ok(),
              same)
        << "index " << other_index;
  }
  for (const uint64_t other_size : Neighbours(size)) {
    const bool same =
        index < other_size && InclusionShape(index, other_size) == shape;
    EXPECT_EQ(VerifyInclusion(index, other_size, leaf_hash, proof, root).ok(),
              same)
        << "size " << other_size;
  }
}

void ExpectTamperedConsistencyFails(uint64_t old_size, uint64_t new_size,
                                    const Hash& old_root, const Hash& new_root,
                                    const std::vector<Hash>& proof) {
  SCOPED_TRACE(::testing::Message() << old_size << " to " << new_size);
  for (size_t i = 0; i < proof.size(); ++i) {
    std::vector<Hash> tampered = proof;
    tampered[i] = FlipBit(tampered[i], i * 37 + old_size);
    EXPECT_FALSE(
        VerifyConsistency(old_size, new_size, old_root, new_root, tampered)
            .ok())
        << "flipped hash " << i;
  }
  EXPECT_FALSE(VerifyConsistency(old_size, new_size, FlipBit(old_root, 3),
                                 new_root, proof)
                   .ok());
  EXPECT_FALSE(VerifyConsistency(old_size, new_size, old_root,
                                 FlipBit(new_root, 5), proof)
                   .ok());
  std::vector<Hash> longer = proof;
  longer.push_back(new_root);
  EXPECT_FALSE(
      VerifyConsistency(old_size, new_size, old_root, new_root, longer).ok());
  const absl::Span<const Hash> shorter =
      absl::MakeConstSpan(proof).subspan(0, proof.size() - 1);
  EXPECT_FALSE(
      VerifyConsistency(old_size, new_size, old_root, new_root, shorter).ok());
  const std::string shape = ConsistencyShape(old_size, new_size);
  const auto expect_verifies_iff_same_shape = [&](uint64_t other_old,
                                                  uint64_t other_new) {
    const bool same = other_old > 0 && other_old < other_new &&
                      ConsistencyShape(other_old, other_new) == shape;
    EXPECT_EQ(
        VerifyConsistency(other_old, other_new, old_root, new_root, proof).ok(),
        same)
        << "sizes " << other_old << " to " << other_new;
  };
  for (const uint64_t other : Neighbours(old_size)) {
    expect_verifies_iff_same_shape(other, new_size);
  }
  for (const uint64_t other : Neighbours(new_size)) {
    expect_verifies_iff_same_shape(old_size, other);
  }
}

std::vector<Hash> CtLeafHashes() {
  std::vector<Hash> leaf_hashes;
  for (const std::string& leaf : CtLeafInputs()) {
    leaf_hashes.push_back(HashLeaf(leaf));
  }
  return leaf_hashes;
}

TEST(ProofTest, BuildsAndVerifiesCtInclusionProofs) {
  const std::vector<Hash> leaf_hashes = CtLeafHashes();
  for (const CtInclusionVector& vector : CtInclusionVectors()) {
    SCOPED_TRACE(::testing::Message() << vector.index << " of " << vector.size);
    const NodeStore store(
        absl::MakeConstSpan(leaf_hashes).subspan(0, vector.size));
    const absl::StatusOr<std::vector<Hash>> proof =
        BuildInclusionProof(vector.index, vector.size, store);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, vector.proof);
    const absl::StatusOr<Hash> root = RootFromInclusionProof(
        vector.index, vector.size, leaf_hashes[vector.index], vector.proof);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, CtRoots()[vector.size]);
    EXPECT_TRUE(VerifyInclusion(vector.index, vector.size,
                                leaf_hashes[vector.index], vector.proof,
                                CtRoots()[vector.size])
                    .ok());
  }
}

TEST(ProofTest, BuildsAndVerifiesCtConsistencyProofs) {
  const std::vector<Hash> leaf_hashes = CtLeafHashes();
  for (const CtConsistencyVector& vector : CtConsistencyVectors()) {
    SCOPED_TRACE(::testing::Message()
                 << vector.old_size << " to " << vector.new_size);
    const NodeStore store(
        absl::MakeConstSpan(leaf_hashes).subspan(0, vector.new_size));
    const absl::StatusOr<std::vector<Hash>> proof =
        BuildConsistencyProof(vector.old_size, vector.new_size, store);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, vector.proof);
    const absl::StatusOr<Hash> new_root =
        RootFromConsistencyProof(vector.old_size, vector.new_size,
                                 CtRoots()[vector.old_size], vector.proof);
    ASSERT_TRUE(new_root.ok()) << new_root.status();
    EXPECT_EQ(*new_root, CtRoots()[vector.new_size]);
    EXPECT_TRUE(VerifyConsistency(vector.old_size, vector.new_size,
                                  CtRoots()[vector.old_size],
                                  CtRoots()[vector.new_size], vector.proof)
                    .ok());
  }
}

TEST(ProofTest, EveryInclusionProofMatchesTheReferenceAndVerifies) {
  const std::vector<Hash> all_leaves = MakeLeafHashes(kMaxExhaustiveSize);
  for (uint64_t size = 1; size <= kMaxExhaustiveSize; ++size) {
    const absl::Span<const Hash> leaves =
        absl::MakeConstSpan(all_leaves).subspan(0, size);
    const NodeStore store(leaves);
    const Hash root = ReferenceRoot(leaves);
    for (uint64_t index = 0; index < size; ++index) {
      const absl::StatusOr<std::vector<Hash>> proof =
          BuildInclusionProof(index, size, store);
      ASSERT_TRUE(proof.ok()) << index << " of " << size << proof.status();
      ASSERT_EQ(*proof, ReferenceInclusionProof(index, leaves))
          << index << " of " << size;
      ASSERT_TRUE(
          VerifyInclusion(index, size, leaves[index], *proof, root).ok());
      ExpectTamperedInclusionFails(index, size, leaves[index], *proof, root);
    }
  }
}

TEST(ProofTest, EveryConsistencyProofMatchesTheReferenceAndVerifies) {
  const std::vector<Hash> all_leaves = MakeLeafHashes(kMaxExhaustiveSize);
  std::vector<Hash> roots;
  for (uint64_t size = 0; size <= kMaxExhaustiveSize; ++size) {
    roots.push_back(
        ReferenceRoot(absl::MakeConstSpan(all_leaves).subspan(0, size)));
  }
  for (uint64_t new_size = 1; new_size <= kMaxExhaustiveSize; ++new_size) {
    const absl::Span<const Hash> leaves =
        absl::MakeConstSpan(all_leaves).subspan(0, new_size);
    const NodeStore store(leaves);
    for (uint64_t old_size = 1; old_size <= new_size; ++old_size) {
      const absl::StatusOr<std::vector<Hash>> proof =
          BuildConsistencyProof(old_size, new_size, store);
      ASSERT_TRUE(proof.ok())
          << old_size << " to " << new_size << proof.status();
      ASSERT_EQ(*proof, ReferenceConsistencyProof(old_size, leaves))
          << old_size << " to " << new_size;
      ASSERT_TRUE(VerifyConsistency(old_size, new_size, roots[old_size],
                                    roots[new_size], *proof)
                      .ok());
      if (old_size < new_size) {
        ExpectTamperedConsistencyFails(old_size, new_size, roots[old_size],
                                       roots[new_size], *proof);
      }
    }
  }
}

TEST(ProofTest, PlansNameStoredNodesAndFoldTheRightEdge) {
  // Leaf 0 of 7: siblings 0/1 and 1/1, then the right half [4, 7), which is
  // not perfect and is folded from 1/2 and 0/6.
  const absl::StatusOr<ProofPlan> inclusion = PlanInclusionProof(0, 7);
  ASSERT_TRUE(inclusion.ok());
  EXPECT_EQ(inclusion->nodes,
            (std::vector<NodeId>{{0, 1}, {1, 1}, {1, 2}, {0, 6}}));
  EXPECT_EQ(inclusion->nodes_per_hash, (std::vector<size_t>{1, 1, 2}));
  // 6 to 7: the old tree's last subtree 1/2, then its path to the root.
  const absl::StatusOr<ProofPlan> consistency = PlanConsistencyProof(6, 7);
  ASSERT_TRUE(consistency.ok());
  EXPECT_EQ(consistency->nodes, (std::vector<NodeId>{{1, 2}, {0, 6}, {2, 0}}));
  EXPECT_EQ(consistency->nodes_per_hash, (std::vector<size_t>{1, 1, 1}));
  // A power-of-two old size starts from the old root, so it is left out.
  const absl::StatusOr<ProofPlan> from_four = PlanConsistencyProof(4, 8);
  ASSERT_TRUE(from_four.ok());
  EXPECT_EQ(from_four->nodes, (std::vector<NodeId>{{2, 1}}));
}

TEST(ProofTest, NothingToProveGivesEmptyPlans) {
  for (const auto& [old_size, new_size] :
       std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}, {0, 9}, {9, 9}}) {
    const absl::StatusOr<ProofPlan> plan =
        PlanConsistencyProof(old_size, new_size);
    ASSERT_TRUE(plan.ok());
    EXPECT_TRUE(plan->nodes.empty());
    EXPECT_TRUE(plan->nodes_per_hash.empty());
  }
  const absl::StatusOr<ProofPlan> single_leaf = PlanInclusionProof(0, 1);
  ASSERT_TRUE(single_leaf.ok());
  EXPECT_TRUE(single_leaf->nodes.empty());
}

TEST(ProofTest, ReadsOnceAndOnlyWhenThereIsSomethingToRead) {
  const NodeStore store(MakeLeafHashes(100));
  ASSERT_TRUE(BuildInclusionProof(37, 100, store).ok());
  EXPECT_EQ(store.read_calls(), 1);
  ASSERT_TRUE(BuildConsistencyProof(37, 100, store).ok());
  EXPECT_EQ(store.read_calls(), 2);
  ASSERT_TRUE(BuildConsistencyProof(100, 100, store).ok());
  EXPECT_EQ(store.read_calls(), 2);
}

TEST(ProofTest, RejectsImpossibleSizes) {
  const NodeStore store(MakeLeafHashes(8));
  EXPECT_EQ(PlanInclusionProof(8, 8).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanInclusionProof(0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanConsistencyProof(9, 8).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildInclusionProof(8, 8, store).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildConsistencyProof(9, 8, store).status().code(),
            absl::StatusCode::kInvalidArgument);
  const Hash hash = EmptyRoot();
  EXPECT_EQ(VerifyInclusion(8, 8, hash, {}, hash).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(0, 0, hash, {}, hash).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(9, 8, hash, hash, {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RootFromConsistencyProof(0, 8, hash, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ProofTest, FailuresSayWhatFailed) {
  const std::vector<Hash> leaves = MakeLeafHashes(5);
  const NodeStore store(leaves);
  const Hash root = ReferenceRoot(leaves);
  const std::vector<Hash> proof = *BuildInclusionProof(2, 5, store);
  const absl::Status wrong_root =
      VerifyInclusion(2, 5, leaves[2], proof, leaves[0]);
  EXPECT_TRUE(Contains(wrong_root, "inclusion proof does not verify"))
      << wrong_root;
  EXPECT_TRUE(Contains(VerifyInclusion(2, 5, leaves[2], {proof[0]}, root),
                       "too few hashes (1)"));
  const Hash old_root =
      ReferenceRoot(absl::MakeConstSpan(leaves).subspan(0, 3));
  const std::vector<Hash> consistency = *BuildConsistencyProof(3, 5, store);
  EXPECT_TRUE(Contains(VerifyConsistency(3, 5, root, root, consistency),
                       "consistency proof does not verify: computed old root"));
  EXPECT_TRUE(Contains(VerifyConsistency(3, 5, old_root, old_root, consistency),
                       "consistency proof does not verify: computed new root"));
  EXPECT_TRUE(Contains(VerifyConsistency(3, 5, old_root, root, {}),
                       "too few hashes (0)"));
}

TEST(ProofTest, TrivialConsistencyNeedsAnEmptyProofAndMatchingRoots) {
  const Hash some_root = HashLeaf("some root");
  EXPECT_TRUE(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}).ok());
  EXPECT_TRUE(VerifyConsistency(0, 5, EmptyRoot(), some_root, {}).ok());
  EXPECT_FALSE(VerifyConsistency(0, 5, some_root, some_root, {}).ok());
  EXPECT_FALSE(
      VerifyConsistency(0, 5, EmptyRoot(), some_root, {some_root}).ok());
  EXPECT_TRUE(VerifyConsistency(5, 5, some_root, some_root, {}).ok());
  EXPECT_FALSE(VerifyConsistency(5, 5, some_root, EmptyRoot(), {}).ok());
  EXPECT_FALSE(VerifyConsistency(5, 5, some_root, some_root, {some_root}).ok());
  const absl::StatusOr<Hash> same =
      RootFromConsistencyProof(5, 5, some_root, {});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, some_root);
}

class FailingReader : public HashReader {
 public:
  explicit FailingReader(absl::StatusOr<std::vector<Hash>> result)
      : result_(std::move(result)) {}
  absl::StatusOr<std::vector<Hash>> ReadNodes(
      absl::Span<const NodeId>) const override {
    return result_;
  }

 private:
  absl::StatusOr<std::vector<Hash>> result_;
};

TEST(ProofTest, PassesOnReaderErrorsAndCatchesShortReads) {
  const FailingReader unavailable(absl::UnavailableError("disk on fire"));
  EXPECT_EQ(BuildInclusionProof(3, 10, unavailable).status(),
            absl::UnavailableError("disk on fire"));
  const FailingReader short_read(std::vector<Hash>{EmptyRoot()});
  EXPECT_EQ(BuildConsistencyProof(3, 10, short_read).status().code(),
            absl::StatusCode::kInternal);
}

TEST(ProofTest, AssembleProofChecksThePlan) {
  ProofPlan plan{{{0, 1}, {1, 1}}, {1, 1}};
  const Hash hash = EmptyRoot();
  EXPECT_TRUE(AssembleProof(plan, {hash, hash}).ok());
  EXPECT_FALSE(AssembleProof(plan, {hash}).ok());
  plan.nodes_per_hash = {1, 2};
  EXPECT_FALSE(AssembleProof(plan, {hash, hash}).ok());
  plan.nodes_per_hash = {1};
  EXPECT_FALSE(AssembleProof(plan, {hash, hash}).ok());
  plan.nodes_per_hash = {0, 2};
  EXPECT_FALSE(AssembleProof(plan, {hash, hash}).ok());
}

// A tree whose leaves are all equal, so that every node of a level has the
// same hash: lets proofs be built and checked near 2^64 leaves.
class UniformTree : public HashReader {
 public:
  explicit UniformTree(uint64_t size) : size_(size) {
    level_hashes_[0] = HashLeaf("same");
    for (uint32_t level = 1; level <= kMaxNodeLevel; ++level) {
      level_hashes_[level] =
          HashChildren(level_hashes_[level - 1], level_hashes_[level - 1]);
    }
  }

  Hash Root() const {
    std::vector<Hash> border;
    for (const NodeId& id : RangeNodes(0, size_)) {
      border.push_back(level_hashes_[id.level]);
    }
    return FoldSubtrees(border);
  }

  const Hash& leaf_hash() const { return level_hashes_[0]; }

  absl::StatusOr<std::vector<Hash>> ReadNodes(
      absl::Span<const NodeId> ids) const override {
    std::vector<Hash> hashes;
    for (const NodeId& id : ids) {
      if (id.level > kMaxNodeLevel || id.index >= size_ >> id.level) {
        return absl::NotFoundError(NodeIdToString(id));
      }
      hashes.push_back(level_hashes_[id.level]);
    }
    return hashes;
  }

 private:
  uint64_t size_;
  std::array<Hash, kMaxNodeLevel + 1> level_hashes_;
};

TEST(ProofTest, WorksUpToTheLargestTree) {
  constexpr uint64_t kHalf = uint64_t{1} << 63;
  const struct {
    uint64_t old_size;
    uint64_t new_size;
  } kCases[] = {
      {1, UINT64_MAX},         {kHalf, kHalf + 1},           {kHalf - 1, kHalf},
      {kHalf + 1, UINT64_MAX}, {UINT64_MAX - 1, UINT64_MAX}, {12345, kHalf},
      {3, kHalf + 3},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(::testing::Message() << c.old_size << " to " << c.new_size);
    const UniformTree old_tree(c.old_size);
    const UniformTree new_tree(c.new_size);
    for (const uint64_t index : {uint64_t{0}, c.old_size - 1, c.new_size - 1}) {
      const absl::StatusOr<std::vector<Hash>> inclusion =
          BuildInclusionProof(index, c.new_size, new_tree);
      ASSERT_TRUE(inclusion.ok()) << inclusion.status();
      EXPECT_LE(inclusion->size(), kMaxProofHashes);
      EXPECT_TRUE(VerifyInclusion(index, c.new_size, new_tree.leaf_hash(),
                                  *inclusion, new_tree.Root())
                      .ok())
          << "leaf " << index;
    }
    const absl::StatusOr<std::vector<Hash>> consistency =
        BuildConsistencyProof(c.old_size, c.new_size, new_tree);
    ASSERT_TRUE(consistency.ok()) << consistency.status();
    EXPECT_TRUE(VerifyConsistency(c.old_size, c.new_size, old_tree.Root(),
                                  new_tree.Root(), *consistency)
                    .ok());
  }
}

}  // namespace
}  // namespace refsum::tlog
