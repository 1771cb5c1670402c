#include "tlog/merkle_testing.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "encoding/hex.h"

namespace refsum::tlog::testing {
namespace {

std::vector<Hash> Concat(std::vector<Hash> front, const Hash& back) {
  front.push_back(back);
  return front;
}

// RFC 6962 SUBPROOF(m, D[n], b) for the leaves `d`.
std::vector<Hash> Subproof(uint64_t m, absl::Span<const Hash> d,
                           bool whole_old_tree) {
  const uint64_t n = d.size();
  if (m == n) {
    if (whole_old_tree) return {};
    return {ReferenceRoot(d)};
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    return Concat(Subproof(m, d.subspan(0, k), whole_old_tree),
                  ReferenceRoot(d.subspan(k)));
  }
  return Concat(Subproof(m - k, d.subspan(k), false),
                ReferenceRoot(d.subspan(0, k)));
}

// The CT vectors' nodes, level by level (transparency-dev/merkle
// testonly.NodeHashes).
const std::vector<std::vector<const char*>>& CtNodeHexes() {
  static const auto* const nodes = new std::vector<std::vector<const char*>>{
      {
          "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
          "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
          "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
          "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
          "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
          "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
      },
      {
          "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      },
      {
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
      },
      {
          "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
      },
  };
  return *nodes;
}

}  // namespace

uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash HashFromHex(absl::string_view hex) {
  const absl::StatusOr<std::string> bytes = encoding::HexDecode(hex);
  Hash hash;
  if (!bytes.ok() || bytes->size() != hash.size()) {
    std::cerr << "bad test vector hash \"" << hex << "\"\n";
    std::abort();
  }
  std::copy(bytes->begin(), bytes->end(), hash.begin());
  return hash;
}

std::vector<std::string> CtLeafInputs() {
  std::vector<std::string> leaves;
  for (const char* hex :
       {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
        "606162636465666768696a6b6c6d6e6f"}) {
    leaves.push_back(*encoding::HexDecode(hex));
  }
  return leaves;
}

std::vector<Hash> CtRoots() {
  return {
      HashFromHex(
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
      HashFromHex(
          "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
      HashFromHex(
          "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
      HashFromHex(
          "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
      HashFromHex(
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
      HashFromHex(
          "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
      HashFromHex(
          "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
      HashFromHex(
          "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
      HashFromHex(
          "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
  };
}

Hash CtNodeHash(const NodeId& id) {
  return HashFromHex(CtNodeHexes().at(id.level).at(id.index));
}

std::vector<CtInclusionVector> CtInclusionVectors() {
  return {
      {0, 1, {}},
      {0, 8, {CtNodeHash({0, 1}), CtNodeHash({1, 1}), CtNodeHash({2, 1})}},
      {5, 8, {CtNodeHash({0, 4}), CtNodeHash({1, 3}), CtNodeHash({2, 0})}},
      {2, 3, {CtNodeHash({1, 0})}},
      {1, 5, {CtNodeHash({0, 0}), CtNodeHash({1, 1}), CtNodeHash({0, 4})}},
  };
}

std::vector<CtConsistencyVector> CtConsistencyVectors() {
  return {
      {1, 1, {}},
      {1, 8, {CtNodeHash({0, 1}), CtNodeHash({1, 1}), CtNodeHash({2, 1})}},
      {6, 8, {CtNodeHash({1, 2}), CtNodeHash({1, 3}), CtNodeHash({2, 0})}},
      {2, 5, {CtNodeHash({1, 1}), CtNodeHash({0, 4})}},
      {6, 7, {CtNodeHash({1, 2}), CtNodeHash({0, 6}), CtNodeHash({2, 0})}},
  };
}

std::vector<Hash> MakeLeafHashes(uint64_t count) {
  std::vector<Hash> leaf_hashes;
  for (uint64_t i = 0; i < count; ++i) {
    leaf_hashes.push_back(HashLeaf(absl::StrCat("leaf ", i)));
  }
  return leaf_hashes;
}

Hash ReferenceRoot(absl::Span<const Hash> leaf_hashes) {
  const uint64_t n = leaf_hashes.size();
  if (n == 0) return EmptyRoot();
  if (n == 1) return leaf_hashes[0];
  const uint64_t k = SplitPoint(n);
  return HashChildren(ReferenceRoot(leaf_hashes.subspan(0, k)),
                      ReferenceRoot(leaf_hashes.subspan(k)));
}

std::vector<Hash> ReferenceInclusionProof(uint64_t index,
                                          absl::Span<const Hash> leaf_hashes) {
  const uint64_t n = leaf_hashes.size();
  if (n == 1) return {};
  const uint64_t k = SplitPoint(n);
  if (index < k) {
    return Concat(ReferenceInclusionProof(index, leaf_hashes.subspan(0, k)),
                  ReferenceRoot(leaf_hashes.subspan(k)));
  }
  return Concat(ReferenceInclusionProof(index - k, leaf_hashes.subspan(k)),
                ReferenceRoot(leaf_hashes.subspan(0, k)));
}

std::vector<Hash> ReferenceConsistencyProof(
    uint64_t old_size, absl::Span<const Hash> leaf_hashes) {
  return Subproof(old_size, leaf_hashes, true);
}

NodeStore::NodeStore(absl::Span<const Hash> leaf_hashes) {
  std::vector<Hash> level_hashes(leaf_hashes.begin(), leaf_hashes.end());
  for (uint32_t level = 0; !level_hashes.empty(); ++level) {
    std::vector<Hash> parents;
    for (uint64_t i = 0; i < level_hashes.size(); ++i) {
      nodes_[NodeId{level, i}] = level_hashes[i];
      if (i % 2 == 1) {
        parents.push_back(HashChildren(level_hashes[i - 1], level_hashes[i]));
      }
    }
    level_hashes = std::move(parents);
  }
}

absl::StatusOr<std::vector<Hash>> NodeStore::ReadNodes(
    absl::Span<const NodeId> ids) const {
  ++read_calls_;
  std::vector<Hash> hashes;
  for (const NodeId& id : ids) {
    const auto it = nodes_.find(id);
    if (it == nodes_.end()) {
      return absl::NotFoundError(
          absl::StrCat("node ", NodeIdToString(id), " is not stored"));
    }
    hashes.push_back(it->second);
  }
  return hashes;
}

}  // namespace refsum::tlog::testing
