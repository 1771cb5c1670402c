#include "tlog/tiles.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "encoding/decimal.h"
#include "tlog/proof.h"

namespace refsum::tlog {
namespace {

constexpr absl::string_view kTilePrefix = "tile/";
constexpr absl::string_view kEntriesPrefix = "entries/";
constexpr absl::string_view kPartialInfix = ".p/";
constexpr uint64_t kIndexGroupBase = 1000;

// Returns how many hashes tile level `level` of a tree of `tree_size` leaves
// has: one per complete node of tree level kTileHeight * level.
uint64_t HashesAtTileLevel(uint32_t level, uint64_t tree_size) {
  const uint32_t tree_level = level * kTileHeight;
  return tree_level < 64 ? tree_size >> tree_level : 0;
}

std::string FormatTileIndex(uint64_t index) {
  std::string path = absl::StrFormat("%03d", index % kIndexGroupBase);
  for (index /= kIndexGroupBase; index > 0; index /= kIndexGroupBase) {
    path =
        absl::StrCat(absl::StrFormat("x%03d/", index % kIndexGroupBase), path);
  }
  return path;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

uint64_t DigitValue(char digit) { return static_cast<uint64_t>(digit - '0'); }

bool IsThreeDigits(absl::string_view text) {
  return text.size() == 3 && std::all_of(text.begin(), text.end(), IsDigit);
}

absl::StatusOr<uint64_t> ParseTileIndex(absl::string_view text) {
  const std::vector<absl::string_view> groups = absl::StrSplit(text, '/');
  uint64_t index = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    absl::string_view group = groups[i];
    const bool last = i + 1 == groups.size();
    if (!last && !absl::ConsumePrefix(&group, "x")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tile index group \"", groups[i], "\" does not start with x"));
    }
    if (!IsThreeDigits(group)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tile index group \"", groups[i], "\" is not three digits"));
    }
    const uint64_t value = DigitValue(group[0]) * 100 +
                           DigitValue(group[1]) * 10 + DigitValue(group[2]);
    if (i == 0 && !last && value == 0) {
      return absl::InvalidArgumentError(
          "tile index starts with a zero group (x000)");
    }
    if (index >
        (std::numeric_limits<uint64_t>::max() - value) / kIndexGroupBase) {
      return absl::InvalidArgumentError(
          absl::StrCat("tile index ", text, " does not fit in 64 bits"));
    }
    index = index * kIndexGroupBase + value;
  }
  return index;
}

absl::Status CheckTileLevel(uint64_t level) {
  if (level > kMaxTileLevel) {
    return absl::InvalidArgumentError(
        absl::StrCat("tile level ", level, " exceeds ", kMaxTileLevel));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ParseTileLevel(absl::string_view text) {
  ASSIGN_OR_RETURN(const uint64_t level,
                   encoding::ParseCanonicalDecimal(text, "tile level"));
  RETURN_IF_ERROR(CheckTileLevel(level));
  return static_cast<uint32_t>(level);
}

absl::StatusOr<uint32_t> ParsePartialWidth(absl::string_view text) {
  ASSIGN_OR_RETURN(const uint64_t width,
                   encoding::ParseCanonicalDecimal(text, "partial tile width"));
  if (width == 0 || width >= kTileWidth) {
    return absl::InvalidArgumentError(absl::StrCat("partial tile width ", width,
                                                   " is not between 1 and ",
                                                   kTileWidth - 1));
  }
  return static_cast<uint32_t>(width);
}

absl::Status CheckEntryCount(size_t count) {
  if (count == 0 || count > kTileWidth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entry bundle has ", count, " entries, not 1 to ", kTileWidth));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> FormatTilePath(const TileResource& resource) {
  const Tile& tile = resource.tile;
  RETURN_IF_ERROR(CheckTileLevel(tile.level));
  if (tile.width == 0 || tile.width > kTileWidth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tile width ", tile.width, " is not between 1 and ", kTileWidth));
  }
  if (resource.entry_bundle && tile.level != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "entry bundles go with level 0 tiles, not level ", tile.level));
  }
  std::string path(kTilePrefix);
  if (resource.entry_bundle) {
    absl::StrAppend(&path, kEntriesPrefix);
  } else {
    absl::StrAppend(&path, tile.level, "/");
  }
  absl::StrAppend(&path, FormatTileIndex(tile.index));
  if (tile.width < kTileWidth) {
    absl::StrAppend(&path, kPartialInfix, tile.width);
  }
  return path;
}

absl::StatusOr<TileResource> ParseTilePath(absl::string_view path) {
  if (!absl::ConsumePrefix(&path, kTilePrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tile path does not start with \"", kTilePrefix, "\""));
  }
  TileResource resource;
  resource.entry_bundle = absl::ConsumePrefix(&path, kEntriesPrefix);
  if (!resource.entry_bundle) {
    const size_t slash = path.find('/');
    if (slash == absl::string_view::npos) {
      return absl::InvalidArgumentError("tile path has no tile index");
    }
    ASSIGN_OR_RETURN(resource.tile.level,
                     ParseTileLevel(path.substr(0, slash)));
    path.remove_prefix(slash + 1);
  }
  const size_t partial = path.find(kPartialInfix);
  if (partial != absl::string_view::npos) {
    ASSIGN_OR_RETURN(
        resource.tile.width,
        ParsePartialWidth(path.substr(partial + kPartialInfix.size())));
    path = path.substr(0, partial);
  }
  ASSIGN_OR_RETURN(resource.tile.index, ParseTileIndex(path));
  return resource;
}

absl::StatusOr<uint32_t> TileWidth(uint32_t level, uint64_t index,
                                   uint64_t tree_size) {
  RETURN_IF_ERROR(CheckTileLevel(level));
  const uint64_t hashes = HashesAtTileLevel(level, tree_size);
  const uint64_t full_tiles = hashes / kTileWidth;
  if (index < full_tiles) return kTileWidth;
  const uint32_t partial_width = static_cast<uint32_t>(hashes % kTileWidth);
  if (index == full_tiles && partial_width > 0) return partial_width;
  return absl::NotFoundError(absl::StrCat(
      "tile ", level, "/", index, " is empty in a tree of size ", tree_size));
}

std::vector<TileLevelLayout> TreeTileLayout(uint64_t tree_size) {
  std::vector<TileLevelLayout> layout;
  for (uint32_t level = 0; HashesAtTileLevel(level, tree_size) > 0; ++level) {
    const uint64_t hashes = HashesAtTileLevel(level, tree_size);
    layout.push_back(
        TileLevelLayout{level, hashes / kTileWidth,
                        static_cast<uint32_t>(hashes % kTileWidth)});
  }
  return layout;
}

absl::StatusOr<NodeInTile> LocateNode(const NodeId& node, uint64_t tree_size) {
  if (node.level > kMaxNodeLevel || node.index >= tree_size >> node.level) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", NodeIdToString(node),
                     " is not complete in a tree of size ", tree_size));
  }
  const uint32_t depth_in_tile = node.level % kTileHeight;
  // The position, within the tile level's row of nodes, of the first one under
  // `node`. It is below tree_size >> (node.level - depth_in_tile), the number
  // of nodes in that row, so the shift cannot overflow.
  const uint64_t first_hash = node.index << depth_in_tile;
  NodeInTile location;
  location.tile.level = node.level / kTileHeight;
  location.tile.index = first_hash / kTileWidth;
  location.first = static_cast<uint32_t>(first_hash % kTileWidth);
  location.count = 1u << depth_in_tile;
  ASSIGN_OR_RETURN(
      location.tile.width,
      TileWidth(location.tile.level, location.tile.index, tree_size));
  return location;
}

absl::StatusOr<std::vector<Tile>> TilesForNodes(absl::Span<const NodeId> nodes,
                                                uint64_t tree_size) {
  std::vector<Tile> tiles;
  for (const NodeId& node : nodes) {
    ASSIGN_OR_RETURN(const NodeInTile location, LocateNode(node, tree_size));
    if (std::find(tiles.begin(), tiles.end(), location.tile) == tiles.end()) {
      tiles.push_back(location.tile);
    }
  }
  return tiles;
}

absl::StatusOr<std::vector<Tile>> TilesForInclusionProof(uint64_t index,
                                                         uint64_t size) {
  ASSIGN_OR_RETURN(const ProofPlan plan, PlanInclusionProof(index, size));
  return TilesForNodes(plan.nodes, size);
}

absl::StatusOr<std::vector<Tile>> TilesForConsistencyProof(uint64_t old_size,
                                                           uint64_t new_size) {
  ASSIGN_OR_RETURN(const ProofPlan plan,
                   PlanConsistencyProof(old_size, new_size));
  return TilesForNodes(plan.nodes, new_size);
}

absl::StatusOr<std::string> EncodeEntryBundle(
    absl::Span<const std::string> entries) {
  RETURN_IF_ERROR(CheckEntryCount(entries.size()));
  std::string bundle;
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& entry = entries[i];
    if (entry.size() > kMaxEntrySize) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", i, " has ", entry.size(), " bytes, more than ",
                       kMaxEntrySize));
    }
    bundle.push_back(static_cast<char>(entry.size() >> 8));
    bundle.push_back(static_cast<char>(entry.size() & 0xff));
    bundle.append(entry);
  }
  return bundle;
}

absl::StatusOr<std::vector<std::string>> ParseEntryBundle(
    absl::string_view bundle) {
  std::vector<std::string> entries;
  while (!bundle.empty()) {
    if (entries.size() == kTileWidth) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry bundle has more than ", kTileWidth, " entries"));
    }
    if (bundle.size() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "entry bundle ends inside the length of entry ", entries.size()));
    }
    const size_t length = (static_cast<uint8_t>(bundle[0]) << 8) |
                          static_cast<uint8_t>(bundle[1]);
    bundle.remove_prefix(2);
    if (bundle.size() < length) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", entries.size(), " of the entry bundle has ",
                       length, " bytes but only ", bundle.size(), " remain"));
    }
    entries.emplace_back(bundle.substr(0, length));
    bundle.remove_prefix(length);
  }
  RETURN_IF_ERROR(CheckEntryCount(entries.size()));
  return entries;
}

}  // namespace refsum::tlog
