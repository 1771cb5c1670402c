#include "tlog/merkle.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tlog/merkle_testing.h"

namespace refsum::tlog {
namespace {

using ::refsum::tlog::testing::CtLeafInputs;
using ::refsum::tlog::testing::CtNodeHash;
using ::refsum::tlog::testing::CtRoots;
using ::refsum::tlog::testing::HashFromHex;

TEST(MerkleTest, HashLeafMatchesCtVectors) {
  const std::vector<std::string> leaves = CtLeafInputs();
  for (uint64_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(HashLeaf(leaves[i]), CtNodeHash({0, i})) << i;
  }
}

TEST(MerkleTest, HashChildrenMatchesCtVectors) {
  EXPECT_EQ(HashChildren(CtNodeHash({0, 0}), CtNodeHash({0, 1})),
            CtNodeHash({1, 0}));
  EXPECT_EQ(HashChildren(CtNodeHash({2, 0}), CtNodeHash({2, 1})),
            CtNodeHash({3, 0}));
}

TEST(MerkleTest, LeafAndNodeHashesAreDomainSeparated) {
  const Hash a = HashLeaf("a");
  const Hash b = HashLeaf("b");
  const std::string concatenation(std::string(crypto::DigestBytes(a)) +
                                  std::string(crypto::DigestBytes(b)));
  EXPECT_NE(HashLeaf(concatenation), HashChildren(a, b));
}

TEST(MerkleTest, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(EmptyRoot(),
            HashFromHex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4959"
                        "91b7852b855"));
}

TEST(MerkleTest, RangeNodesCoverTheRangeWithFewestPerfectSubtrees) {
  const struct {
    uint64_t begin;
    uint64_t end;
    std::vector<NodeId> nodes;
  } kCases[] = {
      {0, 0, {}},
      {5, 5, {}},
      {9, 3, {}},
      {0, 1, {{0, 0}}},
      {0, 8, {{3, 0}}},
      {0, 7, {{2, 0}, {1, 2}, {0, 6}}},
      {3, 13, {{0, 3}, {2, 1}, {2, 2}, {0, 12}}},
      {4, 24, {{2, 1}, {3, 1}, {3, 2}}},
      {uint64_t{1} << 63, (uint64_t{1} << 63) + 2, {{1, uint64_t{1} << 62}}},
      {UINT64_MAX - 1, UINT64_MAX, {{0, UINT64_MAX - 1}}},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(RangeNodes(c.begin, c.end), c.nodes)
        << "[" << c.begin << ", " << c.end << ")";
  }
}

TEST(MerkleTest, RangeNodesOfTheLargestTreeIsOneNodePerLevel) {
  const std::vector<NodeId> nodes = RangeNodes(0, UINT64_MAX);
  ASSERT_EQ(nodes.size(), 64u);
  uint64_t begin = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(nodes[i].level, 63 - i);
    EXPECT_EQ(nodes[i].index << nodes[i].level, begin);
    begin += uint64_t{1} << nodes[i].level;
  }
}

TEST(MerkleTest, FoldSubtreesGivesTheRoot) {
  EXPECT_EQ(FoldSubtrees({}), EmptyRoot());
  EXPECT_EQ(FoldSubtrees({CtNodeHash({0, 0})}), CtNodeHash({0, 0}));
  // RangeNodes(0, 7): 2/0, 1/2, 0/6.
  EXPECT_EQ(FoldSubtrees(
                {CtNodeHash({2, 0}), CtNodeHash({1, 2}), CtNodeHash({0, 6})}),
            CtRoots()[7]);
}

TEST(MerkleTest, NodeIdPrintsAsLevelSlashIndex) {
  EXPECT_EQ(NodeIdToString({3, 42}), "3/42");
}

}  // namespace
}  // namespace refsum::tlog
