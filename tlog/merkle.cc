#include "tlog/merkle.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/numeric/bits.h"
#include "absl/strings/str_cat.h"

namespace refsum::tlog {
namespace {

constexpr char kLeafPrefix[] = {'\x00'};
constexpr char kNodePrefix[] = {'\x01'};

// Returns the level of the largest perfect subtree that starts at leaf
// `begin` and spans at most `length` (> 0) leaves.
uint32_t LargestSubtreeLevel(uint64_t begin, uint64_t length) {
  const uint32_t fits = static_cast<uint32_t>(absl::bit_width(length)) - 1;
  if (begin == 0) return fits;
  const uint32_t aligned = static_cast<uint32_t>(absl::countr_zero(begin));
  return std::min(aligned, fits);
}

}  // namespace

std::string NodeIdToString(const NodeId& id) {
  return absl::StrCat(id.level, "/", id.index);
}

Hash HashLeaf(absl::string_view data) {
  return crypto::Sha256({absl::string_view(kLeafPrefix, 1), data});
}

Hash HashChildren(const Hash& left, const Hash& right) {
  return crypto::Sha256({absl::string_view(kNodePrefix, 1),
                         crypto::DigestBytes(left),
                         crypto::DigestBytes(right)});
}

Hash EmptyRoot() { return crypto::Sha256(absl::string_view()); }

std::vector<NodeId> RangeNodes(uint64_t begin, uint64_t end) {
  std::vector<NodeId> nodes;
  while (begin < end) {
    const uint32_t level = LargestSubtreeLevel(begin, end - begin);
    nodes.push_back(NodeId{level, begin >> level});
    begin += uint64_t{1} << level;
  }
  return nodes;
}

Hash FoldSubtrees(absl::Span<const Hash> subtree_hashes) {
  if (subtree_hashes.empty()) return EmptyRoot();
  Hash hash = subtree_hashes.back();
  for (size_t i = subtree_hashes.size() - 1; i-- > 0;) {
    hash = HashChildren(subtree_hashes[i], hash);
  }
  return hash;
}

}  // namespace refsum::tlog
