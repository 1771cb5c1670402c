// C2SP tlog-tiles v0.1.0: the tree served as static "tiles" of 256 hashes
// (tile/<L>/<N>[.p/<W>]) and the leaves as "entry bundles"
// (tile/entries/<N>[.p/<W>]). This file holds the arithmetic (which tile holds
// which node, which tiles a tree or a proof needs), the paths and the bundle
// encoding; serving and fetching belong to the log and the client.

#ifndef REFSUM_TLOG_TILES_H_
#define REFSUM_TLOG_TILES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tlog/merkle.h"

namespace refsum::tlog {

// A tile spans kTileHeight levels of the tree: its hashes are the nodes of
// tree level `kTileHeight * L` under one node kTileHeight levels higher.
inline constexpr uint32_t kTileHeight = 8;
inline constexpr uint32_t kTileWidth = 1u << kTileHeight;
// The spec's bound on <L>.
inline constexpr uint32_t kMaxTileLevel = 63;
// Bundles prefix each entry with a big-endian uint16 length.
inline constexpr size_t kMaxEntrySize = 65535;

struct Tile {
  // The tile level L; its hashes are tree nodes of level kTileHeight * L.
  uint32_t level = 0;
  // The tile's position within its level, from the left.
  uint64_t index = 0;
  // The number of hashes, 1 to kTileWidth; less than kTileWidth makes the tile
  // partial, which only the rightmost tile of a level can be.
  uint32_t width = kTileWidth;

  friend bool operator==(const Tile& a, const Tile& b) {
    return a.level == b.level && a.index == b.index && a.width == b.width;
  }
};

// What a tile path names.
struct TileResource {
  // True for tile/entries/<N>[.p/<W>]: the entries whose leaf hashes form the
  // level-0 tile `tile` (tile.level must then be 0).
  bool entry_bundle = false;
  Tile tile;

  friend bool operator==(const TileResource& a, const TileResource& b) {
    return a.entry_bundle == b.entry_bundle && a.tile == b.tile;
  }
};

// Returns the path of `resource` relative to the log's prefix: tile/<L>/<N> or
// tile/entries/<N>, where N is written in 3-digit groups, all but the last
// prefixed with "x" (1234067 is x001/x234/067), followed by .p/<W> for a
// partial tile. Returns InvalidArgument for a level above kMaxTileLevel, a
// width outside 1..kTileWidth, or an entry bundle whose level is not 0.
// Thread-safe.
absl::StatusOr<std::string> FormatTilePath(const TileResource& resource);

// Parses a path written by FormatTilePath, and only such a path: every other
// spelling of the same tile (leading zeros, an x000 group, .p/256, a leading
// or trailing slash, ...) is rejected with InvalidArgument, so each tile has
// exactly one path. Thread-safe; safe on any input.
absl::StatusOr<TileResource> ParseTilePath(absl::string_view path);

// Returns the width of tile (`level`, `index`) in the tree of `tree_size`
// leaves: kTileWidth if it is full, less if it is the partial tile of its
// level. Returns NotFound if the tile has no hashes in that tree ("Empty tiles
// MUST NOT be served") and InvalidArgument if level > kMaxTileLevel.
// Thread-safe.
absl::StatusOr<uint32_t> TileWidth(uint32_t level, uint64_t index,
                                   uint64_t tree_size);

// The tiles of one level of a tree.
struct TileLevelLayout {
  uint32_t level = 0;
  // Tiles 0 to full_tiles - 1 are full.
  uint64_t full_tiles = 0;
  // The width of tile full_tiles, or 0 if there is no partial tile.
  uint32_t partial_width = 0;

  friend bool operator==(const TileLevelLayout& a, const TileLevelLayout& b) {
    return a.level == b.level && a.full_tiles == b.full_tiles &&
           a.partial_width == b.partial_width;
  }
};

// Returns the tiles of the tree of `tree_size` leaves, one entry per level
// that has at least one hash, lowest level first (none for the empty tree).
// Entry bundles follow level 0. Thread-safe.
std::vector<TileLevelLayout> TreeTileLayout(uint64_t tree_size);

// Where a node's hash is found in the tiles.
struct NodeInTile {
  // The tile, with its width in the tree the node was located in.
  Tile tile;
  // The node spans the tile hashes [first, first + count): one hash if its
  // level is a multiple of kTileHeight, else a perfect subtree of count =
  // 2^(level % kTileHeight) hashes whose Merkle root is the node's hash.
  uint32_t first = 0;
  uint32_t count = 0;
};

// Returns where the hash of `node` is found in the tiles of the tree of
// `tree_size` leaves. Returns InvalidArgument if the node is not complete in
// that tree (its hash would not be fixed yet). Thread-safe.
absl::StatusOr<NodeInTile> LocateNode(const NodeId& node, uint64_t tree_size);

// Returns the distinct tiles, with their widths in the tree of `tree_size`
// leaves, that hold the hashes of `nodes`, in order of first use. Returns
// LocateNode's errors. Thread-safe.
absl::StatusOr<std::vector<Tile>> TilesForNodes(absl::Span<const NodeId> nodes,
                                                uint64_t tree_size);

// Returns the tiles needed to build the inclusion proof of leaf `index` in the
// tree of `size` leaves (TilesForNodes of PlanInclusionProof). Returns
// InvalidArgument if index >= size. Thread-safe.
absl::StatusOr<std::vector<Tile>> TilesForInclusionProof(uint64_t index,
                                                         uint64_t size);

// Returns the tiles, with their widths in the new tree, needed to build the
// consistency proof between the trees of `old_size` and `new_size` leaves.
// Returns InvalidArgument if old_size > new_size. Thread-safe.
absl::StatusOr<std::vector<Tile>> TilesForConsistencyProof(uint64_t old_size,
                                                           uint64_t new_size);

// Returns the entry bundle of `entries`: each entry as a big-endian uint16
// length followed by its bytes. Returns InvalidArgument if there are no
// entries or more than kTileWidth, or an entry is longer than kMaxEntrySize.
// Thread-safe.
absl::StatusOr<std::string> EncodeEntryBundle(
    absl::Span<const std::string> entries);

// Parses an entry bundle strictly: 1 to kTileWidth entries and nothing after
// the last one. Returns InvalidArgument naming the problem otherwise (a
// truncated length or entry, too many entries, an empty bundle). The caller
// checks the count against the width the bundle's path promised.
// Thread-safe; safe on any input.
absl::StatusOr<std::vector<std::string>> ParseEntryBundle(
    absl::string_view bundle);

}  // namespace refsum::tlog

#endif  // REFSUM_TLOG_TILES_H_
