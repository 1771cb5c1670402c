#include "tlog/merkle_testing.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tlog/merkle.h"

namespace refsum::tlog::testing {
namespace {

std::vector<Hash> CtLeafHashes() {
  std::vector<Hash> leaf_hashes;
  for (const std::string& leaf : CtLeafInputs()) {
    leaf_hashes.push_back(HashLeaf(leaf));
  }
  return leaf_hashes;
}

absl::Span<const Hash> FirstLeaves(const std::vector<Hash>& leaf_hashes,
                                   uint64_t count) {
  return absl::MakeConstSpan(leaf_hashes).subspan(0, count);
}

TEST(ReferenceTest, RootsMatchCtVectors) {
  const std::vector<Hash> leaf_hashes = CtLeafHashes();
  const std::vector<Hash> roots = CtRoots();
  for (uint64_t size = 0; size <= leaf_hashes.size(); ++size) {
    EXPECT_EQ(ReferenceRoot(FirstLeaves(leaf_hashes, size)), roots[size])
        << size;
  }
}

TEST(ReferenceTest, InclusionProofsMatchCtVectors) {
  const std::vector<Hash> leaf_hashes = CtLeafHashes();
  for (const CtInclusionVector& vector : CtInclusionVectors()) {
    EXPECT_EQ(ReferenceInclusionProof(vector.index,
                                      FirstLeaves(leaf_hashes, vector.size)),
              vector.proof)
        << vector.index << " in " << vector.size;
  }
}

TEST(ReferenceTest, ConsistencyProofsMatchCtVectors) {
  const std::vector<Hash> leaf_hashes = CtLeafHashes();
  for (const CtConsistencyVector& vector : CtConsistencyVectors()) {
    EXPECT_EQ(ReferenceConsistencyProof(
                  vector.old_size, FirstLeaves(leaf_hashes, vector.new_size)),
              vector.proof)
        << vector.old_size << " to " << vector.new_size;
  }
}

TEST(NodeStoreTest, HoldsEveryPerfectSubtreeOfTheCtTree) {
  const NodeStore store(CtLeafHashes());
  EXPECT_EQ(store.nodes().size(), 8u + 4u + 2u + 1u);
  for (const auto& [id, hash] : store.nodes()) {
    EXPECT_EQ(hash, CtNodeHash(id)) << NodeIdToString(id);
  }
}

TEST(NodeStoreTest, ReadsInOrderAndReportsMissingNodes) {
  const NodeStore store(MakeLeafHashes(5));
  const absl::StatusOr<std::vector<Hash>> hashes =
      store.ReadNodes({NodeId{2, 0}, NodeId{0, 4}});
  ASSERT_TRUE(hashes.ok()) << hashes.status();
  EXPECT_EQ(*hashes, (std::vector<Hash>{store.nodes().at(NodeId{2, 0}),
                                        store.nodes().at(NodeId{0, 4})}));
  EXPECT_EQ(store.ReadNodes({NodeId{1, 2}}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store.read_calls(), 2);
}

}  // namespace
}  // namespace refsum::tlog::testing
