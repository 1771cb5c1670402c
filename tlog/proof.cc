#include "tlog/proof.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/numeric/bits.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "encoding/hex.h"

namespace refsum::tlog {
namespace {

std::string Hex(const Hash& hash) {
  return encoding::HexEncode(crypto::DigestBytes(hash));
}

absl::Status CheckLeafIndex(uint64_t index, uint64_t size) {
  if (index >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf index ", index, " is not below the tree size ", size));
  }
  return absl::OkStatus();
}

absl::Status CheckSizeOrder(uint64_t old_size, uint64_t new_size) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "old tree size ", old_size, " exceeds new tree size ", new_size));
  }
  return absl::OkStatus();
}

void AddProofHash(const std::vector<NodeId>& nodes, ProofPlan* plan) {
  plan->nodes.insert(plan->nodes.end(), nodes.begin(), nodes.end());
  plan->nodes_per_hash.push_back(nodes.size());
}

// Adds, lowest first, the subtrees beside the path from `node` (complete in
// the tree of `size` leaves) up to the root. A sibling that starts at or past
// `size` does not exist: RFC 6962 then carries the node up a level unchanged.
// A sibling that reaches past `size` is cut off there, which makes it the
// right-edge subtree that is not perfect.
void AddSiblingsUpToRoot(const NodeId& node, uint64_t size, ProofPlan* plan) {
  const uint32_t root_level = static_cast<uint32_t>(absl::bit_width(size - 1));
  uint64_t index = node.index;
  for (uint32_t level = node.level; level < root_level; ++level, index >>= 1) {
    const uint64_t sibling_begin = (index ^ 1) << level;
    if (sibling_begin >= size) continue;
    const uint64_t sibling_length =
        std::min(size - sibling_begin, uint64_t{1} << level);
    AddProofHash(RangeNodes(sibling_begin, sibling_begin + sibling_length),
                 plan);
  }
}

// Returns whether plan.nodes_per_hash splits plan.nodes into non-empty runs.
bool IsPartition(const ProofPlan& plan) {
  size_t total = 0;
  for (const size_t count : plan.nodes_per_hash) {
    if (count == 0 || count > plan.nodes.size() - total) return false;
    total += count;
  }
  return total == plan.nodes.size();
}

absl::StatusOr<std::vector<Hash>> ReadAndAssemble(const ProofPlan& plan,
                                                  const HashReader& reader) {
  if (plan.nodes.empty()) return std::vector<Hash>();
  ASSIGN_OR_RETURN(const std::vector<Hash> hashes,
                   reader.ReadNodes(plan.nodes));
  if (hashes.size() != plan.nodes.size()) {
    return absl::InternalError(absl::StrCat("hash reader returned ",
                                            hashes.size(), " hashes for ",
                                            plan.nodes.size(), " nodes"));
  }
  return AssembleProof(plan, hashes);
}

// RFC 9162 section 2.1.3.2 step 4.b.ii and section 2.1.4.2 step 6.b.ii:
// "right-shift both fn and sn equally until either LSB(fn) is set or fn is 0".
void ShiftUntilOddOrZero(uint64_t* fn, uint64_t* sn) {
  while (*fn != 0 && (*fn & 1) == 0) {
    *fn >>= 1;
    *sn >>= 1;
  }
}

std::string DescribeInclusion(uint64_t index, uint64_t size) {
  return absl::StrCat("inclusion proof for leaf ", index, " in a tree of size ",
                      size);
}

std::string DescribeConsistency(uint64_t old_size, uint64_t new_size) {
  return absl::StrCat("consistency proof from tree size ", old_size, " to ",
                      new_size);
}

absl::Status WrongProofLength(absl::string_view proof_description,
                              absl::string_view too, size_t length) {
  return absl::InvalidArgumentError(absl::StrCat(
      proof_description, " has too ", too, " hashes (", length, ")"));
}

}  // namespace

absl::StatusOr<ProofPlan> PlanInclusionProof(uint64_t index, uint64_t size) {
  RETURN_IF_ERROR(CheckLeafIndex(index, size));
  ProofPlan plan;
  AddSiblingsUpToRoot(NodeId{0, index}, size, &plan);
  return plan;
}

absl::StatusOr<ProofPlan> PlanConsistencyProof(uint64_t old_size,
                                               uint64_t new_size) {
  RETURN_IF_ERROR(CheckSizeOrder(old_size, new_size));
  ProofPlan plan;
  if (old_size == 0 || old_size == new_size) return plan;
  // The proof is the inclusion proof of the largest perfect subtree that ends
  // at old_size, preceded by that subtree itself unless it is the whole old
  // tree (old_size a power of two): the verifier then starts from the old
  // root instead.
  const uint32_t level = static_cast<uint32_t>(absl::countr_zero(old_size));
  const NodeId last_old_subtree{level, (old_size - 1) >> level};
  if (last_old_subtree.index != 0) AddProofHash({last_old_subtree}, &plan);
  AddSiblingsUpToRoot(last_old_subtree, new_size, &plan);
  return plan;
}

absl::StatusOr<std::vector<Hash>> AssembleProof(
    const ProofPlan& plan, absl::Span<const Hash> node_hashes) {
  if (!IsPartition(plan)) {
    return absl::InvalidArgumentError(
        "proof plan's nodes_per_hash does not split its nodes into runs");
  }
  if (node_hashes.size() != plan.nodes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("proof plan has ", plan.nodes.size(), " nodes, got ",
                     node_hashes.size(), " hashes"));
  }
  std::vector<Hash> proof;
  proof.reserve(plan.nodes_per_hash.size());
  size_t next = 0;
  for (const size_t count : plan.nodes_per_hash) {
    proof.push_back(FoldSubtrees(node_hashes.subspan(next, count)));
    next += count;
  }
  return proof;
}

absl::StatusOr<std::vector<Hash>> BuildInclusionProof(
    uint64_t index, uint64_t size, const HashReader& reader) {
  ASSIGN_OR_RETURN(const ProofPlan plan, PlanInclusionProof(index, size));
  return ReadAndAssemble(plan, reader);
}

absl::StatusOr<std::vector<Hash>> BuildConsistencyProof(
    uint64_t old_size, uint64_t new_size, const HashReader& reader) {
  ASSIGN_OR_RETURN(const ProofPlan plan,
                   PlanConsistencyProof(old_size, new_size));
  return ReadAndAssemble(plan, reader);
}

absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size,
                                            const Hash& leaf_hash,
                                            absl::Span<const Hash> proof) {
  // RFC 9162 section 2.1.3.2, steps 1 to 5.
  RETURN_IF_ERROR(CheckLeafIndex(index, size));
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return WrongProofLength(DescribeInclusion(index, size), "many",
                              proof.size());
    }
    if ((fn & 1) == 1 || fn == sn) {
      r = HashChildren(p, r);
      if ((fn & 1) == 0) ShiftUntilOddOrZero(&fn, &sn);
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return WrongProofLength(DescribeInclusion(index, size), "few",
                            proof.size());
  }
  return r;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root) {
  ASSIGN_OR_RETURN(const Hash computed,
                   RootFromInclusionProof(index, size, leaf_hash, proof));
  if (computed != root) {
    return absl::InvalidArgumentError(
        absl::StrCat("inclusion proof does not verify: computed root ",
                     Hex(computed), " != expected ", Hex(root)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Hash> RootFromConsistencyProof(uint64_t old_size,
                                              uint64_t new_size,
                                              const Hash& old_root,
                                              absl::Span<const Hash> proof) {
  RETURN_IF_ERROR(CheckSizeOrder(old_size, new_size));
  if (old_size == 0) {
    return absl::InvalidArgumentError(
        "no consistency proof from the empty tree determines a new root");
  }
  if (old_size == new_size) {
    if (!proof.empty()) {
      return WrongProofLength(DescribeConsistency(old_size, new_size), "many",
                              proof.size());
    }
    return old_root;
  }
  // RFC 9162 section 2.1.4.2, steps 1 to 7. Step 2 prepends old_root to the
  // path when old_size is a power of two; starting from old_root instead
  // spares copying the path.
  if (proof.empty()) {
    return WrongProofLength(DescribeConsistency(old_size, new_size), "few", 0);
  }
  const bool starts_from_old_root = absl::has_single_bit(old_size);
  const Hash& first = starts_from_old_root ? old_root : proof.front();
  const absl::Span<const Hash> rest =
      starts_from_old_root ? proof : proof.subspan(1);
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = first;
  Hash sr = first;
  for (const Hash& c : rest) {
    if (sn == 0) {
      return WrongProofLength(DescribeConsistency(old_size, new_size), "many",
                              proof.size());
    }
    if ((fn & 1) == 1 || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      if ((fn & 1) == 0) ShiftUntilOddOrZero(&fn, &sn);
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return WrongProofLength(DescribeConsistency(old_size, new_size), "few",
                            proof.size());
  }
  if (fr != old_root) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof does not verify: computed old root ",
                     Hex(fr), " != expected ", Hex(old_root)));
  }
  return sr;
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const Hash& old_root, const Hash& new_root,
                               absl::Span<const Hash> proof) {
  RETURN_IF_ERROR(CheckSizeOrder(old_size, new_size));
  if (old_size == 0) {
    if (!proof.empty()) {
      return WrongProofLength(DescribeConsistency(old_size, new_size), "many",
                              proof.size());
    }
    if (old_root != EmptyRoot()) {
      return absl::InvalidArgumentError(
          absl::StrCat("old root ", Hex(old_root),
                       " of the empty tree is not the empty tree hash"));
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(
      const Hash computed,
      RootFromConsistencyProof(old_size, new_size, old_root, proof));
  if (computed != new_root) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof does not verify: computed new root ",
                     Hex(computed), " != expected ", Hex(new_root)));
  }
  return absl::OkStatus();
}

}  // namespace refsum::tlog
