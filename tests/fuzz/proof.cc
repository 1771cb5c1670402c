// Fuzzes RFC 9162 proof checking (tlog::RootFromInclusionProof,
// VerifyInclusion, RootFromConsistencyProof, VerifyConsistency) with the
// sizes, indexes and hashes that tlog-proof files, bundles and
// add-checkpoint bodies carry from outside. Input: a big-endian uint64
// index (or old size), a big-endian uint64 size (or new size), a 32-byte
// leaf hash (or old root), then up to 64 32-byte proof hashes. Whatever
// root a proof computes, the matching Verify* accepts with it, and the
// proof has the length PlanInclusionProof / PlanConsistencyProof plans.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/base/internal/endian.h"
#include "tests/fuzz/check.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using refsum::tlog::Hash;
  constexpr size_t kHeader = 8 + 8 + sizeof(Hash);
  if (size < kHeader) return 0;
  const uint64_t first = absl::big_endian::Load64(data);
  const uint64_t second = absl::big_endian::Load64(data + 8);
  Hash hash;
  std::memcpy(hash.data(), data + 16, hash.size());
  std::vector<Hash> proof;
  for (size_t offset = kHeader;
       offset + hash.size() <= size && proof.size() < 64;
       offset += hash.size()) {
    Hash node;
    std::memcpy(node.data(), data + offset, node.size());
    proof.push_back(node);
  }

  absl::StatusOr<Hash> root =
      refsum::tlog::RootFromInclusionProof(first, second, hash, proof);
  if (root.ok()) {
    FUZZ_CHECK_OK(
        refsum::tlog::VerifyInclusion(first, second, hash, proof, *root));
    absl::StatusOr<refsum::tlog::ProofPlan> plan =
        refsum::tlog::PlanInclusionProof(first, second);
    FUZZ_CHECK_OK(plan);
    FUZZ_CHECK(plan->nodes_per_hash.size() == proof.size());
  } else {
    FUZZ_CHECK(root.status().code() == absl::StatusCode::kInvalidArgument);
  }

  absl::StatusOr<Hash> new_root =
      refsum::tlog::RootFromConsistencyProof(first, second, hash, proof);
  if (new_root.ok()) {
    FUZZ_CHECK_OK(
        refsum::tlog::VerifyConsistency(first, second, hash, *new_root, proof));
    absl::StatusOr<refsum::tlog::ProofPlan> plan =
        refsum::tlog::PlanConsistencyProof(first, second);
    FUZZ_CHECK_OK(plan);
    FUZZ_CHECK(plan->nodes_per_hash.size() == proof.size());
    if (first == second) FUZZ_CHECK(*new_root == hash && proof.empty());
  } else {
    FUZZ_CHECK(new_root.status().code() == absl::StatusCode::kInvalidArgument);
  }
  return 0;
}
