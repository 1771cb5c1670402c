#include "log/batch_nodes.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tlog/compact_range.h"
#include "tlog/merkle.h"
#include "tlog/merkle_testing.h"
#include "tlog/proof.h"

namespace refsum::log {
namespace {

std::vector<tlog::Hash> Leaves(uint64_t count) {
  std::vector<tlog::Hash> leaves;
  for (uint64_t i = 0; i < count; ++i) {
    leaves.push_back(tlog::HashLeaf(absl::StrCat("leaf ", i)));
  }
  return leaves;
}

// Appends leaves [old_size, new_size) to the range of [0, old_size) as the
// sequencer does, and checks every new leaf's proof from BatchNodes against
// RFC 6962's PATH.
void CheckBatch(uint64_t old_size, uint64_t new_size) {
  SCOPED_TRACE(absl::StrCat("batch [", old_size, ", ", new_size, ")"));
  const std::vector<tlog::Hash> leaves = Leaves(new_size);
  tlog::CompactRange before;
  for (uint64_t i = 0; i < old_size; ++i) {
    ASSERT_TRUE(before.AppendLeaf(leaves[i]).ok());
  }
  tlog::CompactRange after = before;
  std::vector<std::pair<tlog::NodeId, tlog::Hash>> completed;
  for (uint64_t i = old_size; i < new_size; ++i) {
    ASSERT_TRUE(after
                    .AppendLeaf(leaves[i],
                                [&completed](const tlog::NodeId& id,
                                             const tlog::Hash& hash) {
                                  completed.emplace_back(id, hash);
                                })
                    .ok());
  }
  const BatchNodes nodes(before, completed);
  for (uint64_t i = old_size; i < new_size; ++i) {
    absl::StatusOr<std::vector<tlog::Hash>> proof =
        tlog::BuildInclusionProof(i, new_size, nodes);
    ASSERT_TRUE(proof.ok()) << "leaf " << i << ": " << proof.status();
    EXPECT_EQ(*proof, tlog::testing::ReferenceInclusionProof(i, leaves))
        << "leaf " << i;
  }
}

TEST(BatchNodesTest, HoldsEveryProofOfTheBatchsLeaves) {
  for (uint64_t old_size = 0; old_size <= 40; ++old_size) {
    for (uint64_t count = 1; count <= 40; ++count) {
      CheckBatch(old_size, old_size + count);
    }
  }
  CheckBatch(1000, 1256);
  CheckBatch(1023, 1025);
}

TEST(BatchNodesTest, OlderNodesAreNotFound) {
  const std::vector<tlog::Hash> leaves = Leaves(9);
  tlog::CompactRange before;
  for (const tlog::Hash& leaf : leaves) ASSERT_TRUE(before.AppendLeaf(leaf).ok());
  const BatchNodes nodes(before, {});
  // The border of 9 leaves is 3/0 and 0/8; 2/0 lies below it.
  const tlog::NodeId border[] = {{3, 0}, {0, 8}};
  absl::StatusOr<std::vector<tlog::Hash>> hashes = nodes.ReadNodes(border);
  ASSERT_TRUE(hashes.ok()) << hashes.status();
  EXPECT_EQ(*hashes, before.hashes());
  const tlog::NodeId older[] = {{3, 0}, {2, 0}};
  EXPECT_EQ(nodes.ReadNodes(older).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace refsum::log
