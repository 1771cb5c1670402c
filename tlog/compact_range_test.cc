#include "tlog/compact_range.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"

namespace refsum::tlog {
namespace {

using ::refsum::tlog::testing::CtLeafInputs;
using ::refsum::tlog::testing::CtNodeHash;
using ::refsum::tlog::testing::CtRoots;
using ::refsum::tlog::testing::MakeLeafHashes;
using ::refsum::tlog::testing::NodeStore;
using ::refsum::tlog::testing::ReferenceRoot;

constexpr uint64_t kLeaves = 300;

using NodeMap = absl::flat_hash_map<NodeId, Hash>;

// Collects reported nodes and fails the test on a node reported twice.
CompactRange::NodeCallback CollectInto(NodeMap* nodes) {
  return [nodes](const NodeId& id, const Hash& hash) {
    EXPECT_TRUE(nodes->emplace(id, hash).second)
        << "reported twice: " << NodeIdToString(id);
  };
}

std::vector<Hash> StoredHashes(const NodeStore& store,
                               const std::vector<NodeId>& ids) {
  std::vector<Hash> hashes;
  for (const NodeId& id : ids) hashes.push_back(store.nodes().at(id));
  return hashes;
}

// The nodes of `store` that are not yet complete in a tree of `size` leaves.
NodeMap NodesCompletedAfter(const NodeStore& store, uint64_t size) {
  NodeMap nodes;
  for (const auto& [id, hash] : store.nodes()) {
    if (id.index >= size >> id.level) nodes.emplace(id, hash);
  }
  return nodes;
}

TEST(CompactRangeTest, MatchesCtVectors) {
  CompactRange range;
  EXPECT_EQ(*range.Root(), CtRoots()[0]);
  for (const std::string& leaf : CtLeafInputs()) {
    ASSERT_TRUE(range.AppendLeaf(HashLeaf(leaf)).ok());
    EXPECT_EQ(*range.Root(), CtRoots()[range.end()]) << range.end();
    ASSERT_EQ(range.nodes(), RangeNodes(0, range.end()));
    for (size_t i = 0; i < range.nodes().size(); ++i) {
      EXPECT_EQ(range.hashes()[i], CtNodeHash(range.nodes()[i]));
    }
  }
}

TEST(CompactRangeTest, RootsMatchReferenceForEverySize) {
  const std::vector<Hash> leaf_hashes = MakeLeafHashes(kLeaves);
  CompactRange range;
  for (uint64_t size = 0; size <= kLeaves; ++size) {
    const absl::StatusOr<Hash> root = range.Root();
    ASSERT_TRUE(root.ok()) << root.status();
    ASSERT_EQ(*root,
              ReferenceRoot(absl::MakeConstSpan(leaf_hashes).subspan(0, size)))
        << size;
    if (size < kLeaves) {
      ASSERT_TRUE(range.AppendLeaf(leaf_hashes[size]).ok());
    }
  }
}

TEST(CompactRangeTest, ReportsEveryPerfectSubtreeExactlyOnce) {
  const std::vector<Hash> leaf_hashes = MakeLeafHashes(kLeaves);
  CompactRange range;
  NodeMap reported;
  for (const Hash& leaf_hash : leaf_hashes) {
    ASSERT_TRUE(range.AppendLeaf(leaf_hash, CollectInto(&reported)).ok());
  }
  EXPECT_EQ(reported, NodeStore(leaf_hashes).nodes());
}

TEST(CompactRangeTest, ContinuesFromRestoredRightBorder) {
  const std::vector<Hash> leaf_hashes = MakeLeafHashes(kLeaves);
  const NodeStore store(leaf_hashes);
  const Hash final_root = ReferenceRoot(leaf_hashes);
  for (uint64_t size = 0; size <= kLeaves; ++size) {
    absl::StatusOr<CompactRange> range = CompactRange::FromHashes(
        0, size, StoredHashes(store, RangeNodes(0, size)));
    ASSERT_TRUE(range.ok()) << range.status();
    NodeMap reported;
    for (uint64_t i = size; i < kLeaves; ++i) {
      ASSERT_TRUE(
          range->AppendLeaf(leaf_hashes[i], CollectInto(&reported)).ok());
    }
    EXPECT_EQ(*range->Root(), final_root) << size;
    // What a restarted log stores is exactly what it lacked.
    EXPECT_EQ(reported, NodesCompletedAfter(store, size)) << size;
  }
}

TEST(CompactRangeTest, AppendsStoredSubtrees) {
  const std::vector<Hash> leaf_hashes = MakeLeafHashes(kLeaves);
  const NodeStore store(leaf_hashes);
  // Appends the largest subtree that fits at end(), or one up to three levels
  // smaller, in turn, so that appends of every size meet ranges of every shape.
  CompactRange range;
  for (uint32_t shrink = 0; range.end() < kLeaves; shrink = (shrink + 1) % 4) {
    const NodeId largest = RangeNodes(range.end(), kLeaves).front();
    const uint32_t smaller_by = std::min(shrink, largest.level);
    const NodeId id{largest.level - smaller_by, largest.index << smaller_by};
    NodeMap reported;
    ASSERT_TRUE(
        range.AppendSubtree(id, store.nodes().at(id), CollectInto(&reported))
            .ok());
    ASSERT_EQ(range.nodes(), RangeNodes(0, range.end()));
    EXPECT_EQ(reported.at(id), store.nodes().at(id));
    for (const auto& [reported_id, hash] : reported) {
      EXPECT_EQ(hash, store.nodes().at(reported_id));
    }
  }
  EXPECT_EQ(*range.Root(), ReferenceRoot(leaf_hashes));
}

TEST(CompactRangeTest, RangeNotStartingAtZeroHasNodesButNoRoot) {
  const std::vector<Hash> leaf_hashes = MakeLeafHashes(64);
  const NodeStore store(leaf_hashes);
  CompactRange range(5);
  for (uint64_t i = 5; i < 64; ++i) {
    ASSERT_TRUE(range.AppendLeaf(leaf_hashes[i]).ok());
    ASSERT_EQ(range.nodes(), RangeNodes(5, range.end()));
    EXPECT_EQ(range.hashes(), StoredHashes(store, range.nodes()));
  }
  EXPECT_EQ(range.Root().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CompactRangeTest, RejectsMisplacedSubtreesAndLeavesRangeUnchanged) {
  const std::vector<Hash> leaf_hashes = MakeLeafHashes(6);
  CompactRange range;
  for (const Hash& leaf_hash : leaf_hashes) {
    ASSERT_TRUE(range.AppendLeaf(leaf_hash).ok());
  }
  const CompactRange before = range;
  const Hash hash = leaf_hashes[0];
  // Level 2 at leaf 6 would not be aligned; index 2 at level 1 is leaf 4.
  EXPECT_EQ(range.AppendSubtree({2, 1}, hash).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(range.AppendSubtree({1, 2}, hash).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(range.AppendSubtree({64, 0}, hash).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(range.end(), before.end());
  EXPECT_EQ(range.nodes(), before.nodes());
  EXPECT_EQ(range.hashes(), before.hashes());
}

TEST(CompactRangeTest, RefusesToPassTheLargestTreeSize) {
  CompactRange full(UINT64_MAX);
  EXPECT_EQ(full.AppendLeaf(EmptyRoot()).code(), absl::StatusCode::kOutOfRange);

  CompactRange half(uint64_t{1} << 63);
  EXPECT_EQ(half.AppendSubtree({63, 1}, EmptyRoot()).code(),
            absl::StatusCode::kOutOfRange);
  ASSERT_TRUE(half.AppendSubtree({62, 2}, EmptyRoot()).ok());
  EXPECT_EQ(half.end(), (uint64_t{1} << 63) + (uint64_t{1} << 62));
}

TEST(CompactRangeTest, FromHashesChecksTheRange) {
  EXPECT_EQ(CompactRange::FromHashes(0, 7, {EmptyRoot()}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompactRange::FromHashes(3, 2, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::StatusOr<CompactRange> empty = CompactRange::FromHashes(0, 0, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty->Root(), EmptyRoot());
}

}  // namespace
}  // namespace refsum::tlog
